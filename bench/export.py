"""Report export: the app's CSV of every enrollment (``flask lms reports completions --format csv
-o FILE``) against the database's own CSV writer running the same join on the same data:
``sqlite3 -csv`` on the SQLite file, ``psql -c "\\copy (...) to stdout csv"`` on PostgreSQL."""

from __future__ import annotations

import csv
import importlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from bench.common import (
    COURSES_DIR,
    GNU_TIME,
    REPO_DIR,
    VENV_BIN,
    Row,
    database_url,
    log,
    run_child,
    skipped,
    verdict,
)
from bench.pgdata import driver_url

GROUP = "export"
MAX_RATIO = 1.5
MAX_RSS_MB = 200.0
# Bounds that keep `make bench` under ten minutes even when the export is far off its target.
BASELINE_TIMEOUT = 120.0
APP_TIMEOUT = 240.0

# One row per enrollment with the columns docs/reports.md lists for the completion report:
# learner, email, affiliate, audience role, course, path, cohort, facilitators, status, completed
# at, attendance minutes, reflections submitted, certificate code and status.
BASELINE_SQL = """
SELECT u.display_name AS learner, u.email, u.affiliate, u.audience_role, c.title AS course, e.path,
       co.title AS cohort,
       (SELECT group_concat(f.display_name, '; ')
          FROM lms_cohort_facilitator cf JOIN lms_user f ON f.id = cf.user_id
         WHERE cf.cohort_id = e.cohort_id) AS facilitators,
       e.status, e.completed_at, a.minutes AS attendance_minutes,
       (SELECT count(*) FROM lms_reflection r
         WHERE r.enrollment_id = e.id AND r.status = 'submitted') AS reflections_submitted,
       cert.code AS certificate_code,
       CASE WHEN e.path <> 'live' THEN 'not available for recordings'
            WHEN cert.id IS NULL THEN ''
            WHEN cert.revoked_at IS NULL THEN 'valid' ELSE 'revoked' END AS certificate_status
  FROM lms_enrollment e
  JOIN lms_user u ON u.id = e.user_id
  JOIN lms_course c ON c.id = e.course_id
  LEFT JOIN lms_cohort co ON co.id = e.cohort_id
  LEFT JOIN lms_attendance a ON a.enrollment_id = e.id
  LEFT JOIN lms_certificate cert ON cert.id = (SELECT max(id) FROM lms_certificate c2 WHERE c2.enrollment_id = e.id)
 ORDER BY e.id;
"""

# The same join in PostgreSQL's words: string_agg for group_concat, nothing else differs.
BASELINE_SQL_POSTGRES = (
    BASELINE_SQL.replace("group_concat(f.display_name, '; ')", "string_agg(f.display_name, '; ')")
    .strip()
    .rstrip(";")
)

# Plug point: if lms/reports/queries.py defines one of these (no arguments, returning a
# SQLAlchemy Select of the completion report), the baseline runs exactly its SQL instead.
QUERY_FUNCTIONS = ("completions_query", "completion_report_query", "completions_select")


def baseline_sql() -> tuple[str, str]:
    """The SQL for sqlite3 and where it came from."""
    try:
        queries = importlib.import_module("lms.reports.queries")
    except ImportError:
        return BASELINE_SQL, "the harness's join (bench/export.py)"
    for name in QUERY_FUNCTIONS:
        function = getattr(queries, name, None)
        if function is None:
            continue
        try:
            from sqlalchemy.dialects import sqlite

            statement = function()
            sql = str(
                statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            )
            return sql.rstrip().rstrip(
                ";"
            ) + ";", f"lms.reports.queries.{name}() compiled for SQLite"
        except Exception as error:
            return BASELINE_SQL, f"the harness's join ({name}() could not be compiled: {error})"
    return BASELINE_SQL, "the harness's join (bench/export.py)"


