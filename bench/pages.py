"""Pages: requests per second and p99 latency of the LMS under gunicorn, against a bare Flask app
served the same way, both driven by wrk from the same machine in the same run."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    Browser,
    NotAvailable,
    Row,
    clean_environment,
    failed,
    gunicorn,
    lms_environment,
    log,
    server_cpu_seconds,
    skipped,
    verdict,
)

GROUP = "pages"
USER_AGENT = "lms-bench/1 (wrk)"  # the same on login and under wrk: Flask-Login's strong session protection hashes it
WORKERS = 2
CONNECTIONS = 16
# Under writes a page and the bare app take turns of this many seconds (wrk takes whole seconds),
# as many as make twice the read-only run's length for each.
TURN_SECONDS = 2
THREADS = 2
P99_LIMIT_MS = 100.0
MIN_SHARE_UNDER_WRITES = (
    0.8  # a page's ratio while the mixed load writes, as a share of its read-only ratio
)


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    login: str | None  # None, "learner" or "admin"
    min_ratio: float
    check: Callable[[int, str, dict[str, Any]], None] | None = None


def _must_exist(what: str) -> Callable[[int, str, dict[str, Any]], None]:
    def check(status: int, body: str, meta: dict[str, Any]) -> None:
        if status == 404:
            raise NotAvailable(f"GET {what} answers 404 (its view has not landed)")

    return check


def _dashboard_check(status: int, body: str, meta: dict[str, Any]) -> None:
    if status == 404:
        raise NotAvailable("GET /me answers 404")
    titles = meta.get("learner_course_titles") or []
    if status == 200 and not any(
        html.escape(title, quote=False) in body or title in body for title in titles
    ):
        raise NotAvailable(
            "/me lists none of the benchmark learner's courses "
            f"({meta.get('learner_enrollments')} enrollments), so it is still the placeholder page"
        )


PAGES = (
    Page("catalog /", "/", None, 0.35),
    Page(
        "course page",
        "/courses/esp-racial-justice-dialogue",
        None,
        0.35,
        _must_exist("/courses/esp-racial-justice-dialogue"),
    ),
    Page("learner dashboard /me", "/me", "learner", 0.25, _dashboard_check),
    Page(
        "completion report, page 1",
        "/admin/reports/completions",
        "admin",
        0.25,
        _must_exist("/admin/reports/completions"),
    ),
)


# ------------------------------------------------------------------------------------- wrk

_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk_available() -> str | None:
    return shutil.which("wrk")


def run_wrk(
    url: str,
    seconds: float,
    cookie: str | None = None,
    connections: int = CONNECTIONS,
    threads: int = THREADS,
) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        "--timeout",
        "5s",
        "-H",
        f"User-Agent: {USER_AGENT}",
    ]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if out.returncode != 0:
        raise RuntimeError(
            f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}"
        )
    return parse_wrk(out.stdout)


def parse_wrk(text: str) -> dict[str, Any]:
    def latency(label: str) -> float | None:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
        return float(match.group(1)) * _UNITS_MS[match.group(2)] if match else None

    read = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB|TB) read", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    if not rps:
        raise RuntimeError(f"cannot read wrk's output:\n{text}")
    return {
        "rps": float(rps.group(1)),
        "requests": int(total.group(1)) if total else None,
        "p50_ms": latency("50"),
        "p90_ms": latency("90"),
        "p99_ms": latency("99"),
        "non_2xx_3xx": int(bad.group(1)) if bad else 0,
        "bytes_per_response": float(read.group(2)) * _BYTES[read.group(3)] / int(read.group(1))
        if read and int(read.group(1))
        else None,
        # read errors are gunicorn's sync workers closing the connection after each response
        "socket_errors": dict(
            zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
        )
        if errors
        else {},
        "raw": text,
    }


def warm_up(
    url: str, seconds: float, cookie: str | None = None, tolerance: float = 0.15, most: int = 5
) -> list[float]:
    """Short runs until two in a row agree on the rate (at most ``most``); their rates.

    The measurement is of the steady state. A worker's first request to a kept page builds it
    (the report's first page counts a million enrollments: a second or more per worker), and
    with two workers sharing the cores with wrk that can outlast a fixed warm-up and land in
    the measured run. The rates of the warm-up runs go into the results, so the cold cost
    stays visible.
    """
    rates = [run_wrk(url, seconds, cookie, connections=4)["rps"]]
    while len(rates) < most:
        rates.append(run_wrk(url, seconds, cookie, connections=4)["rps"])
        if abs(rates[-1] - rates[-2]) <= tolerance * max(rates[-1], rates[-2]):
            break
    return rates


# ------------------------------------------------------------------------------------- run


def run(
    database: Path | str,
    meta: dict[str, Any],
    work_dir: Path,
    seconds: float = 10.0,
    warmup: float = 2.0,
    group: str = GROUP,
    writes: Callable[[Path], AbstractContextManager[Any]] | None = None,
) -> list[Row]:
    """Both servers run side by side (an idle one costs nothing); the bare app is measured before
    the first page and after each page, and each page's baseline is the mean of the bare runs
    just before and just after it, so load from other processes on the shared cores hits both.

    ``database`` is the SQLite file or a PostgreSQL URL. With ``writes`` (a context manager that
    keeps the mixed load writing to the same database, ``bench.load.writing``), every page is
    measured again while it runs, against the bare app measured under the same load, and each
    page's ratio under writes is compared with its read-only ratio. The writers' server shares
    the measured server's page-cache store (``cache_dir``), as two servers of one site do: their
    bumps reach its kept pages, so a cache thrown away by the writes shows here."""
    cache_dir = work_dir / "instance" / "cache"
    settings = (
        f"wrk -t{THREADS} -c{CONNECTIONS} -d{seconds:g}s --latency; gunicorn -w {WORKERS} (sync)"
    )
    if not wrk_available():
        return [
            failed(
                group,
                "all pages",
                "wrk is not installed: apt-get install -y wrk (make bench does it)",
            )
        ]
    rows: list[Row] = []
    bare_runs: list[dict[str, Any]] = []
    try:
        with (
            gunicorn(
                "bench.bare_app:app",
                clean_environment(),
                work_dir / "gunicorn-bare.log",
                workers=WORKERS,
            ) as bare,
            gunicorn(
                "lms:create_app()",
                lms_environment(database, work_dir / "instance", LMS_CACHE_DIR=str(cache_dir)),
                work_dir / "gunicorn-lms.log",
                workers=WORKERS,
            ) as lms,
        ):
            status = Browser(bare, USER_AGENT).get("/").status
            if status != 200:
                raise RuntimeError(f"the bare app answered {status}")
            run_wrk(bare + "/", warmup, connections=4)
            browsers: dict[str, Browser] = {}  # one per person, logged in once
            cpu_read_only: dict[str, float] = {}
            cpu_under: dict[str, float] = {}

            def measure(
                label: str, runs: list[dict[str, Any]], into: list[Row], **options: Any
            ) -> dict[str, float]:
                return _measure(
                    label, bare, lms, meta, browsers, seconds, warmup, runs, into, **options
                )

            read_only = measure(group, bare_runs, rows, cpu=cpu_read_only)
            if writes is not None:
                under_group = f"{group} under writes"
                under_runs: list[dict[str, Any]] = []
                under_rows: list[Row] = []
                with writes(cache_dir) as writing:
                    under = measure(
                        under_group,
                        under_runs,
                        under_rows,
                        slices=max(1, round(seconds / TURN_SECONDS)) * 2,
                        cpu=cpu_under,
                    )
                note = getattr(writing, "note", "")
                if under_runs:
                    mean = sum(r["rps"] for r in under_runs) / len(under_runs)
                    rows.append(
                        Row(
                            under_group,
                            "bare Flask app req/s (baseline, under writes)",
                            mean,
                            "req/s",
                            target="-",
                            status="info",
                            note="; ".join(
                                filter(
                                    None,
                                    [
                                        f"{len(under_runs)} runs of {TURN_SECONDS} s, taking "
                                        "turns with the pages: "
                                        f"{min(r['rps'] for r in under_runs):.0f} to "
                                        f"{max(r['rps'] for r in under_runs):.0f} req/s",
                                        note,
                                    ],
                                )
                            ),
                        )
                    )
                for row in (
                    under_rows
                ):  # what decides under writes is the share of the read-only ratio, below
                    if row.status in ("pass", "fail"):
                        row.status, row.target = "info", "information"
                rows.extend(under_rows)
                for page in PAGES:
                    if page.name in read_only and page.name in under:
                        before, after = read_only[page.name], under[page.name]
                        share = after / before if before else None
                        rows.append(
                            Row(
                                under_group,
                                f"{page.name}: ratio under writes / read-only",
                                after,
                                "",
                                before,
                                "read-only ratio",
                                share,
                                f">= {MIN_SHARE_UNDER_WRITES:g} of read-only",
                                verdict(share is not None and share >= MIN_SHARE_UNDER_WRITES),
                                f"ratio to the bare app {after:.2f} while the mixed load writes, "
                                f"{before:.2f} read-only"
                                + _cpu_note(cpu_read_only.get(page.name), cpu_under.get(page.name)),
                            )
                        )
    except Exception as error:
        rows.append(failed(group, "servers", f"{type(error).__name__}: {error}"))
    if bare_runs:
        mean = sum(r["rps"] for r in bare_runs) / len(bare_runs)
        rows.insert(
            0,
            Row(
                group,
                "bare Flask app req/s (baseline)",
                mean,
                "req/s",
                target="-",
                status="info",
                note=f"{len(bare_runs)} runs: "
                + ", ".join(f"{r['rps']:.0f}" for r in bare_runs)
                + f" req/s; {settings}",
                extra={"runs": [{k: v for k, v in r.items() if k != "raw"} for r in bare_runs]},
            ),
        )
    return rows


def _measure(
    group: str,
    bare: str,
    lms: str,
    meta: dict[str, Any],
    browsers: dict[str, Browser],
    seconds: float,
    warmup: float,
    bare_runs: list[dict[str, Any]],
    rows: list[Row],
    slices: int = 1,
    cpu: dict[str, float] | None = None,
) -> dict[str, float]:
    """Every page once, the bare app before the first and after each; the rows, and each
    measured page's ratio to the bare app.

    With ``slices`` above one, each page and the bare app take turns instead, ``slices`` runs
    each of ``TURN_SECONDS``, and the page's baseline is the bare runs between its own: under
    a load that changes from one second to the next (the mixed load's exports come and go), runs
    ten seconds apart see different loads, and a ratio between them is mostly that difference.
    ``cpu`` gets each page's CPU time per request in the LMS server, in microseconds."""
    cpu = {} if cpu is None else cpu
    if slices == 1:
        log(f"{group}: bare Flask app")
        bare_runs.append(run_wrk(bare + "/", seconds))
    ratios: dict[str, float] = {}
    for page in PAGES:
        row_name, target = f"{page.name} req/s", f">= {page.min_ratio} of bare"
        try:
            if page.login:
                if page.login not in browsers:
                    browsers[page.login] = Browser(lms, USER_AGENT)
                    email = meta["admin_email"] if page.login == "admin" else meta["learner_email"]
                    browsers[page.login].login(email, meta["password"])
                browser, cookie = browsers[page.login], browsers[page.login].cookie_header()
            else:
                browser, cookie = Browser(lms, USER_AGENT), None  # no cookie, as wrk sends it
            response = browser.get(page.path)
            status, body = response.status, response.text
            if page.check:
                page.check(status, body, meta)
            if status != 200:
                raise RuntimeError(
                    f"GET {page.path} answered {status}"
                    + (" (session not accepted?)" if status in (302, 303) else "")
                )
            log(f"{group}: {page.name} ({page.path})")
            warmups = warm_up(lms + page.path, warmup, cookie)
            cpu_before = server_cpu_seconds(lms)
            if slices > 1:
                result, neighbours = _take_turns(bare + "/", lms + page.path, cookie, slices)
            else:
                result = run_wrk(lms + page.path, seconds, cookie)
            result["warmup_rps"] = warmups
            # What the LMS server spent per request (it is idle while the bare app runs): a
            # kept page thrown away by writes shows here, whatever else competes for the cores.
            cpu_after = server_cpu_seconds(lms)
            if cpu_before is not None and cpu_after is not None and result["requests"]:
                result["server_cpu_us"] = 1e6 * (cpu_after - cpu_before) / result["requests"]
            # wrk counts a 3xx as a success: a lost session would measure the login redirect.
            result["page_bytes"] = len(body.encode())
            if result["bytes_per_response"] is not None and result[
                "bytes_per_response"
            ] < 0.8 * len(body.encode()):
                raise RuntimeError(
                    f"wrk's responses averaged {result['bytes_per_response']:.0f} bytes, the page "
                    f"has {len(body.encode())}: "
                    "redirects or errors instead of the page?"
                )
        except NotAvailable as reason:
            rows.append(skipped(group, row_name, str(reason), target))
            continue
        except Exception as error:
            rows.append(failed(group, row_name, f"{type(error).__name__}: {error}", target))
            continue
        if slices > 1:
            bare_runs.extend(neighbours)
        else:
            log(f"{group}: bare Flask app")
            bare_runs.append(run_wrk(bare + "/", seconds))
            neighbours = bare_runs[-2:]
        page_rows = _page_rows(page, result, neighbours, group)
        rows.extend(page_rows)
        if page_rows[0].ratio is not None:
            ratios[page.name] = page_rows[0].ratio
            if "server_cpu_us" in result:
                cpu[page.name] = result["server_cpu_us"]
    return ratios


def _cpu_note(read_only: float | None, under_writes: float | None) -> str:
    if read_only is None or under_writes is None:
        return ""
    return (
        f"; the LMS server's CPU per request {under_writes:,.0f} µs under writes, "
        f"{read_only:,.0f} µs read-only ({under_writes / read_only:.2f} ×)"
    )


def _take_turns(
    bare: str, page: str, cookie: str | None, slices: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The bare app and the page in turns, ``slices`` runs of each lasting ``TURN_SECONDS``: the
    page's runs as one result (its rate the mean rate, the slowest run's latencies) and the bare
    app's runs."""
    length = TURN_SECONDS
    bare_runs: list[dict[str, Any]] = []
    page_runs: list[dict[str, Any]] = []
    for _ in range(slices):
        bare_runs.append(run_wrk(bare, length))
        page_runs.append(run_wrk(page, length, cookie))
    socket_errors: dict[str, int] = {}
    for run in page_runs:
        for kind, count in run["socket_errors"].items():
            socket_errors[kind] = socket_errors.get(kind, 0) + count
    sizes = [run["bytes_per_response"] for run in page_runs if run["bytes_per_response"]]

    def slowest(key: str) -> float | None:
        values = [run[key] for run in page_runs if run[key] is not None]
        return max(values) if values else None

    combined = {
        "rps": sum(run["rps"] for run in page_runs) / slices,
        "requests": sum(run["requests"] for run in page_runs),
        "non_2xx_3xx": sum(run["non_2xx_3xx"] for run in page_runs),
        "socket_errors": socket_errors,
        "bytes_per_response": sum(sizes) / len(sizes) if sizes else None,
        "p50_ms": slowest("p50_ms"),
        "p90_ms": slowest("p90_ms"),
        "p99_ms": slowest("p99_ms"),
        "runs_rps": [run["rps"] for run in page_runs],
    }
    return combined, bare_runs


def _page_rows(
    page: Page, result: dict[str, Any], neighbours: list[dict[str, Any]], group: str = GROUP
) -> list[Row]:
    bare_rps = sum(r["rps"] for r in neighbours) / len(neighbours)
    bare_p99 = sum(r["p99_ms"] or 0 for r in neighbours) / len(neighbours)
    ratio = result["rps"] / bare_rps if bare_rps else None
    problems = (
        [f"{result['non_2xx_3xx']} responses were not 2xx/3xx"] if result["non_2xx_3xx"] else []
    )
    warmups = result.get("warmup_rps") or []
    warmup_note = (
        "warm-up runs: " + ", ".join(f"{rate:.0f}" for rate in warmups) + " req/s"
        if warmups
        else ""
    )
    extra = {k: v for k, v in result.items() if k != "raw"} | {
        "bare_runs_rps": [r["rps"] for r in neighbours]
    }
    p99 = result["p99_ms"]
    # wrk leaves timed-out requests out of its latencies: with every request timed out it
    # prints a p99 of 0, which is no pass.
    timeouts = result["socket_errors"].get("timeout", 0)
    latency_problems = (
        [f"{timeouts} requests timed out (> 5 s), not counted in wrk's latencies"]
        if timeouts
        else []
    )
    if not result["requests"]:
        latency_problems.append("no request completed")
    latency_note = (
        f"p50 {result['p50_ms']:.1f} ms, p90 {result['p90_ms']:.1f} ms"
        if result["p50_ms"] and result["p90_ms"]
        else ""
    )
    return [
        Row(
            group,
            f"{page.name} req/s",
            result["rps"],
            "req/s",
            bare_rps,
            "bare Flask app (runs before and after)",
            ratio,
            f">= {page.min_ratio} of bare",
            verdict(ratio is not None and ratio >= page.min_ratio and not problems),
            "; ".join(
                filter(
                    None,
                    [
                        *problems,
                        warmup_note,
                        f"the LMS server's CPU {result['server_cpu_us']:,.0f} µs per request"
                        if "server_cpu_us" in result
                        else "",
                    ],
                )
            ),
            extra,
        ),
        Row(
            group,
            f"{page.name} p99",
            p99,
            "ms",
            bare_p99,
            "bare Flask app",
            (p99 / bare_p99) if p99 and bare_p99 else None,
            f"< {P99_LIMIT_MS:g} ms",
            verdict(p99 is not None and p99 < P99_LIMIT_MS and not latency_problems),
            "; ".join(filter(None, [latency_note, *latency_problems])),
        ),
    ]
