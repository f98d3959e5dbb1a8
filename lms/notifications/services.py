"""Cohort and certificate mail: what to send, to whom, and when (``lms.notifications``).

Everything here runs inside the transaction of the request, command or job that caused it and
only adds rows: a :class:`MailDelivery` per message and a job (``lms.jobs.enqueue``) that sends
it after the commit (``lms.notifications.jobs.send_delivery``). Nothing here talks to a relay.

- Registration, waitlist, promotion, withdrawal: called by ``lms.cohorts.services`` under the
  cohort's lock, one line each.
- A change of time, length, link or place, and a cancellation: the cohort's calendar SEQUENCE
  goes up here; a job then writes one message per person (a cohort may have 1,000).
- Certificates: receivers of ``certificate_issued`` / ``certificate_revoked``.
- Reminders and digests: :func:`run_due`, called by ``flask lms mail run-due`` (cron) or
  ``flask lms mail scheduler``. Each is a delivery with a unique ``key`` (reminder: enrollment,
  minutes before, the session start it is for), so two schedulers running at once insert it once
  and a moved session gets reminders for its new start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.audit.services import record_event
from lms.cohorts.models import Cohort, CohortFacilitator, CohortStatus
from lms.db import db_session, utcnow
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
UNSUBSCRIBE_SALT = "lms.notifications.unsubscribe"
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
    from lms.notifications.jobs import send_delivery

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
    enqueue(send_delivery, row.id)
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
    from lms.cohorts.registration import waitlist_position

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
    from lms.notifications.jobs import mail_cohort_changed

    relevant = {name: value for name, value in changes.items() if name in SCHEDULE_FIELDS}
    if not relevant or cohort.status is not CohortStatus.scheduled:
        return
    settings = _cohort_mail_row(cohort.id)
    settings.sequence += 1
    db_session.flush()
    enqueue(mail_cohort_changed, cohort.id, relevant, settings.sequence)


def cohort_cancelled(cohort: Cohort) -> None:
    from lms.notifications.jobs import mail_cohort_cancelled

    settings = _cohort_mail_row(cohort.id)
    settings.sequence += 1
    db_session.flush()
    enqueue(mail_cohort_cancelled, cohort.id, settings.sequence)


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
            select(_certificate_model().code).where(
                _certificate_model().replaced_by_id == certificate.id
            )
        )
        queue_delivery(
            "certificate_issued",
            user,
            cohort_id=enrollment.cohort_id,
            enrollment_id=enrollment.id,
            data={"certificate_id": certificate.id, "replaces": replaces},
        )


def certificate_revoked(sender: Any, certificate: Any, reason: str = "", **_extra: Any) -> None:
    from lms.certificates.services import REPLACED

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


def _certificate_model() -> Any:
    from lms.certificates.models import Certificate

    return Certificate


def connect_signals() -> None:
    from lms.certificates import signals

    signals.certificate_issued.connect(certificate_issued)
    signals.certificate_revoked.connect(certificate_revoked)


# -- a facilitator's message to the roster --------------------------------------------------------


def send_roster_message(
    actor: User, cohort: Cohort, audience: str, subject: str, body: str
) -> CohortMessage:
    from lms.notifications.jobs import mail_roster_message

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
    enqueue(mail_roster_message, message.id)
    return message


# -- reminders and digests ----------------------------------------------------------------------


@dataclass
class DueReport:
    reminders: int = 0
    digests: int = 0


def run_due(now: datetime | None = None) -> DueReport:
    """Queue the reminders and digests due now. Safe to run from several schedulers at once."""
    now = now or utcnow()
    return DueReport(reminders=queue_due_reminders(now), digests=queue_due_digests(now))


def _start_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def queue_due_reminders(now: datetime) -> int:
    settings = {
        row.cohort_id: row
        for row in db_session.scalars(
            select(CohortMail).where(CohortMail.reminder_minutes.is_not(None))
        )
    }
    longest = max(
        [
            *default_reminder_minutes(),
            *(m for row in settings.values() for m in (row.reminder_minutes or [])),
        ],
        default=0,
    )
    if not longest:
        return 0
    cohorts = db_session.scalars(
        select(Cohort)
        .where(
            Cohort.status == CohortStatus.scheduled,
            Cohort.starts_at > now,
            Cohort.starts_at <= now + timedelta(minutes=longest),
        )
        .order_by(Cohort.starts_at, Cohort.id)
    ).all()
    queued = 0
    for cohort in cohorts:
        due = [
            m
            for m in reminder_minutes(cohort.id, settings.get(cohort.id))
            if cohort.starts_at - timedelta(minutes=m) <= now
        ]
        if not due:
            continue
        minutes = min(
            due
        )  # a scheduler that was stopped sends the nearest reminder, not each missed one
        due_at = cohort.starts_at - timedelta(minutes=minutes)
        start = _start_key(cohort.starts_at)
        rows = db_session.execute(
            select(Enrollment, User)
            .join(User, User.id == Enrollment.user_id)
            .outerjoin(MailPreference, MailPreference.user_id == User.id)
            .where(
                Enrollment.cohort_id == cohort.id,
                Enrollment.status.in_(SEAT_STATUSES),
                User.active.is_(True),
                Enrollment.created_at <= due_at,
                func.coalesce(MailPreference.reminders, True).is_(True),
            )
            .order_by(Enrollment.id)
        ).all()
        keys = {
            enrollment.id: f"reminder:{enrollment.id}:{minutes}:{start}"
            for enrollment, _user in rows
        }
        taken = set(
            db_session.scalars(
                select(MailDelivery.key).where(MailDelivery.key.in_(list(keys.values()) or [""]))
            )
        )
        for enrollment, user in rows:
            key = keys[enrollment.id]
            if key in taken:
                continue
            data = {"minutes": minutes, "starts_at": cohort.starts_at.isoformat()}
            if (
                queue_delivery(
                    "reminder",
                    user,
                    cohort_id=cohort.id,
                    enrollment_id=enrollment.id,
                    key=key,
                    data=data,
                )
                is not None
            ):
                queued += 1
    return queued


def digest_window(now: datetime) -> tuple[datetime, datetime] | None:
    """The day a digest sent now covers: the 24 hours up to today's LMS_DIGEST_HOUR (UTC)."""
    hour = int(current_app.config["LMS_DIGEST_HOUR"])
    until = datetime.combine(now.astimezone(UTC).date(), time(hour), tzinfo=UTC)
    if now < until:
        return None
    return until - timedelta(days=1), until


