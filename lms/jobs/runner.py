"""How jobs are asked for, handed over after commit, claimed, run, retried (see ``lms.jobs``).

The ``lms_job`` row is the truth in both modes; a queue only carries its id. Running a job
starts by *claiming* its row (one UPDATE that moves it from queued to running), so a job handed
over twice (a sweep after a slow hand-over, two workers) still runs once.

One module, a little over the engine's usual length, because its parts are one loop: asking for
a job (:func:`enqueue`) hands it over after commit through the per-app :class:`JobsState`, the
hand-over runs it (:func:`run_job`), and a failed run hands it over again with its delay. Split,
each part would import the others. What reads and administers the rows (the sweep, the failed
jobs' page, retries) is ``lms.jobs.services``.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pkgutil import resolve_name
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from lms.db import close_session, database_state, db_session, utcnow
from lms.jobs.models import Job, JobStatus

logger = logging.getLogger("lms.jobs")

F = TypeVar("F", bound=Callable[..., Any])

_AFTER_COMMIT = "lms_jobs_after_commit"  # key in Session.info: ids to hand over after commit
MAX_ERROR = 4000


@dataclass(frozen=True)
class JobOptions:
    name: str
    max_attempts: int
    timeout: int


def job(func: F | None = None, *, max_attempts: int = 5, timeout: int = 600) -> Any:
    """Mark a module-level function as a job (``@job`` or ``@job(max_attempts=3)``).

    ``timeout`` (seconds) bounds one run on RQ. The function stays callable as it is.
    """

    def mark(function: F) -> F:
        if "<locals>" in function.__qualname__:
            raise TypeError("A job must be a module-level function: a worker finds it by name.")
        function.lms_job = JobOptions(
            f"{function.__module__}:{function.__qualname__}", max_attempts, timeout
        )  # type: ignore[attr-defined]
        return function

    return mark(func) if func is not None else mark


def job_function(name: str) -> Callable[..., Any]:
    """The job function called ``name``; only functions marked with :func:`job` are accepted."""
    try:
        function = resolve_name(name)
    except (ImportError, AttributeError, ValueError) as error:
        raise LookupError(f"no job function {name!r}") from error
    options = getattr(function, "lms_job", None)
    if not isinstance(options, JobOptions) or options.name != name:
        raise LookupError(f"{name!r} is not a job function (decorate it with @lms.jobs.job)")
    return function


def enqueue(
    func_or_name: Callable[..., Any] | str, *args: Any, _key: str | None = None, **kwargs: Any
) -> Job:
    """Ask for ``func(*args, **kwargs)`` to run after the current transaction commits.

    Returns the job's row (flushed: its id is set). Arguments must be JSON values (ids, not
    ORM objects). ``_key`` (not passed to the function) files the job under what it is about,
    e.g. ``"cohort:12"``, so a page can find it again (``lms.jobs.services.latest_job``).
    """
    name = (
        func_or_name
        if isinstance(func_or_name, str)
        else getattr(func_or_name, "lms_job", None) and func_or_name.lms_job.name
    )
    if not name:
        raise TypeError(f"{func_or_name!r} is not a job function (decorate it with @lms.jobs.job)")
    options: JobOptions = job_function(name).lms_job  # type: ignore[attr-defined]
    try:
        # A round trip through JSON: what the worker will get is what the caller gave.
        payload = json.loads(json.dumps({"args": list(args), "kwargs": kwargs}))
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"job arguments must be JSON values (pass ids, not objects): {error}"
        ) from None
    row = Job(
        name=name,
        key=_key,
        args=payload["args"],
        kwargs=payload["kwargs"],
        status=JobStatus.queued,
        attempts=0,
        max_attempts=options.max_attempts,
        last_error="",
        progress_done=0,
    )
    db_session.add(row)
    db_session.flush()
    db_session.info.setdefault(_AFTER_COMMIT, []).append(row.id)
    return row


# -- after commit -------------------------------------------------------------------------------


def watch(session_factory: Any) -> None:
    """Hand the jobs a transaction asked for to the queue once it has committed."""
    event.listen(session_factory, "after_commit", _after_commit)
    event.listen(session_factory, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT released: the transaction is still open
    ids = session.info.pop(_AFTER_COMMIT, None)
    if ids:
        dispatch(current_app._get_current_object(), ids)  # type: ignore[attr-defined]


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_AFTER_COMMIT, None)


# -- per-app state: the queue or the in-process pool --------------------------------------------


@dataclass
class JobsState:
    """What the jobs keep per app, in ``app.extensions["lms_jobs"]``."""

    app: Flask
    rq: Any = None  # flask_rq.RQ when LMS_REDIS_URL is set
    queue_name: str = "lms"
    executor: ThreadPoolExecutor | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    idle: threading.Condition = field(init=False)
    # Jobs handed to the pool or waiting for a retry's delay, counted per id.
    in_flight: Counter[int] = field(default_factory=Counter)
    timers: set[threading.Timer] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.idle = threading.Condition(self.lock)

    @property
    def uses_rq(self) -> bool:
        return self.rq is not None

    def queue(self) -> Any:
        return self.rq.get_queue(self.queue_name)


def init_jobs(app: Flask) -> JobsState:
    """Register the job machinery on ``app`` (called by ``LMS.init_app``)."""
    state = JobsState(app=app, queue_name=app.config["LMS_JOB_QUEUE"])
    if app.config.get("LMS_REDIS_URL"):
        from flask_rq import RQ

        app.config.setdefault("RQ_CONNECTION", app.config["LMS_REDIS_URL"])
        app.config.setdefault("RQ_QUEUES", [state.queue_name])
        # Flask-RQ runs jobs in the enqueuing process under TESTING unless told otherwise: with
        # Redis configured, jobs always go to the worker.
        app.config.setdefault("RQ_ASYNC", True)
        # A host that already uses Flask-RQ keeps its own extension; it lists our queue.
        state.rq = app.extensions.get("rq") or RQ(app)
    app.extensions["lms_jobs"] = state
    watch(database_state(app).session_factory)
    if not app.config.get("LMS_BASE_URL") and not app.config.get("SERVER_NAME"):
        app.logger.warning(
            "Neither LMS_BASE_URL nor SERVER_NAME is set: mail with links cannot be sent "
            "(`flask lms setup --base-url URL` writes it)."
        )
    return state


def jobs_state(app: Flask | None = None) -> JobsState:
    return (app or current_app).extensions["lms_jobs"]


def dispatch(app: Flask, ids: list[int], delay: float = 0) -> None:
    """Hand committed jobs over. Never raises: a job not handed over waits for the sweep."""
    state = jobs_state(app)
    if state.uses_rq:
        try:
            queue = state.queue()
            for job_id in ids:
                _push(queue, job_id, delay)
        except Exception:  # Redis unreachable: the rows stay queued and the sweep retries
            logger.exception(
                "Could not hand jobs %s to the queue; `flask lms worker` will pick them up", ids
            )
        return
    for job_id in ids:
        _submit_in_process(state, job_id, delay)


def rq_job_id(job_id: int, attempts: int) -> str:
    """RQ's id for an attempt of a job: the sweep asks RQ whether it already holds it."""
    return f"lms-job-{job_id}-{attempts}"


