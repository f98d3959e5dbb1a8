"""Course sync: 1,000 generated course folders synced into an empty SQLite database by a fresh
process (cold), then again by the same process with nothing changed.

Baselines, measured in the same worker process: reading and parsing every ``course.toml`` with
``tomllib`` (the least a cold sync must do), and reading and hashing every file of every course
(the least a no-change sync must do to know nothing changed).

    python -m bench.sync worker COURSES_ROOT DB_FILE   (what the harness runs in a child process)
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, REPO_DIR, Row, failed, log, run_child, verdict
from bench.coursegen import COURSE_COUNT, ensure_courses

GROUP = "course sync"
COLD_SECONDS = 3.0
NO_CHANGE_SECONDS = 0.5
RUNS = 3


# ------------------------------------------------------------------------------------ worker


def _now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(started: tuple[float, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) since ``started``."""
    return time.perf_counter() - started[0], time.process_time() - started[1]


def worker(root: Path, db_file: Path) -> dict[str, Any]:
    """Runs in a fresh process: imports and schema first (not timed), then the two syncs."""
    import tomllib

    from sqlalchemy.orm import Session

    from lms import migrations
    from lms.courses.catalog import CourseCatalog
    from lms.db import make_engine

    engine = make_engine(f"sqlite:///{db_file}")
    migrations.upgrade(engine)

    # Baseline first, the syncs right after it, the second baseline last: neighbours in time.
    started = _now()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        tomllib.loads((folder / "course.toml").read_text(encoding="utf-8"))
    parse_only, parse_only_cpu = _since(started)

    started = _now()
    catalog = CourseCatalog(root)
    with Session(engine) as session:
        cold_report = catalog.sync(session)
        session.commit()
    cold, cold_cpu = _since(started)

    started = _now()
    with Session(engine) as session:
        warm_report = catalog.sync(session)
        session.commit()
    no_change, no_change_cpu = _since(started)

    started = _now()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        digest = hashlib.sha256()
        for path in sorted(folder.iterdir()):
            digest.update(path.read_bytes())
    hash_only, hash_only_cpu = _since(started)
    return {
        "cold_seconds": cold_cpu,
        "no_change_seconds": no_change_cpu,
        "parse_only_seconds": parse_only_cpu,
        "hash_only_seconds": hash_only_cpu,
        "cold_wall_seconds": cold,
        "no_change_wall_seconds": no_change,
        "parse_only_wall_seconds": parse_only,
        "hash_only_wall_seconds": hash_only,
        "cold": {"added": len(cold_report.added), "problems": len(cold_report.problems)},
        "no_change": {
            "unchanged": len(warm_report.unchanged),
            "added": len(warm_report.added),
            "updated": len(warm_report.updated),
            "problems": len(warm_report.problems),
        },
    }


def run(work_dir: Path) -> list[Row]:
    names = (f"cold sync of {COURSE_COUNT:,} courses, CPU", "no-change sync, CPU")
    try:
        log(f"course sync: {COURSE_COUNT:,} generated course folders")
        root = ensure_courses()
        db_file = work_dir / "sync.sqlite"
        runs = []
        for _attempt in range(RUNS):  # each in a fresh process on an empty database
            for leftover in work_dir.glob("sync.sqlite*"):
                leftover.unlink()
            child = run_child(
                [PYTHON, "-m", "bench.sync", "worker", str(root), str(db_file)],
                timeout=120,
                cwd=REPO_DIR,
            )
            if child.returncode != 0:
                raise RuntimeError(f"sync worker failed: {child.stderr.strip()[-500:]}")
            runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    except Exception as error:
        return [failed(GROUP, name, f"{type(error).__name__}: {error}") for name in names]
    keys = (
        "cold_seconds",
        "no_change_seconds",
        "parse_only_seconds",
        "hash_only_seconds",
        "cold_wall_seconds",
        "no_change_wall_seconds",
    )
    result = {key: statistics.median(run[key] for run in runs) for key in keys}
    result |= {"cold": runs[-1]["cold"], "no_change": runs[-1]["no_change"], "runs": runs}
    cold, warm = result["cold_seconds"], result["no_change_seconds"]
    cold_ok = result["cold"]["added"] == COURSE_COUNT and not result["cold"]["problems"]
    warm_ok = (
        result["no_change"]["unchanged"] == COURSE_COUNT and not result["no_change"]["updated"]
    )
    return [
        Row(
            GROUP,
            names[0],
            cold,
            "s",
            result["parse_only_seconds"],
            "tomllib parse of every course.toml",
            cold / result["parse_only_seconds"],
            f"< {COLD_SECONDS:g} s",
            verdict(cold < COLD_SECONDS and cold_ok),
            f"median of {RUNS} fresh processes, empty SQLite database; wall {result['cold_wall_seconds']:.2f} s; "
            f"added {result['cold']['added']}, problems {result['cold']['problems']}",
            result,
        ),
        Row(
            GROUP,
            names[1],
            warm,
            "s",
            result["hash_only_seconds"],
            "read + sha256 of every course file",
            warm / result["hash_only_seconds"],
            f"< {NO_CHANGE_SECONDS:g} s",
            verdict(warm < NO_CHANGE_SECONDS and warm_ok),
            f"second sync, same process; wall {result['no_change_wall_seconds']:.2f} s; unchanged "
            f"{result['no_change']['unchanged']}",
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "worker":
        print(json.dumps(worker(Path(sys.argv[2]), Path(sys.argv[3]))))
    else:
        sys.exit("usage: python -m bench.sync worker COURSES_ROOT DB_FILE")
