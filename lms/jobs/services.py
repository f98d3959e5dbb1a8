"""Operations on jobs shared by the admin page and ``flask lms jobs``: list, retry, sweep.

They flush; the request or the CLI command commits (a retried job is handed over after that).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, or_, select, update

from lms.db import database_state, db_session, utcnow
from lms.jobs.models import Job, JobStatus
from lms.jobs.runner import _AFTER_COMMIT, dispatch, job_function, jobs_state, rq_job_id

logger = logging.getLogger("lms.jobs")


def job_page(status: JobStatus | None, number: int, size: int) -> tuple[list[Job], int]:
    """Jobs newest first, optionally of one status, and how many there are."""
    query = select(Job)
    count = select(func.count()).select_from(Job)
    if status is not None:
        query = query.where(Job.status == status)
        count = count.where(Job.status == status)
    rows = list(
        db_session.scalars(query.order_by(Job.id.desc()).offset((number - 1) * size).limit(size))
    )
    return rows, int(db_session.scalar(count) or 0)


def latest_job(func: Any, key: str) -> Job | None:
    """The newest job of function ``func`` filed under ``key`` (see ``enqueue(..., _key=)``)."""
    return db_session.scalar(
        select(Job)
        .where(Job.name == func.lms_job.name, Job.key == key)
        .order_by(Job.id.desc())
        .limit(1)
    )


def status_counts() -> dict[JobStatus, int]:
    counts = dict.fromkeys(JobStatus, 0)
    for status, number in db_session.execute(select(Job.status, func.count()).group_by(Job.status)):
        counts[status] = number
    return counts


def retry_job(job_id: int) -> Job | None:
    """Queue a failed job again with fresh attempts; None unless job ``job_id`` has failed.

    Handed over once the caller commits.
    """
    changed = db_session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.failed)
        .values(
            status=JobStatus.queued, attempts=0, run_after=None, started_at=None, finished_at=None
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
    if not changed:
        return None
    db_session.info.setdefault(_AFTER_COMMIT, []).append(job_id)
    return db_session.get(Job, job_id, populate_existing=True)


def failed_job_ids() -> list[int]:
    return list(
        db_session.scalars(select(Job.id).where(Job.status == JobStatus.failed).order_by(Job.id))
    )


# -- the sweep ----------------------------------------------------------------------------------


def sweep(app: Flask) -> list[int]:
    """Hand over jobs left waiting, in their own short transaction; returns their ids.

    A job is left waiting when the process died between its commit and its hand-over, when
    Redis was unreachable then, or when its worker stopped in the middle of a run (its attempt
    counts as failed). Only jobs older than ``LMS_JOB_SWEEP_AFTER_SECONDS`` are looked at, so
    one being handed over right now is not handed twice (which would be harmless anyway: a job
    runs only after claiming its row).
    """
    state = jobs_state(app)
    now = utcnow()
    grace = timedelta(seconds=float(app.config["LMS_JOB_SWEEP_AFTER_SECONDS"]))
    with database_state(app).session_factory() as session, session.begin():
        for job_id, name, started_at, attempts, max_attempts in session.execute(
            select(Job.id, Job.name, Job.started_at, Job.attempts, Job.max_attempts).where(
                Job.status == JobStatus.running
            )
        ).all():
            if started_at is None or started_at + timedelta(seconds=_timeout(name)) + grace > now:
                continue
            stopped = {"last_error": "The worker stopped during this attempt.", "finished_at": now}
            if attempts < max_attempts:
                stopped.update(status=JobStatus.queued, run_after=None)
            else:
                stopped.update(status=JobStatus.failed)
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.running)
                .values(**stopped)
            )
        due = list(
            session.scalars(
                select(Job.id)
                .where(
                    Job.status == JobStatus.queued,
                    or_(Job.run_after.is_(None), Job.run_after <= now - grace),
                    Job.created_at <= now - grace,
                )
                .order_by(Job.id)
            )
        )
        attempts_of = (
            {
                row.id: row.attempts
                for row in session.execute(select(Job.id, Job.attempts).where(Job.id.in_(due)))
            }
            if due
            else {}
        )
    if not due:
        return []
    if state.uses_rq:
        waiting = _waiting_in_rq(state, due, attempts_of)
        due = [job_id for job_id in due if job_id not in waiting]
    else:
        with state.lock:
            due = [job_id for job_id in due if job_id not in state.in_flight]
    if due:
        logger.info("Handing over %s job(s) left waiting: %s", len(due), due)
        with app.app_context():
            dispatch(app, due)
    return due


def _timeout(name: str) -> int:
    try:
        return job_function(name).lms_job.timeout  # type: ignore[attr-defined]
    except LookupError:
        return 600


def _waiting_in_rq(state: Any, ids: list[int], attempts_of: dict[int, int]) -> set[int]:
    """The ids among ``ids`` that RQ already holds, queued, scheduled or started."""
    from rq.job import JobStatus as RQStatus

    with state.app.app_context():
        queue = state.queue()
        found = set()
        for job_id in ids:
            rq_job = queue.fetch_job(rq_job_id(job_id, attempts_of.get(job_id, 0)))
            if rq_job is not None and rq_job.get_status(refresh=False) in (
                RQStatus.QUEUED,
                RQStatus.SCHEDULED,
                RQStatus.STARTED,
                RQStatus.DEFERRED,
            ):
                found.add(job_id)
        return found


def start_sweeping(app: Flask, stop: threading.Event) -> threading.Thread:
    """Sweep every ``LMS_JOB_SWEEP_SECONDS`` on a daemon thread until ``stop`` is set (the worker)."""

    def loop() -> None:
        while not stop.is_set():
            try:
                sweep(app)
            except Exception:  # the database away for a moment: try again next round
                logger.exception("The job sweep failed")
            stop.wait(float(app.config["LMS_JOB_SWEEP_SECONDS"]))

    thread = threading.Thread(target=loop, name="lms-job-sweep", daemon=True)
    thread.start()
    return thread