def _push(queue: Any, job_id: int, delay: float) -> None:
    timeout, attempts = _facts(job_id)
    options = {
        "job_id": rq_job_id(job_id, attempts),
        "job_timeout": timeout,
        "result_ttl": 0,
        "failure_ttl": 7 * 24 * 3600,
        "description": f"lms job {job_id}",
    }
    if delay > 0:
        queue.enqueue_in(timedelta(seconds=delay), run_queued, job_id, **options)
    else:
        queue.enqueue(run_queued, job_id, **options)


def _facts(job_id: int) -> tuple[int, int]:
    """A job's timeout (from its function) and how many attempts it has had."""
    session = database_state().session_factory()
    try:
        row = session.execute(select(Job.name, Job.attempts).where(Job.id == job_id)).first()
    finally:
        session.close()
    if row is None:
        return 600, 0
    try:
        return job_function(row.name).lms_job.timeout, row.attempts  # type: ignore[attr-defined]
    except LookupError:
        return 600, row.attempts


def _submit_in_process(state: JobsState, job_id: int, delay: float) -> None:
    first = False
    with state.lock:
        if state.executor is None:
            state.executor = ThreadPoolExecutor(
                max_workers=int(state.app.config["LMS_JOB_THREADS"]), thread_name_prefix="lms-job"
            )
            first = True
        state.in_flight[job_id] += 1
    if first:
        # Jobs an earlier process committed but never ran (it stopped first) run now too.
        with state.lock:
            state.in_flight[SWEEP] += 1
        state.executor.submit(_sweep_in_process, state)
    if delay > 0:
        timer = threading.Timer(delay, _submit_now, args=(state, job_id))
        timer.daemon = True
        with state.lock:
            state.timers.add(timer)
        timer.start()
    else:
        _submit_now(state, job_id)


SWEEP = 0  # the key the in-process sweep is counted under in JobsState.in_flight (no job has id 0)


def _sweep_in_process(state: JobsState) -> None:
    # cycle: lms.jobs.services builds on the runner (dispatch, jobs_state) at module level; the
    # in-process sweep timer reaches the sweep only when it fires
    from lms.jobs.services import sweep

    try:
        sweep(state.app)
    except Exception:
        logger.exception("The job sweep failed")
    finally:
        _done_in_process(state, SWEEP)


