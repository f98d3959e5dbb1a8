"""Cohort and certificate mail: what to send, to whom, and when (``lms.notifications``).

Everything here runs inside the transaction of the request, command or job that caused it and
only adds rows: a :class:`MailDelivery` per message and a job (``lms.jobs.enqueue``) that sends
it after the commit (``lms.notifications.jobs.send_delivery``). Nothing here talks to a relay.

- Registration, waitlist, promotion, withdrawal: called by ``lms.cohorts.registration`` and
  ``lms.cohorts.scheduling`` (through ``lms.cohorts.services.notifications``) under the cohort's
  lock, one line each.
- A change of time, length, link or place, and a cancellation: the cohort's calendar SEQUENCE
  goes up here; a job then writes one message per person (a cohort may have 1,000).
- Certificates: receivers of ``certificate_issued`` / ``certificate_revoked``.
- Reminders and digests that fall due: ``lms.notifications.schedule``; the links a message
  carries and the calendar file: ``lms.notifications.links``.

A little over the engine's usual length: one hook per cohort and certificate event, each a few
lines over the shared delivery helpers, read best side by side.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.audit.services import record_event
from lms.certificates import signals
from lms.certificates.models import Certificate
from lms.certificates.services import REPLACED
from lms.cohorts.models import Cohort, CohortStatus
from lms.cohorts.registration import waitlist_position
from lms.db import db_session
from lms.i18n import _
from lms.jobs import enqueue
from lms.learning.models import Enrollment, EnrollmentStatus
from lms.notifications.models import (
    CohortMail,
    CohortMessage,
    DeliveryStatus,
    MailDelivery,
    MailPreference,
)

SEAT_STATUSES = (
    EnrollmentStatus.registered,
    EnrollmentStatus.in_progress,
    EnrollmentStatus.completed,
)
# Messages that start, restart or end a learner's copy of the session in their calendar: each
# raises that copy's SEQUENCE (with the cohort's own changes).
LIFECYCLE_KINDS = ("confirmed", "promoted", "withdrawn")
CALENDAR_KINDS = ("confirmed", "promoted", "changed", "withdrawn", "cancelled")
# Mail a person may turn off, and the setting that does it. Everything else is about something
# they asked for (a registration, a certificate) and always goes.
OPTIONAL_KINDS = {"reminder": "reminders", "digest": "digest"}
SCHEDULE_FIELDS = ("starts_at", "time_zone", "minutes", "join_url", "location")
AUDIENCES = ("seats", "waitlist", "all")
MAX_SUBJECT = 200
MAX_BODY = 5000
REMINDER_CHOICES = (10080, 2880, 1440, 180, 60, 15)  # minutes a facilitator may pick from


class NotificationError(ValueError):
    """Input that cannot be used; the message is shown to the person."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# -- settings -----------------------------------------------------------------------------------


def preference(user_id: int) -> MailPreference:
    """The person's choices (an unsaved row with the defaults when they never chose)."""
    return db_session.get(MailPreference, user_id) or MailPreference(
        user_id=user_id, reminders=True, digest=False
    )


def set_preference(user_id: int, **choices: bool) -> MailPreference:
    row = db_session.get(MailPreference, user_id)
    if row is None:
        row = MailPreference(user_id=user_id, reminders=True, digest=False)
        db_session.add(row)
    for name, value in choices.items():
        if name not in ("reminders", "digest"):
            raise KeyError(name)
        setattr(row, name, bool(value))
    db_session.flush()
    return row


def default_reminder_minutes() -> list[int]:
    return sorted(
        {int(m) for m in current_app.config["LMS_REMINDER_MINUTES"] if int(m) > 0}, reverse=True
    )


def cohort_mail(cohort_id: int) -> CohortMail | None:
    return db_session.get(CohortMail, cohort_id)


def reminder_minutes(cohort_id: int, settings: CohortMail | None = None) -> list[int]:
    settings = settings if settings is not None else cohort_mail(cohort_id)
    if settings is None or settings.reminder_minutes is None:
        return default_reminder_minutes()
    return sorted({int(m) for m in settings.reminder_minutes}, reverse=True)


def set_reminder_minutes(actor: User, cohort: Cohort, minutes: list[int] | None) -> None:
    """A cohort's reminders (``None``: the deployment's default; ``[]``: none)."""
    if minutes is not None and any(m not in REMINDER_CHOICES for m in minutes):
        raise NotificationError(_("Choose reminder times from the list."), "minutes")
    settings = _cohort_mail_row(cohort.id)
    before = settings.reminder_minutes
    settings.reminder_minutes = sorted(set(minutes), reverse=True) if minutes is not None else None
    db_session.flush()
    record_event(
        actor, "cohort.reminders_set", cohort, before=before, after=settings.reminder_minutes
    )