def queue_due_digests(now: datetime) -> int:
    window = digest_window(now)
    if window is None:
        return 0
    since, until = window
    people = db_session.scalars(
        select(User)
        .join(MailPreference, MailPreference.user_id == User.id)
        .where(
            MailPreference.digest.is_(True),
            User.active.is_(True),
            (User.is_facilitator.is_(True)) | (User.is_admin.is_(True)),
        )
        .order_by(User.id)
    ).all()
    queued = 0
    for user in people:
        key = f"digest:{user.id}:{until.date().isoformat()}"
        if db_session.scalar(select(MailDelivery.id).where(MailDelivery.key == key)) is not None:
            continue
        if (
            queue_delivery(
                "digest",
                user,
                key=key,
                data={"since": since.isoformat(), "until": until.isoformat()},
            )
            is not None
        ):
            queued += 1
    return queued


@dataclass
class DigestCohort:
    cohort: Cohort
    registered: list[tuple[User, Enrollment]]
    withdrawn: list[tuple[User, Enrollment]]


def digest_contents(user: User, since: datetime, until: datetime) -> list[DigestCohort]:
    """New registrations and withdrawals in the window, for the person's cohorts that have not ended."""
    cohorts = db_session.scalars(
        select(Cohort)
        .join(CohortFacilitator, CohortFacilitator.cohort_id == Cohort.id)
        .where(
            CohortFacilitator.user_id == user.id,
            Cohort.status == CohortStatus.scheduled,
            Cohort.starts_at > until - timedelta(days=1),
        )
        .order_by(Cohort.starts_at, Cohort.id)
    ).all()
    found = []
    for cohort in cohorts:
        rows = db_session.execute(
            select(User, Enrollment)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.cohort_id == cohort.id)
            .order_by(User.display_name)
        ).all()
        new = [
            (u, e)
            for u, e in rows
            if e.status is not EnrollmentStatus.withdrawn and since <= e.created_at < until
        ]
        gone = [
            (u, e)
            for u, e in rows
            if e.status is EnrollmentStatus.withdrawn
            and e.withdrawn_at is not None
            and since <= e.withdrawn_at < until
        ]
        if new or gone:
            found.append(DigestCohort(cohort, new, gone))
    return found


