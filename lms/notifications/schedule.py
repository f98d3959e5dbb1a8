"""Reminders and digests that fall due (``lms.notifications``): :func:`run_due`, called by
``flask lms mail run-due`` (cron) or ``flask lms mail scheduler``.

Each is a delivery with a unique ``key`` (reminder: enrollment, minutes before, the session start
it is for), so two schedulers running at once insert it once and a moved session gets reminders
for its new start. Like the rest of the area's services, this only adds rows and jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.cohorts.models import Cohort, CohortFacilitator, CohortStatus
from lms.db import db_session, utcnow
from lms.learning.models import Enrollment, EnrollmentStatus
from lms.notifications.models import CohortMail, MailDelivery, MailPreference
from lms.notifications.services import (
    SEAT_STATUSES,
    default_reminder_minutes,
    queue_delivery,
    reminder_minutes,
)


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