def _cohort_mail_row(cohort_id: int) -> CohortMail:
    """Read fresh: the caller holds the cohort's row lock, so no other change of it is under way."""
    row = db_session.get(CohortMail, cohort_id, populate_existing=True)
    if row is None:
        row = CohortMail(cohort_id=cohort_id, sequence=0, reminder_minutes=None)
        db_session.add(row)
        db_session.flush()
    return row


def cohort_sequence(cohort_id: int) -> int:
    row = cohort_mail(cohort_id)
    return row.sequence if row is not None else 0


def learner_sequence(enrollment_id: int, cohort_id: int) -> int:
    """SEQUENCE of a learner's copy: the cohort's changes plus the learner's own restarts.

    Both only grow, so every invitation or cancellation a person receives carries a higher
    number than the one before it (a withdrawal's CANCEL, then a new registration's REQUEST).
    """
    lifecycle = (
        db_session.scalar(
            select(func.count())
            .select_from(MailDelivery)
            .where(
                MailDelivery.enrollment_id == enrollment_id, MailDelivery.kind.in_(LIFECYCLE_KINDS)
            )
        )
        or 0
    )
    return cohort_sequence(cohort_id) + max(lifecycle - 1, 0)


# -- queueing -----------------------------------------------------------------------------------


def _jobs() -> Any:
    """The job functions that send the mail (``lms.notifications.jobs``)."""
    # cycle: lms.notifications.jobs builds on this module (queue_delivery, active_enrollments,
    # the preferences) at module level; these services reach the job functions only to enqueue
    # them, once a message is recorded
    from lms.notifications import jobs

    return jobs


def queue_delivery(
    kind: str,
    user: User,
    *,
    cohort_id: int | None = None,
    enrollment_id: int | None = None,
    key: str | None = None,
    data: dict[str, Any] | None = None,
) -> MailDelivery | None:
    """Record a message and ask for the job that sends it. ``None`` when ``key`` was taken
    (this message is already on its way: another scheduler, or an earlier run)."""
    row = MailDelivery(
        kind=kind,
        key=key,
        user_id=user.id,
        to_address=user.email,
        cohort_id=cohort_id,
        enrollment_id=enrollment_id,
        data=data or {},
        status=DeliveryStatus.queued,
        attempts=0,
        last_error="",
        subject="",
    )
    if key is None:
        db_session.add(row)
        db_session.flush()
    else:
        try:
            with db_session.begin_nested():
                db_session.add(row)
        except IntegrityError:
            return None
    enqueue(_jobs().send_delivery, row.id)
    return row


def _with_sequence(kind: str, enrollment: Enrollment, **data: Any) -> MailDelivery | None:
    user = db_session.get(User, enrollment.user_id)
    if user is None:
        return None
    row = queue_delivery(
        kind, user, cohort_id=enrollment.cohort_id, enrollment_id=enrollment.id, data=data
    )
    if row is not None and kind in CALENDAR_KINDS:
        row.data = {
            **row.data,
            "sequence": learner_sequence(enrollment.id, enrollment.cohort_id or 0),
        }
        db_session.flush()
    return row


# -- what the cohort services call --------------------------------------------------------------


def registered(enrollment: Enrollment) -> None:
    """A new (or renewed) registration: confirmed with an invitation, or waitlisted with the place."""
    if enrollment.status is EnrollmentStatus.waitlisted:
        _with_sequence("waitlisted", enrollment, position=waitlist_position(enrollment))
    else:
        _with_sequence("confirmed", enrollment)


def promoted(enrollment: Enrollment) -> None:
    _with_sequence("promoted", enrollment)


def withdrawn(enrollment: Enrollment, held_seat: bool) -> None:
    _with_sequence("withdrawn", enrollment, held_seat=held_seat)


def cohort_changed(cohort: Cohort, changes: dict[str, list[Any]]) -> None:
    """After ``update_cohort``: tell everyone registered what changed (old and new)."""
    relevant = {name: value for name, value in changes.items() if name in SCHEDULE_FIELDS}
    if not relevant or cohort.status is not CohortStatus.scheduled:
        return
    settings = _cohort_mail_row(cohort.id)
    settings.sequence += 1
    db_session.flush()
    enqueue(_jobs().mail_cohort_changed, cohort.id, relevant, settings.sequence)


def cohort_cancelled(cohort: Cohort) -> None:
    settings = _cohort_mail_row(cohort.id)
    settings.sequence += 1
    db_session.flush()
    enqueue(_jobs().mail_cohort_cancelled, cohort.id, settings.sequence)


