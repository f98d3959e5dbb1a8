"""Job functions for the job tests (a worker finds a job by its module and name)."""

from __future__ import annotations

from lms.db import db_session
from lms.jobs import job, report_progress


@job(max_attempts=3)
def rename_user(user_id: int, name: str) -> dict:
    from lms.accounts.models import User

    user = db_session.get(User, user_id)
    if user is None:
        return {"renamed": False}
    user.display_name = name
    db_session.flush()
    return {"renamed": True}


@job(max_attempts=3)
def fail_until(user_id: int, succeed_on_attempt: int) -> int:
    """Fails on its first attempts (counted on the user's affiliate field, rolled back... so on a
    file), then succeeds: the retry with back-off."""
    from lms.jobs import current_job_id
    from lms.jobs.models import Job

    attempt = db_session.get(Job, current_job_id()).attempts
    if attempt < succeed_on_attempt:
        raise RuntimeError(f"attempt {attempt} fails on purpose")
    return attempt


@job
def count_to(total: int) -> int:
    for done in range(1, total + 1):
        report_progress(done, total)
    return total
