"""``flask lms worker`` and ``flask lms jobs ...``: run the queue, see and retry jobs."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext

from lms.db import db_session, transaction
from lms.jobs.models import Job, JobStatus
from lms.jobs.runner import jobs_state, run_job
from lms.jobs.services import failed_job_ids, job_page, retry_job, start_sweeping, sweep

jobs_group = AppGroup(
    "jobs", help="Jobs run after commit (mail, certificates, ZIPs): list, retry, hand over."
)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop (tests, cron).")
@click.option("--name", default=None, help="The worker's name in RQ (default: RQ's own).")
@with_appcontext
def worker_command(burst: bool, name: str | None) -> None:
    """Run jobs from the Redis queue (LMS_REDIS_URL) until stopped. Start one or more per machine.

    Each job runs in a fresh process with the app's context (Flask-RQ). The worker also runs
    RQ's scheduler (retries wait out their back-off there) and hands over, every
    LMS_JOB_SWEEP_SECONDS, jobs that were committed but never reached the queue.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    state = jobs_state(app)
    if not state.uses_rq:
        raise click.ClickException(
            "LMS_REDIS_URL is not set: without Redis, jobs run inside the web process right after"
            " each commit, and no worker is needed."
        )
    # Flask-RQ starts each job as `python -m flask rq work-horse ...`, which loads the app named
    # by FLASK_APP: the same app as this command (the `lms` script means the standalone app).
    script_info = click.get_current_context().find_object(ScriptInfo)
    os.environ.setdefault(
        "FLASK_APP", (script_info.app_import_path if script_info else None) or "lms"
    )
    stop = threading.Event()
    if burst:
        sweep(app)
    else:
        start_sweeping(app, stop)
    worker = state.rq.make_worker([state.queue_name], name=name)
    try:
        worker.work(burst=burst, with_scheduler=True)
    finally:
        stop.set()


@jobs_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["queued", "running", "done", "failed"]),
    help="Only jobs in this state.",
)
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def list_command(status: str | None, limit: int) -> None:
    """Jobs, newest first: id, state, attempts, function, when, last error."""
    rows, total = job_page(JobStatus(status) if status else None, 1, limit)

    def columns(row: Job) -> list[str]:
        progress = f" {row.progress_done}/{row.progress_total}" if row.progress_total else ""
        return [
            f"{row.id:>7}",
            f"{row.status.value:<7}",
            f"{row.attempts}/{row.max_attempts}",
            f"{row.name}{progress}",
            f"{row.created_at:%Y-%m-%d %H:%M:%S}",
        ]

    echo_rows(rows, total, "job(s)", columns)


def echo_rows(
    rows: Sequence[Any], total: int, noun: str, columns: Callable[[Any], list[str]]
) -> None:
    """A listing command's output: a line per row (its columns, then the last line of its last
    error), then how many of how many rows were shown (on standard error)."""
    for row in rows:
        error = row.last_error.strip().splitlines()[-1] if row.last_error.strip() else ""
        click.echo("  ".join([*columns(row), error]).rstrip())
    click.echo(f"{len(rows)} of {total} {noun}", err=True)


@jobs_group.command("retry")
@click.argument("job_ids", nargs=-1, type=click.IntRange(1, 2**31 - 1))
@click.option("--failed", "all_failed", is_flag=True, help="Retry every failed job.")
def retry_command(job_ids: tuple[int, ...], all_failed: bool) -> None:
    """Queue failed jobs again (fresh attempts)."""
    if not job_ids and not all_failed:
        raise click.UsageError("Give job ids or --failed.")
    with transaction():
        ids = list(job_ids) or failed_job_ids()
        retried = [job_id for job_id in ids if retry_job(job_id) is not None]
    for job_id in sorted(set(ids) - set(retried)):
        click.echo(f"job {job_id}: not failed (or no such job), left alone", err=True)
    click.echo(f"{len(retried)} job(s) queued again")


@jobs_group.command("dispatch")
def dispatch_command() -> None:
    """Hand over, once, the jobs left waiting (committed but never queued, or whose worker stopped)."""
    ids = sweep(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"{len(ids)} job(s) handed over")


@jobs_group.command("run")
@click.argument("job_id", type=click.IntRange(1, 2**31 - 1))
def run_command(job_id: int) -> None:
    """Run one queued job here and now (to see its error in the terminal)."""
    if not run_job(job_id):
        raise click.ClickException(
            f"job {job_id} is not waiting to run (see `flask lms jobs list`)"
        )
    db_session.expire_all()
    row = db_session.get(Job, job_id)
    click.echo(f"job {job_id}: {row.status.value if row else 'gone'}")
    if row is not None and row.last_error:
        click.echo(row.last_error, err=True)