def _done_in_process(state: JobsState, key: int) -> None:
    with state.idle:
        state.in_flight[key] -= 1
        if state.in_flight[key] <= 0:
            del state.in_flight[key]
        state.idle.notify_all()


def _submit_now(state: JobsState, job_id: int) -> None:
    with state.lock:
        state.timers = {
            timer
            for timer in state.timers
            if timer.is_alive() and timer is not threading.current_thread()
        }
    assert state.executor is not None
    state.executor.submit(_run_in_process, state, job_id)


def _run_in_process(state: JobsState, job_id: int) -> None:
    try:
        with state.app.app_context():
            run_job(job_id)
    except Exception:
        logger.exception("Job %s: the runner itself failed", job_id)
    finally:
        _done_in_process(state, job_id)


def wait_for_jobs(app: Flask, timeout: float = 30) -> None:
    """Wait until the in-process jobs of ``app`` (retries included) have finished (tests)."""
    state = jobs_state(app)
    with state.idle:
        if not state.idle.wait_for(lambda: not state.in_flight, timeout=timeout):
            raise TimeoutError(f"jobs still running after {timeout} s: {sorted(state.in_flight)}")


# -- running ------------------------------------------------------------------------------------


def run_queued(job_id: int) -> None:
    """What RQ runs (in the app context Flask-RQ's worker provides)."""
    try:
        run_job(job_id)
    finally:
        close_session()


def run_job(job_id: int) -> bool:
    """Claim job ``job_id``, run it, record the outcome; False when it was not there to claim
    (already running, done, not yet due, or never committed)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    factory = database_state(app).session_factory
    now = utcnow()
    with factory() as session, session.begin():
        claimed = session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.status == JobStatus.queued,
                or_(Job.run_after.is_(None), Job.run_after <= now),
            )
            .values(
                status=JobStatus.running,
                attempts=Job.attempts + 1,
                started_at=now,
                finished_at=None,
            )
        ).rowcount
        if not claimed:
            return False
        row = session.get(Job, job_id)
        assert row is not None
        name, args, kwargs, attempts, max_attempts = (
            row.name,
            list(row.args),
            dict(row.kwargs),
            row.attempts,
            row.max_attempts,
        )
    g._lms_job_id = job_id
    try:
        function = job_function(name)
        session = db_session._get_current_object()  # type: ignore[attr-defined]
        try:
            result = function(*args, **kwargs)
            json.dumps(result)  # refuse a result the row cannot keep before committing the work
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status=JobStatus.done, finished_at=utcnow(), result=result, last_error="")
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
    except Exception as error:
        _record_failure(app, job_id, name, attempts, max_attempts, error)
        return True
    finally:
        g.pop("_lms_job_id", None)
    logger.info("Job %s (%s) done", job_id, name)
    return True


def _record_failure(
    app: Flask, job_id: int, name: str, attempts: int, max_attempts: int, error: Exception
) -> None:
    text = "".join(traceback.format_exception(error))[-MAX_ERROR:]
    retry = attempts < max_attempts
    delay = retry_delay(app, attempts) if retry else 0
    values: dict[str, Any] = {"last_error": text, "finished_at": utcnow()}
    if retry:
        values.update(status=JobStatus.queued, run_after=utcnow() + timedelta(seconds=delay))
    else:
        values.update(status=JobStatus.failed)
    with database_state(app).session_factory() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(**values))
    if retry:
        logger.warning(
            "Job %s (%s) failed (attempt %s of %s), retrying in %s s: %s",
            job_id,
            name,
            attempts,
            max_attempts,
            delay,
            error,
        )
        dispatch(app, [job_id], delay=delay)
    else:
        logger.error(
            "Job %s (%s) failed for good after %s attempts: %s", job_id, name, attempts, error
        )


def retry_delay(app: Flask, attempts: int) -> float:
    """Seconds to wait before attempt ``attempts + 1``: ``LMS_JOB_RETRY_DELAYS``, the last one repeated."""
    delays = list(app.config["LMS_JOB_RETRY_DELAYS"]) or [0]
    return float(delays[min(attempts, len(delays)) - 1])


def current_job_id() -> int | None:
    """The id of the job running in this app context, or None outside a job."""
    return g.get("_lms_job_id")


def report_progress(done: int, total: int | None = None) -> None:
    """Record how far the running job is (``done`` of ``total``), committed at once on a
    session of its own so a progress page sees it while the job's own work is uncommitted.
    Does nothing outside a job (a job function called directly)."""
    job_id = current_job_id()
    if job_id is None:
        return
    values: dict[str, Any] = {"progress_done": done}
    if total is not None:
        values["progress_total"] = total
    with database_state().session_factory() as session, session.begin():
        session.execute(update(Job).where(Job.id == job_id).values(**values))
