"""What every measurement shares: result rows, skips, child processes with their own rusage,
the machine's description, the app under gunicorn, and a small browser that logs in through
the real form."""

from __future__ import annotations

import contextlib
import html
import http.client
import http.cookiejar
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
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
    return Row(
        group=group, name=name, target=target, status="skip", note=f"not available yet: {reason}"
    )


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
                list(cmd),
                env=dict(env) if env is not None else None,
                stdout=out_file,
                stderr=err_file,
                cwd=cwd,
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


def format_table(
    headers: Sequence[str],
    body: Sequence[Sequence[str]],
    notes: Sequence[str] | None = None,
    out: Any = sys.stdout,
) -> None:
    """Columns padded to their widest cell; ``notes[i]``, when given, goes indented under row i."""
    widths = [
        max(len(h), *(len(line[i]) for line in body)) if body else len(h)
        for i, h in enumerate(headers)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for index, cells in enumerate(body):
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip(), file=out)
        if notes and notes[index]:
            print(f"    {notes[index]}", file=out)


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
    format_table(headers, body, [row.note for row in rows], out)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------- machine


def _tool_version(cmd: list[str]) -> str | None:
    if not shutil.which(cmd[0]):
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    return (
        (out.stdout or out.stderr).strip().splitlines()[0]
        if (out.stdout or out.stderr).strip()
        else "?"
    )


def machine() -> dict[str, Any]:
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_at_start": load,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite_library": sqlite3.sqlite_version,
        "sqlite3_cli": _tool_version(["sqlite3", "--version"]),
        "wrk": _tool_version(["wrk", "--version"]),
    }


# ------------------------------------------------------------------------------------- servers