def _lms_env(database: Path | str, work_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update(
        {
            "SECRET_KEY": secrets.token_hex(32),
            "LMS_DATABASE_URL": database_url(database),
            "LMS_COURSES_DIR": str(COURSES_DIR),
            "LMS_INSTANCE_PATH": str(work_dir / "instance"),
        }
    )
    return env


def _read_through(path: Path) -> None:
    with open(path, "rb") as handle:
        while handle.read(8 << 20):
            pass


def _same_file(first: Path, second: Path) -> bool:
    import filecmp

    return first.exists() and second.exists() and filecmp.cmp(first, second, shallow=False)


def _count_csv_rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        return sum(1 for _ in csv.reader(handle))


def _baseline(database: Path | str, work_dir: Path) -> tuple[list[str], str, str, str, str | None]:
    """The database's own CSV writer on the same join: command, SQL, where the SQL came from,
    its name in the table, and why it cannot run (or None)."""
    if isinstance(database, Path):
        sql, source = baseline_sql()
        sqlite3 = shutil.which("sqlite3")
        missing = (
            None
            if sqlite3
            else "sqlite3 is not installed: apt-get install -y sqlite3 (make bench does it)"
        )
        _read_through(
            database
        )  # same page cache for every run: the file is read from memory by all
        return (
            [sqlite3 or "sqlite3", "-csv", "-header", "-bail", str(database), sql],
            sql,
            source,
            "sqlite3 -csv",
            missing,
        )
    psql = shutil.which("psql")
    missing = None if psql else "psql is not installed: apt-get install -y postgresql-client"
    sql = BASELINE_SQL_POSTGRES
    command = [
        psql or "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        driver_url(database),
        "-c",
        f"\\copy ({' '.join(sql.split())}) to stdout with (format csv, header)",
    ]
    return (
        command,
        sql,
        "the harness's join (bench/export.py), in PostgreSQL's words",
        "psql \\copy csv",
        missing,
    )


def run(
    database: Path | str, meta: dict[str, Any], work_dir: Path, group: str = GROUP
) -> list[Row]:
    """The app's export against the database's own CSV writer; ``database`` a SQLite file or a PostgreSQL URL."""
    GROUP = group
    names = ("CSV export time", "CSV export peak memory")
    flask = VENV_BIN / "flask"
    env = _lms_env(database, work_dir)
    baseline_cmd, sql, source, base_name, missing = _baseline(database, work_dir)
    targets = (f"<= {MAX_RATIO:g} x {base_name}", f"< {MAX_RSS_MB:g} MB")
    probe = run_child(
        [str(flask), "--app", "lms", "lms", "reports", "completions", "--help"],
        env=env,
        timeout=120,
        cwd=REPO_DIR,
    )
    if probe.returncode != 0:
        reason = (
            "`flask lms reports completions` does not exist yet (lms/reports/exports.py and "
            "queries.py are being written)"
        )
        return [
            skipped(GROUP, name, reason, target)
            for name, target in zip(names, targets, strict=True)
        ]
    if missing:
        return [
            Row(GROUP, name, target=target, status="fail", note=missing)
            for name, target in zip(names, targets, strict=True)
        ]

    expected = meta["enrollments"]
    app_out = work_dir / "export-app.csv"
    single_out = work_dir / "export-app-one-process.csv"
    base_out = work_dir / "export-baseline.csv"
    # Baseline before and after the app (their mean), so drift on a shared machine hits both sides.
    log(f"export: {base_name} baseline (1/2)")
    bases = [run_child(baseline_cmd, timeout=BASELINE_TIMEOUT, stdout_path=base_out)]
    if bases[0].returncode != 0:
        return [
            Row(
                GROUP,
                names[0],
                target=targets[0],
                status="fail",
                note=f"{base_name} baseline failed: {bases[0].stderr.strip()[:300]}",
            )
        ]
    log(f"export: the app's CSV of {expected:,} enrollments")
    app = run_child(
        [
            str(flask),
            "--app",
            "lms",
            "lms",
            "reports",
            "completions",
            "--format",
            "csv",
            "-o",
            str(app_out),
        ],
        env=env,
        timeout=APP_TIMEOUT,
        cwd=REPO_DIR,
    )
    log("export: the same CSV in one process (--jobs 1), for information")
    single = run_child(
        [
            str(flask),
            "--app",
            "lms",
            "lms",
            "reports",
            "completions",
            "--format",
            "csv",
            "--jobs",
            "1",
            "-o",
            str(single_out),
        ],
        env=env,
        timeout=APP_TIMEOUT,
        cwd=REPO_DIR,
    )
    log(f"export: {base_name} baseline (2/2)")
    bases.append(run_child(baseline_cmd, timeout=BASELINE_TIMEOUT, stdout_path=base_out))
    base_seconds = sum(b.seconds for b in bases) / len(bases)
    base_rss = max(b.max_rss_mb for b in bases)
    if app.timed_out:
        note = f"the export command was stopped after {APP_TIMEOUT:g} s ({base_name} took {bases[0].seconds:.1f} s)"
        return [
            Row(
                GROUP,
                names[0],
                app.seconds,
                "s",
                bases[0].seconds,
                f"{base_name}, same join",
                app.seconds / bases[0].seconds,
                targets[0],
                "fail",
                note,
            )
        ]
    if app.returncode != 0:
        note = f"the export command failed ({app.returncode}): {app.stderr.strip()[-400:]}"
        return [
            Row(GROUP, name, target=target, status="fail", note=note)
            for name, target in zip(names, targets, strict=True)
        ]
    app_rows = _count_csv_rows(app_out) - 1 if app_out.exists() else 0
    base_rows = _count_csv_rows(base_out) - 1
    problems = []
    if app_rows != expected:
        problems.append(f"the app wrote {app_rows:,} data rows, expected {expected:,}")
    if single.returncode == 0 and not single.timed_out and not _same_file(app_out, single_out):
        problems.append("the one-process CSV differs from the one written by several processes")
    if base_rows != expected:
        problems.append(f"{base_name} wrote {base_rows:,} rows, expected {expected:,}")
    ratio = app.seconds / base_seconds
    detail = (
        f"{app_out.stat().st_size / 1e6:.0f} MB CSV vs {base_out.stat().st_size / 1e6:.0f} MB by {base_name}; its runs "
        f"{bases[0].seconds:.1f} s and {bases[1].seconds:.1f} s; baseline SQL: {source}; process "
        "start-up included in both"
    )
    rss_how = (
        "/usr/bin/time %M"
        if os.path.exists(GNU_TIME)
        else "os.wait4 (install `time` for an exact figure)"
    )
    rows = [
        Row(
            GROUP,
            names[0],
            app.seconds,
            "s",
            base_seconds,
            f"{base_name}, same join",
            ratio,
            targets[0],
            verdict(ratio <= MAX_RATIO and not problems),
            "; ".join([*problems, detail]),
            {
                "rows": app_rows,
                "baseline_runs_seconds": [b.seconds for b in bases],
                "baseline_sql": sql,
            },
        ),
        Row(
            GROUP,
            names[1],
            app.max_rss_mb,
            "MB",
            base_rss,
            f"{base_name} peak RSS",
            app.max_rss_mb / base_rss if base_rss else None,
            targets[1],
            verdict(app.max_rss_mb < MAX_RSS_MB),
            f"peak RSS of the export process ({rss_how})",
        ),
    ]
    if single.returncode == 0 and not single.timed_out:
        rows.append(
            Row(
                GROUP,
                "CSV export time, one process",
                single.seconds,
                "s",
                base_seconds,
                f"{base_name}, same join",
                single.seconds / base_seconds,
                "information",
                "info",
                "--jobs 1: what the web download does (it streams from one process)",
            )
        )
    for path in (app_out, single_out, base_out):
        path.unlink(missing_ok=True)
    return rows
