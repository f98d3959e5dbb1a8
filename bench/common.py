"""What every measurement shares: result rows, skips, child processes with their own rusage."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
CACHE_DIR = BENCH_DIR / ".cache"
RESULTS_DIR = BENCH_DIR / "results"
COURSES_DIR = REPO_DIR / "courses"
PYTHON = sys.executable
GNU_TIME = "/usr/bin/time"  # Debian package `time`
VENV_BIN = Path(PYTHON).parent


class NotAvailable(Exception):
    """A measurement whose code (endpoint, module, command) has not landed yet."""


@dataclass
class Row:
    """One checked figure: what was measured, against what, and whether it meets its target."""

    group: str
    name: str
    figure: float | None = None
    unit: str = ""
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    target: str = ""
    status: str = "skip"  # pass | fail | skip | info
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def skipped(group: str, name: str, reason: str, target: str = "") -> Row:
    return Row(group=group, name=name, target=target, status="skip", note=f"not available yet: {reason}")


def failed(group: str, name: str, reason: str, target: str = "") -> Row:
    return Row(group=group, name=name, target=target, status="fail", note=reason)


def verdict(ok: bool) -> str:
    return "pass" if ok else "fail"


@dataclass
class ChildRun:
    returncode: int
    seconds: float
    max_rss_mb: float  # this child's own peak resident memory (and its waited-for children's)
    stdout: str
    stderr: str
    timed_out: bool = False


def run_child(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    stdout_path: Path | None = None,
    cwd: Path | None = None,
) -> ChildRun:
    """Run a command; return its wall time, ITS peak RSS, its output, and whether it timed out.

    ``resource.getrusage(RUSAGE_CHILDREN)`` would report the largest of every child this process
    ever waited for (gunicorn included). /usr/bin/time, a small C program, reports the command's
    own peak (a child forked straight from this Python process would also count the pages it
    shared before exec); without it, ``os.wait4`` on the one child is the fallback.
    Output goes to files, never pipes, so the timeout holds whatever the command prints.
    """
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    stamp = f"{os.getpid()}-{time.monotonic_ns()}"
    out_path = stdout_path or CACHE_DIR / f"stdout-{stamp}.txt"
    err_path = CACHE_DIR / f"stderr-{stamp}.txt"
    time_path = CACHE_DIR / f"time-{stamp}.txt"
    if os.path.exists(GNU_TIME):
        cmd = [GNU_TIME, "-f", "%M", "-o", str(time_path), *cmd]
    try:
        with open(out_path, "wb") as out_file, open(err_path, "wb") as err_file:
            started = time.perf_counter()
            process = subprocess.Popen(
                list(cmd), env=dict(env) if env is not None else None, stdout=out_file, stderr=err_file, cwd=cwd,
                start_new_session=True,  # its own process group: a timeout ends the command under /usr/bin/time too
            )
            status, rusage, timed_out = _wait4(process, timeout)
            seconds = time.perf_counter() - started
        stdout = "" if stdout_path else out_path.read_text(errors="replace")
        stderr = err_path.read_text(errors="replace")
        max_rss_kb = float(rusage.ru_maxrss)
        if time_path.exists():
            reported = time_path.read_text().split()
            if reported and reported[-1].isdigit():
                max_rss_kb = float(reported[-1])
    finally:
        if not stdout_path:
            out_path.unlink(missing_ok=True)
        err_path.unlink(missing_ok=True)
        time_path.unlink(missing_ok=True)
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode
    return ChildRun(returncode, seconds, max_rss_kb / 1024, stdout, stderr, timed_out)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the group this harness started for the command


def _wait4(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, Any, bool]:
    deadline = time.perf_counter() + max(timeout, 1)
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            return status, rusage, False
        if time.perf_counter() > deadline:
            _kill_group(process)
            pid, status, rusage = os.wait4(process.pid, 0)
            return status, rusage, True
        time.sleep(0.02)


def fmt_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def print_table(rows: list[Row], out: Any = sys.stdout) -> None:
    headers = ("measurement", "figure", "baseline", "ratio", "target", "result")
    body = [
        (
            f"{row.group}: {row.name}",
            fmt_number(row.figure, row.unit),
            fmt_number(row.baseline, row.unit) if row.baseline is not None else "-",
            f"{row.ratio:.2f}" if row.ratio is not None else "-",
            row.target,
            row.status.upper(),
        )
        for row in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in body)) if body else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line, file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row, cells in zip(rows, body, strict=True):
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip(), file=out)
        if row.note:
            print(f"    {row.note}", file=out)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