def free_port() -> int:
    """A free local port: from ``BENCH_PORTS`` ("18000-18099") when set (a machine shared by
    several people hands each a range), else any the system picks."""
    wanted = os.environ.get("BENCH_PORTS", "")
    if wanted:
        low, _, high = wanted.partition("-")
        for port in range(int(low), int(high or low) + 1):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        raise RuntimeError(f"no free port in BENCH_PORTS={wanted}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment() -> dict[str, str]:
    """This process's environment without ``LMS_*``: a setting in the caller's shell must not leak in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}


def database_url(database: Path | str) -> str:
    """A SQLite file's URL; a URL (PostgreSQL) as it is."""
    return f"sqlite:///{database}" if isinstance(database, Path) else database


def lms_environment(database: Path | str, instance_dir: Path, **settings: str) -> dict[str, str]:
    """The environment that serves ``lms:create_app()`` on ``database`` (a SQLite file or a
    database URL): a fresh secret key, the shipped courses, mail to the log; ``settings`` adds
    or overrides ``LMS_*`` variables."""
    return {
        **clean_environment(),
        "SECRET_KEY": secrets.token_hex(32),
        "LMS_DATABASE_URL": database_url(database),
        "LMS_COURSES_DIR": str(COURSES_DIR),
        "LMS_INSTANCE_PATH": str(instance_dir),
        "LMS_MAIL_BACKEND": "log",
        # Links that leave the server (mail) are built from the base URL, never the Host; the
        # harness follows none of them, so any address will do.
        "LMS_BASE_URL": "http://127.0.0.1",
        **settings,
    }


def gunicorn_available() -> bool:
    return importlib.util.find_spec("gunicorn") is not None


@contextlib.contextmanager
def gunicorn(
    app_spec: str,
    env: Mapping[str, str],
    log_path: Path,
    *,
    workers: int = 2,
    threads: int = 1,
    keepalive: int | None = None,
) -> Iterator[str]:
    """Serve ``app_spec`` with gunicorn; yield its base URL; stop it after.

    ``threads`` 1 runs sync workers (one request at a time per process); more runs gthread
    workers with that many threads each. Everything gunicorn and the app write to stderr (its
    own log, Flask's logged exceptions) goes to ``log_path``, for the caller to read.
    """
    port = free_port()
    worker_class = (
        ["--worker-class", "sync"]
        if threads <= 1
        else ["--worker-class", "gthread", "--threads", str(threads)]
    )
    cmd = [
        PYTHON,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        *worker_class,
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        *(["--keep-alive", str(keepalive)] if keepalive else []),
        app_spec,
    ]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            cmd,
            env=dict(env),
            cwd=REPO_DIR,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    _SERVER_PIDS[base] = process.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn {app_spec} exited with {process.returncode}: {tail(log_path)}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"gunicorn {app_spec} did not listen within 60 s: {tail(log_path)}"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        _SERVER_PIDS.pop(base, None)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the master stops its own workers
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# The master process of each gunicorn that ``gunicorn`` serves, by its base URL.
_SERVER_PIDS: dict[str, int] = {}


def server_cpu_seconds(base: str) -> float | None:
    """The CPU time (user and system) the gunicorn at ``base`` and its workers have used so far;
    None when it cannot be read (psutil comes with Locust, in the ``bench`` extra)."""
    try:
        import psutil

        master = psutil.Process(_SERVER_PIDS[base])
        processes = [master, *master.children(recursive=True)]
        return sum(sum(p.cpu_times()[:2]) for p in processes)
    except Exception:
        return None


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ------------------------------------------------------------------------------------- HTTP

USER_AGENT = "lms-bench/1"
# A request that never got an HTTP answer: refused, reset, timed out, or a malformed response.
CONNECTION_ERRORS = (OSError, http.client.HTTPException)


@dataclass
class Response:
    status: int
    headers: Any  # http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        """The redirect's target as a path on this site ("" when there is none)."""
        target = self.headers.get("Location", "") if self.headers else ""
        parts = urllib.parse.urlsplit(target)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the caller sees the 3xx itself and decides what it means


_CSRF_FIELD = (
    re.compile(r'name="csrf_token"[^>]*value="([^"]+)"'),
    re.compile(r'value="([^"]+)"[^>]*name="csrf_token"'),
)


def csrf_token_in(page: str) -> str | None:
    """The ``csrf_token`` of the first form on ``page`` (the login form has one; a signed-in
    page's language switch too)."""
    for pattern in _CSRF_FIELD:
        match = pattern.search(page)
        if match:
            return html.unescape(match.group(1))
    return None


class Browser:
    """One person's browser: its own cookie jar and User-Agent (Flask-Login's strong session
    protection hashes it), redirects returned rather than followed. One thread each: another
    thread takes a ``tab()``."""

    def __init__(
        self,
        base: str,
        user_agent: str = USER_AGENT,
        timeout: float = 30,
        jar: http.cookiejar.CookieJar | None = None,
    ) -> None:
        self.base = base
        self.user_agent = user_agent
        self.timeout = timeout
        self.jar = jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.opener.addheaders = [("User-Agent", user_agent)]

    def request(
        self,
        method: str,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """One request; an HTTP error status is a response, a connection failure raises one of CONNECTION_ERRORS."""
        data = None
        all_headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base + path, data=data, headers=all_headers, method=method
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return Response(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            with error:
                return Response(error.code, error.headers, error.read())

    def tab(self) -> Browser:
        """Another tab of this browser: the same cookies, its own connection, usable from another thread."""
        return Browser(
            self.base, self.user_agent, self.timeout, jar=self.jar
        )  # a CookieJar locks itself

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def login_form(self) -> tuple[Response, str]:
        """GET the login page; its response and the form's CSRF token."""
        page = self.get("/auth/login")
        token = csrf_token_in(page.text)
        if page.status != 200 or not token:
            raise RuntimeError(
                f"GET /auth/login answered {page.status}"
                + ("" if token else " without a csrf_token")
            )
        return page, token

    def submit_login(self, token: str, email: str, password: str) -> Response:
        return self.post(
            "/auth/login",
            form={"csrf_token": token, "email": email, "password": password, "next": ""},
        )

    def login(self, email: str, password: str) -> None:
        """Log in through the real form (CSRF on); raise unless the app answers with its redirect."""
        _page, token = self.login_form()
        response = self.submit_login(token, email, password)
        if response.status not in (302, 303):
            raise RuntimeError(f"login as {email} answered {response.status}, not a redirect")
        if not self.cookie_header():
            raise RuntimeError(f"login as {email} set no cookie")

    def cookie_header(self) -> str:
        """The session as a Cookie header, for a tool (wrk) that replays it."""
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)
