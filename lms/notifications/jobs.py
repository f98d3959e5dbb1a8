"""The jobs that write and send cohort and certificate mail (run after commit, ``lms.jobs``).

``send_delivery`` sends one recorded message. It reads everything again (the person's language
and time zone, the session's current time and link) and sends nothing when the message no
longer applies: a withdrawn or cancelled registration, a reminder for a start that has moved or
passed, a person who turned reminders off. Its outcome is written to the delivery row at once,
on a session of its own, so a failed attempt stays recorded when the job's transaction rolls
back for the retry. An address the relay refuses (5xx) fails for good at the first attempt and
the job ends: it is never retried and never holds up anyone else's message. What a message
says is written by ``lms.notifications.compose``.
"""

from __future__ import annotations

import smtplib
from typing import Any

from sqlalchemy import select, update

from lms.accounts.models import User
from lms.cohorts.models import Cohort
from lms.db import database_state, db_session, fit_to, utcnow
from lms.jobs import Job, current_job_id, job
from lms.learning.models import EnrollmentStatus
from lms.mail import MailError, send_message
from lms.notifications import services
from lms.notifications.compose import Skip, compose
from lms.notifications.models import CohortMessage, DeliveryStatus, MailDelivery

MAX_ERROR = 2000


# -- fan-out: one delivery per person ---------------------------------------------------------------


@job
def mail_cohort_changed(
    cohort_id: int, changes: dict[str, list[Any]], sequence: int
) -> dict[str, int]:
    cohort = db_session.get(Cohort, cohort_id)
    if cohort is None:
        return {"queued": 0}
    return {
        "queued": _fan_out(
            cohort,
            "all",
            "changed",
            f"changed:{sequence}",
            {"changes": changes, "cohort_sequence": sequence},
        )
    }


@job
def mail_cohort_cancelled(cohort_id: int, sequence: int) -> dict[str, int]:
    cohort = db_session.get(Cohort, cohort_id)
    if cohort is None:
        return {"queued": 0}
    return {
        "queued": _fan_out(
            cohort, "all", "cancelled", f"cancelled:{sequence}", {"cohort_sequence": sequence}
        )
    }


@job
def mail_roster_message(message_id: int) -> dict[str, int]:
    message = db_session.get(CohortMessage, message_id)
    cohort = db_session.get(Cohort, message.cohort_id) if message is not None else None
    if message is None or cohort is None:
        return {"queued": 0}
    return {
        "queued": _fan_out(
            cohort, message.audience, "message", f"message:{message.id}", {"message_id": message.id}
        )
    }


def _fan_out(
    cohort: Cohort, audience: str, kind: str, key_prefix: str, data: dict[str, Any]
) -> int:
    """One delivery per person, each with a key: a retried fan-out adds only the missing ones."""
    queued = 0
    for enrollment in services.active_enrollments(cohort.id, audience):
        user = db_session.get(User, enrollment.user_id)
        if user is None:
            continue
        extra = dict(data, waitlisted=enrollment.status is EnrollmentStatus.waitlisted)
        if kind in services.CALENDAR_KINDS:
            extra["sequence"] = services.learner_sequence(enrollment.id, cohort.id)
        row = services.queue_delivery(
            kind,
            user,
            cohort_id=cohort.id,
            enrollment_id=enrollment.id,
            key=f"{key_prefix}:{enrollment.id}",
            data=extra,
        )
        queued += row is not None
    return queued


# -- sending one --------------------------------------------------------------------------------------


@job(max_attempts=5)
def send_delivery(delivery_id: int) -> dict[str, str] | None:
    row = db_session.get(MailDelivery, delivery_id)
    if row is None or row.status is not DeliveryStatus.queued:
        return None  # sent, skipped or failed for good already (a job runs at least once)
    user = db_session.get(User, row.user_id) if row.user_id is not None else None
    try:
        if user is None or not user.active:
            raise Skip("the account is gone or deactivated")
        composed = compose(row, user)
    except Skip as reason:
        row.status = DeliveryStatus.skipped
        row.last_error = str(reason)
        return {"status": "skipped"}
    try:
        send_message(
            user.email,
            composed.subject,
            composed.text,
            html=composed.html,
            attachments=composed.attachments,
            headers=composed.headers,
        )
    except MailError as error:
        refused = _refused(error)
        attempts, max_attempts = _job_attempts()
        final = refused or attempts >= max_attempts
        _record_attempt(
            row.id,
            DeliveryStatus.failed if final else DeliveryStatus.queued,
            str(error)[:MAX_ERROR],
            composed.subject,
        )
        if refused:
            return {"status": "failed"}  # the relay refused the address: retrying would not help
        raise
    row.status = DeliveryStatus.sent
    row.attempts += 1
    row.sent_at = utcnow()
    row.subject = fit_to(MailDelivery.subject, composed.subject)
    row.last_error = ""
    row.to_address = user.email
    return {"status": "sent"}


def _refused(error: MailError) -> bool:
    cause = error.__cause__
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _message in cause.recipients.values())
    return isinstance(cause, smtplib.SMTPResponseException) and 500 <= cause.smtp_code < 600


def _job_attempts() -> tuple[int, int]:
    job_id = current_job_id()
    if job_id is None:
        return 1, 1  # called directly: one attempt
    with database_state().session_factory() as session:
        found = session.execute(
            select(Job.attempts, Job.max_attempts).where(Job.id == job_id)
        ).first()
    return (found.attempts, found.max_attempts) if found else (1, 1)


def _record_attempt(delivery_id: int, status: DeliveryStatus, error: str, subject: str) -> None:
    """Committed at once on its own session: the job's transaction is about to roll back."""
    with database_state().session_factory() as session, session.begin():
        session.execute(
            update(MailDelivery)
            .where(MailDelivery.id == delivery_id)
            .values(
                status=status,
                attempts=MailDelivery.attempts + 1,
                last_error=error,
                subject=fit_to(MailDelivery.subject, subject),
            )
        )
