"""Every test passes alone: a sample of one test per module, each run in a pytest of its own.

A test that passes in the suite only because another test ran first (a module-level cache
filled, an environment variable or a file left behind) fails here. The sample is drawn from
the collected test ids by a seed (printed; ``--seed N`` draws the same one again), one test per
module, and the tests run ``--jobs`` at a time (2 by default), on SQLite: the PostgreSQL
database of LMS_TEST_DATABASE_URL is shared, so tests running side by side would empty each
other's tables. (Likewise each module's Redis tests have a Redis database of their own unless
LMS_TEST_REDIS_URL names one for all; tests/test_page_caches.py empties it: leave it unset here.)

    python .ci/run_alone.py [--seed N] [--jobs 2] [--per-module 1] [pytest selection ...]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 600  # seconds for one test, its process's start included


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()  # each line as its test ends, also through a pipe (CI's log)


def pytest_command(*args: str) -> list[str]:
    # No random order inside a run of one test, and no cache written by runs side by side.
    return [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider", *args]


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "LMS_TEST_DATABASE_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def collect(selection: list[str]) -> list[str]:
    completed = subprocess.run(
        pytest_command("--collect-only", "-q", "-m", "not e2e", *selection),
        cwd=REPO,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    # The ids come first, one a line, then a blank line and the count (and any warnings).
    listing = completed.stdout.split("\n\n", 1)[0].splitlines()
    ids = [line for line in listing if "::" in line]
    if completed.returncode != 0 or not ids:
        sys.exit(
            f"collecting the tests failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
        )
    return ids


def sample(ids: list[str], seed: int, per_module: int) -> list[str]:
    """``per_module`` tests of each module, drawn by ``seed``; a module's draw does not depend
    on the other modules, so adding a test elsewhere leaves it alone."""
    modules: dict[str, list[str]] = defaultdict(list)
    for test_id in ids:
        modules[test_id.split("::", 1)[0]].append(test_id)
    chosen = []
    for module, tests in sorted(modules.items()):
        draw = random.Random(f"{seed}:{module}")
        chosen += sorted(draw.sample(sorted(tests), min(per_module, len(tests))))
    return chosen


def run_alone(test_id: str) -> tuple[str, bool, float, str]:
    started = time.monotonic()
    try:
        completed = subprocess.run(
            pytest_command("-q", test_id),
            cwd=REPO,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        # 5: nothing collected (the id did not survive the round trip) counts as a failure too.
        passed, output = completed.returncode == 0, completed.stdout + completed.stderr
    except subprocess.TimeoutExpired as error:
        passed, output = False, f"timed out after {TIMEOUT} s\n{error.stdout or ''}"
    return test_id, passed, time.monotonic() - started, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="draw this sample again")
    parser.add_argument("--jobs", type=int, default=2, help="tests running at once")
    parser.add_argument("--per-module", type=int, default=1, help="tests drawn from each module")
    parser.add_argument("selection", nargs="*", help="pytest paths to draw from (default: all)")
    options = parser.parse_args()
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(10**6)

    chosen = sample(collect(options.selection), seed, options.per_module)
    say(
        f"every test passes alone: {len(chosen)} tests (one per module, seed {seed};"
        f" again with --seed {seed}), {options.jobs} at a time"
    )
    started = time.monotonic()
    failed: list[tuple[str, str]] = []
    with ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for future in as_completed(pool.submit(run_alone, test_id) for test_id in chosen):
            test_id, passed, seconds, output = future.result()
            say(f"{'ok    ' if passed else 'FAILED'} {seconds:5.1f} s  {test_id}")
            if not passed:
                failed.append((test_id, output))
    for test_id, output in failed:
        say(f"\n==== {test_id} (alone) ====\n{output[-6000:]}")
    say(
        f"\n{len(chosen) - len(failed)} passed alone, {len(failed)} failed"
        f" in {time.monotonic() - started:.0f} s (seed {seed})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