# -- unsubscribe ----------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT)  # type: ignore[arg-type]


def unsubscribe_token(user_id: int, setting: str) -> str:
    return _serializer().dumps({"u": user_id, "s": setting})


def read_unsubscribe_token(token: str) -> tuple[User, str] | None:
    """The person and the setting a link turns off, or None for a forged or stale link."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(payload, dict)
        or payload.get("s") not in ("reminders", "digest")
        or not isinstance(payload.get("u"), int)
    ):
        return None
    user = db_session.get(User, payload["u"])
    if user is None or not user.active:
        return None
    return user, payload["s"]


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
    from lms.notifications.jobs import send_delivery

    row = db_session.get(MailDelivery, delivery_id)
    if row is None or row.status is not DeliveryStatus.failed:
        return None
    row.status = DeliveryStatus.queued
    db_session.flush()
    record_event(actor, "mail.retried", row, to=row.to_address, kind=row.kind)
    enqueue(send_delivery, row.id)
    return row


# -- the calendar file (download and attachment) --------------------------------------------------


def cohort_link(endpoint: str, **values: Any) -> str:
    """An absolute link from the configured base URL (never from a request's Host)."""
    from lms.links import external_url

    return external_url(endpoint, **values)


def calendar_host() -> str:
    from lms.links import base_url, host_of

    return host_of(base_url()) or "lms"


def cohort_calendar_file(
    cohort: Cohort,
    *,
    locale: str,
    user: User | None = None,
    method: str = "PUBLISH",
    sequence: int | None = None,
) -> bytes:
    """The cohort's calendar file: a learner's own copy (their UID) when ``user`` is given."""
    from lms.cohorts.calendar import Person, cohort_calendar, cohort_uid
    from lms.cohorts.services import course_title

    title = course_title(cohort, locale)
    url = cohort_link("lms_cohorts.cohort", cohort_id=cohort.id)
    description = _(
        "Live session of %(course)s. Details and the join link: %(url)s", course=title, url=url
    )
    if cohort.join_url:
        description += "\n" + _("Join: %(url)s", url=cohort.join_url)
    enrollment = None
    if user is not None:
        enrollment = db_session.scalar(
            select(Enrollment).where(
                Enrollment.cohort_id == cohort.id, Enrollment.user_id == user.id
            )
        )
    if sequence is None:
        sequence = (
            learner_sequence(enrollment.id, cohort.id)
            if enrollment is not None
            else cohort_sequence(cohort.id)
        )
    config = current_app.config
    return cohort_calendar(
        cohort,
        uid=cohort_uid(cohort.id, calendar_host(), user.id if user is not None else None),
        summary=f"{title}: {cohort.title}",
        description=description,
        url=url,
        method=method,
        sequence=sequence,
        organizer=Person(config["LMS_MAIL_SENDER"], config["LMS_ORGANISATION"]),
        attendee=Person(user.email, user.display_name)
        if user is not None and method != "PUBLISH"
        else None,
    )
