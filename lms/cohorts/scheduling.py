"""Scheduling live cohorts: create, change, cancel and close one; the facilitator's list of
their cohorts; a course's upcoming sessions.

Who schedules a cohort facilitates it (an admin may name others). A change of time, length,
link or place mails the people registered (``lms.notifications``); a larger capacity moves the
waitlist up (:func:`lms.cohorts.registration.promote_waitlist`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.audit.services import record_event
from lms.cohorts.clock import cohort_ends_at, zone_info
from lms.cohorts.locking import lock_row
from lms.cohorts.models import Cohort, CohortFacilitator, CohortStatus
from lms.cohorts.registration import promote_waitlist, seat_counts
from lms.cohorts.services import CohortError, catalog, notifications
from lms.courses.catalog import course_row
from lms.courses.loader import LoadedCourse
from lms.courses.models import Course
from lms.db import db_session, utcnow
from lms.i18n import _

# The limits of a cohort, checked here and by the cohort form (lms.cohorts.forms).
MAX_CAPACITY = 10_000
MAX_MINUTES = 24 * 60


@dataclass
class CohortData:
    course_slug: str
    title: str
    starts_at: datetime  # aware UTC
    time_zone: str
    minutes: int
    capacity: int
    join_url: str = ""
    location: str = ""
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    facilitator_emails: list[str] = field(default_factory=list)


def parse_emails(text: str) -> list[str]:
    seen: list[str] = []
    for part in text.replace(";", ",").replace("\n", ",").split(","):
        email = User.normalise_email(part)
        if email and email not in seen:
            seen.append(email)
    return seen


def resolve_facilitators(emails: Sequence[str]) -> list[User]:
    users, unknown, not_facilitators = [], [], []
    for email in emails:
        user = db_session.scalar(User.by_email(email))
        if user is None or not user.active:
            unknown.append(email)
        elif not user.can_facilitate:
            not_facilitators.append(email)
        else:
            users.append(user)
    if unknown:
        raise CohortError(
            _("No active account has this email: %(emails)s", emails=", ".join(unknown)),
            "facilitators",
        )
    if not_facilitators:
        raise CohortError(
            _(
                "These people are not facilitators: %(emails)s. An admin can give them the facilitator role.",
                emails=", ".join(not_facilitators),
            ),
            "facilitators",
        )
    return users


def _validate(data: CohortData) -> LoadedCourse:
    loaded = catalog().get(data.course_slug)
    if loaded is None or "live" not in loaded.definition.paths:
        raise CohortError(_("Choose a course that offers live sessions."), "course")
    if not data.title.strip():
        raise CohortError(_("Give the cohort a title."), "title")
    zone_info(data.time_zone)
    if not 1 <= data.minutes <= MAX_MINUTES:
        raise CohortError(
            _("The length must be between 1 and %(max)s minutes.", max=MAX_MINUTES), "minutes"
        )
    if not 1 <= data.capacity <= MAX_CAPACITY:
        raise CohortError(
            _("The capacity must be between 1 and %(max)s.", max=MAX_CAPACITY), "capacity"
        )
    if data.join_url and not data.join_url.startswith("https://"):
        raise CohortError(_("The join link must start with https://"), "join_url")
    opens, closes = data.registration_opens_at, data.registration_closes_at
    if opens and closes and closes <= opens:
        raise CohortError(_("Registration must close after it opens."), "registration_closes")
    if opens and opens >= data.starts_at + timedelta(minutes=data.minutes):
        raise CohortError(
            _("Registration must open before the session ends."), "registration_opens"
        )
    return loaded


def _cohort_snapshot(cohort: Cohort) -> dict[str, Any]:
    return {
        "course": cohort.course.slug if cohort.course else None,
        "title": cohort.title,
        "starts_at": cohort.starts_at.isoformat() if cohort.starts_at else None,
        "time_zone": cohort.time_zone,
        "minutes": cohort.minutes,
        "join_url": cohort.join_url,
        "location": cohort.location,
        "capacity": cohort.capacity,
        "registration_opens_at": cohort.registration_opens_at.isoformat()
        if cohort.registration_opens_at
        else None,
        "registration_closes_at": cohort.registration_closes_at.isoformat()
        if cohort.registration_closes_at
        else None,
        "facilitators": sorted(user.email for user in cohort.facilitators),
    }


def _apply(cohort: Cohort, data: CohortData, course: Course, facilitators: list[User]) -> None:
    cohort.course_id = course.id
    cohort.course = course
    cohort.title = data.title.strip()
    cohort.starts_at = data.starts_at
    cohort.time_zone = data.time_zone
    cohort.minutes = data.minutes
    cohort.capacity = data.capacity
    cohort.join_url = data.join_url.strip()
    cohort.location = data.location.strip()
    cohort.registration_opens_at = data.registration_opens_at
    cohort.registration_closes_at = data.registration_closes_at
    cohort.facilitators = facilitators


def create_cohort(actor: User, data: CohortData) -> Cohort:
    loaded = _validate(data)
    facilitators = resolve_facilitators(data.facilitator_emails)
    if actor not in facilitators and (not actor.is_admin or not facilitators):
        facilitators.insert(
            0, actor
        )  # who schedules a cohort facilitates it (an admin may name others)
    cohort = Cohort(status=CohortStatus.scheduled, created_by_id=actor.id, cancellation_note="")
    _apply(cohort, data, course_row(db_session, loaded), facilitators)
    db_session.add(cohort)
    db_session.flush()
    record_event(actor, "cohort.created", cohort, **_cohort_snapshot(cohort))
    return cohort


def update_cohort(actor: User, cohort: Cohort, data: CohortData) -> Cohort:
    if cohort.status is CohortStatus.cancelled:
        raise CohortError(_("A cancelled cohort cannot be changed."))
    loaded = _validate(data)
    facilitators = resolve_facilitators(data.facilitator_emails)
    if not facilitators:
        raise CohortError(_("A cohort needs at least one facilitator."), "facilitators")
    if not actor.is_admin and actor not in facilitators:
        raise CohortError(
            _(
                "You cannot remove yourself from the facilitators; ask another facilitator or an admin."
            ),
            "facilitators",
        )
    course = course_row(db_session, loaded)
    lock_row(Cohort, cohort.id)
    seats = seat_counts([cohort])[cohort.id]
    if course.id != cohort.course_id and seats.taken + seats.waitlisted > 0:
        raise CohortError(
            _(
                "People have registered, so the course cannot change. Cancel this cohort and schedule a new one."
            ),
            "course",
        )
    before = _cohort_snapshot(cohort)
    _apply(cohort, data, course, facilitators)
    db_session.flush()
    after = _cohort_snapshot(cohort)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        record_event(actor, "cohort.updated", cohort, changes=changes)
        notifications().cohort_changed(cohort, changes)
    promote_waitlist(cohort)
    return cohort


def cancel_cohort(actor: User, cohort: Cohort, note: str) -> None:
    note = note.strip()
    if not note:
        raise CohortError(
            _("Say why the cohort is cancelled: registered learners will read it."), "note"
        )
    if cohort.status is not CohortStatus.scheduled:
        raise CohortError(_("Only a scheduled cohort can be cancelled."))
    cohort.status = CohortStatus.cancelled
    cohort.cancellation_note = note
    db_session.flush()
    record_event(actor, "cohort.cancelled", cohort, note=note)
    notifications().cohort_cancelled(cohort)


def close_cohort(actor: User, cohort: Cohort) -> None:
    if cohort.status is not CohortStatus.scheduled:
        raise CohortError(_("Only a scheduled cohort can be closed."))
    cohort.status = CohortStatus.closed
    db_session.flush()
    record_event(actor, "cohort.closed", cohort)


@dataclass
class FacilitatorCohorts:
    upcoming: list[Cohort]
    past: list[Cohort]


def cohorts_for(user: User) -> FacilitatorCohorts:
    """The cohorts a facilitator runs (an admin: all), upcoming (soonest first) and past (latest first)."""
    query = select(Cohort)
    if not user.is_admin:
        query = query.join(CohortFacilitator, CohortFacilitator.cohort_id == Cohort.id).where(
            CohortFacilitator.user_id == user.id
        )
    cohorts = list(db_session.scalars(query.order_by(Cohort.starts_at)).unique())
    now = utcnow()
    upcoming = [
        c for c in cohorts if cohort_ends_at(c) >= now and c.status is CohortStatus.scheduled
    ]
    past = [c for c in reversed(cohorts) if c not in upcoming]
    return FacilitatorCohorts(upcoming, past)


@dataclass(frozen=True)
class Upcoming:
    cohorts: list[Cohort]  # the soonest, at most the limit asked for
    total: int  # how many there are in all


# The longest a session may last (the cohort form's limit): one that started longer ago has ended.
LONGEST_SESSION = timedelta(minutes=MAX_MINUTES)


def upcoming_cohorts(course: Course | None, limit: int | None = None) -> Upcoming:
    """Scheduled cohorts of a course that have not ended, soonest first (the first ``limit``)."""
    if course is None:
        return Upcoming([], 0)
    now = utcnow()
    scheduled = select(Cohort).where(
        Cohort.course_id == course.id, Cohort.status == CohortStatus.scheduled
    )
    running = [
        cohort
        for cohort in db_session.scalars(
            scheduled.where(
                Cohort.starts_at >= now - LONGEST_SESSION, Cohort.starts_at < now
            ).order_by(Cohort.starts_at, Cohort.id)
        )
        if cohort_ends_at(cohort) > now
    ]
    # A course may run hundreds of future sessions: count them, load only those shown.
    future = scheduled.where(Cohort.starts_at >= now)
    future_total = db_session.scalar(future.with_only_columns(func.count()).order_by(None)) or 0
    wanted = None if limit is None else max(limit - len(running), 0)
    later = (
        list(db_session.scalars(future.order_by(Cohort.starts_at, Cohort.id).limit(wanted)))
        if wanted != 0
        else []
    )
    shown = running + later
    return Upcoming(shown if limit is None else shown[:limit], len(running) + future_total)