def active_enrollments(cohort_id: int, audience: str = "all") -> list[Enrollment]:
    statuses: tuple[EnrollmentStatus, ...] = {
        "seats": SEAT_STATUSES,
        "waitlist": (EnrollmentStatus.waitlisted,),
        "all": (*SEAT_STATUSES, EnrollmentStatus.waitlisted),
    }[audience]
    return list(
        db_session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort_id, Enrollment.status.in_(statuses))
            .order_by(Enrollment.id)
        )
    )


# -- certificates -------------------------------------------------------------------------------


def _certificate_owner(certificate: Any) -> tuple[Enrollment, User] | None:
    enrollment = db_session.get(Enrollment, certificate.enrollment_id)
    user = db_session.get(User, enrollment.user_id) if enrollment is not None else None
    return (enrollment, user) if enrollment is not None and user is not None else None


def certificate_issued(sender: Any, certificate: Any, **_extra: Any) -> None:
    owner = _certificate_owner(certificate)
    if owner is not None:
        enrollment, user = owner
        replaces = db_session.scalar(
            select(Certificate.code).where(Certificate.replaced_by_id == certificate.id)
        )
        queue_delivery(
            "certificate_issued",
            user,
            cohort_id=enrollment.cohort_id,
            enrollment_id=enrollment.id,
            data={"certificate_id": certificate.id, "replaces": replaces},
        )


def certificate_revoked(sender: Any, certificate: Any, reason: str = "", **_extra: Any) -> None:
    if reason == REPLACED:
        return  # the new certificate's message says it replaces this one
    owner = _certificate_owner(certificate)
    if owner is not None:
        enrollment, user = owner
        queue_delivery(
            "certificate_revoked",
            user,
            cohort_id=enrollment.cohort_id,
            enrollment_id=enrollment.id,
            data={"certificate_id": certificate.id},
        )


def connect_signals() -> None:
    signals.certificate_issued.connect(certificate_issued)
    signals.certificate_revoked.connect(certificate_revoked)


# -- a facilitator's message to the roster --------------------------------------------------------


def send_roster_message(
    actor: User, cohort: Cohort, audience: str, subject: str, body: str
) -> CohortMessage:
    subject, body = (subject or "").strip(), (body or "").strip()
    if audience not in AUDIENCES:
        raise NotificationError(_("Choose who receives the message."), "audience")
    if not subject or len(subject) > MAX_SUBJECT:
        raise NotificationError(
            _("Write a subject of at most %(max)s characters.", max=MAX_SUBJECT), "subject"
        )
    if not body or len(body) > MAX_BODY:
        raise NotificationError(
            _("Write a message of at most %(max)s characters.", max=MAX_BODY), "body"
        )
    if cohort.status is CohortStatus.cancelled:
        raise NotificationError(_("This cohort was cancelled: its learners were told."))
    recipients = len(active_enrollments(cohort.id, audience))
    if not recipients:
        raise NotificationError(_("Nobody is in that part of the roster."), "audience")
    message = CohortMessage(
        cohort_id=cohort.id,
        sender_id=actor.id,
        audience=audience,
        subject=subject,
        body=body,
        recipients=recipients,
    )
    db_session.add(message)
    db_session.flush()
    record_event(
        actor,
        "cohort.message_sent",
        cohort,
        message_id=message.id,
        audience=audience,
        subject=subject,
        recipients=recipients,
    )
    enqueue(_jobs().mail_roster_message, message.id)
    return message


# -- what people see ------------------------------------------------------------------------------


def confirmation_states(cohort_id: int) -> dict[int, DeliveryStatus]:
    """The latest confirmation (seat, waitlist, promotion) of each enrollment: for the roster."""
    rows = db_session.execute(
        select(MailDelivery.enrollment_id, MailDelivery.status)
        .where(
            MailDelivery.cohort_id == cohort_id,
            MailDelivery.kind.in_(("confirmed", "waitlisted", "promoted")),
        )
        .order_by(MailDelivery.id)
    ).all()
    return {enrollment_id: status for enrollment_id, status in rows if enrollment_id is not None}


def deliveries(
    *,
    status: DeliveryStatus | None = None,
    cohort_id: int | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[MailDelivery], int]:
    query = select(MailDelivery)
    if status is not None:
        query = query.where(MailDelivery.status == status)
    if cohort_id is not None:
        query = query.where(MailDelivery.cohort_id == cohort_id)
    total = db_session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0
    rows = list(
        db_session.scalars(
            query.order_by(MailDelivery.id.desc()).offset((page - 1) * size).limit(size)
        )
    )
    return rows, total


def retry_delivery(actor: User, delivery_id: int) -> MailDelivery | None:
    row = db_session.get(MailDelivery, delivery_id)
    if row is None or row.status is not DeliveryStatus.failed:
        return None
    row.status = DeliveryStatus.queued
    db_session.flush()
    record_event(actor, "mail.retried", row, to=row.to_address, kind=row.kind)
    enqueue(_jobs().send_delivery, row.id)
    return row
