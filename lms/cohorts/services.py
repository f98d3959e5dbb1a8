"""Live cohorts: scheduling, registration and waitlist, roster, attendance. Shared by views and CLI.

Services add and flush; the request (or CLI command) commits. Every change a facilitator or an
admin makes to someone else's record writes an audit event.

Rules decided here (see also docs in the templates' help texts):

- Registration is open while the cohort is scheduled, from ``registration_opens_at`` (or its
  creation) until ``registration_closes_at`` (or, without one, until the session ends).
- A seat is held by an enrollment that is registered, in progress or completed; past capacity
  a registration is waitlisted. The waitlist moves up in order (created_at, id) whenever a seat
  frees (a withdrawal, a larger capacity), automatically, with an audit event.
- Two learners racing for the last seat are serialised by a lock on the cohort row (see
  :mod:`lms.cohorts.locking`), then the seats are counted.
- Attendance from minutes (imports): present at ``minimum_minutes`` of the course's certificate
  rule or more; late (attended part of the session: it does not count toward completion) for
  1 minute up to the minimum; absent at 0.
- Attendance follows the clock (:func:`attendance_cap`): nobody has attended more than the
  minutes since the session started, nor more than its length, each plus
  ``LMS_ATTENDANCE_TOLERANCE_MINUTES`` for joining early and running late.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.audit.services import record_event
from lms.certificates.models import Certificate
from lms.cohorts import attendance_import
from lms.cohorts.locking import lock_fresh, lock_row
from lms.cohorts.models import (
    Attendance,
    AttendanceSource,
    AttendanceStatus,
    Cohort,
    CohortFacilitator,
    CohortStatus,
)
from lms.courses.loader import LoadedCourse
from lms.courses.models import Course, CourseStatus
from lms.db import db_session, utcnow
from lms.i18n import _, _l
from lms.learning.models import (
    Enrollment,
    EnrollmentStatus,
    LearningPath,
    Reflection,
    ReflectionStatus,
)
from lms.learning.progress import refresh_completion

SEAT_STATUSES = (
    EnrollmentStatus.registered,
    EnrollmentStatus.in_progress,
    EnrollmentStatus.completed,
)
ACTIVE_STATUSES = (*SEAT_STATUSES, EnrollmentStatus.waitlisted)
MAX_CAPACITY = 10_000
MAX_MINUTES = 24 * 60
IMPORT_SALT = "lms.cohorts.attendance-import"
IMPORT_MAX_AGE = 3600  # seconds a preview stays valid
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a session (and its registration window) may be in


class CohortError(ValueError):
    """An operation on a cohort that cannot be done; the message is shown to the person.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# -- time zones -------------------------------------------------------------------------------


def time_zone_choices() -> list[str]:
    """Named zones people pick from (Area/City), sorted; "UTC" first."""
    zones = sorted(
        zone
        for zone in available_timezones()
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    )
    return ["UTC", *zones]


def zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CohortError(
            _("%(zone)s is not a time zone we know.", zone=name), "time_zone"
        ) from None


def local_to_utc(
    day: date,
    at: time,
    zone: str,
    *,
    date_field: str = "start_date",
    time_field: str = "start_time",
) -> datetime:
    """A wall-clock date and time in ``zone`` as aware UTC; a time skipped by a clock change is refused.

    Dates are kept to the years FIRST_YEAR to LAST_YEAR, so that a session's start, end and
    registration window can always be computed (a date near the ends of what Python holds cannot).
    ``date_field`` and ``time_field`` name the form fields a refusal belongs to.
    """
    tz = zone_info(zone)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CohortError(
            _(
                "Choose a date in the years %(first)s to %(last)s.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
            date_field,
        )
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)
    round_trip = local.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise CohortError(
            _(
                "%(time)s does not exist on that day in %(zone)s: the clocks change. Choose another time.",
                time=at.strftime("%H:%M"),
                zone=zone,
            ),
            time_field,
        )
    return local.astimezone(UTC)


def utc_to_local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(zone_info(zone))


def cohort_local_start(cohort: Cohort) -> datetime:
    return utc_to_local(cohort.starts_at, cohort.time_zone)


def cohort_ends_at(cohort: Cohort) -> datetime:
    return cohort.starts_at + timedelta(minutes=cohort.minutes)


def session_ended(cohort: Cohort, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= cohort_ends_at(cohort)


def attendance_cap(cohort: Cohort, now: datetime | None = None) -> int:
    """The most minutes anyone can have attended by now: the minutes since the session started
    (none before it, bar joining early), never more than its length, each plus the tolerance."""
    tolerance = max(int(current_app.config["LMS_ATTENDANCE_TOLERANCE_MINUTES"]), 0)
    elapsed = ((now or utcnow()) - cohort.starts_at) // timedelta(minutes=1)
    return max(0, min(elapsed, cohort.minutes) + tolerance)


# -- courses ----------------------------------------------------------------------------------


def catalog() -> Any:
    from lms.state import lms_state

    return lms_state().catalog


def live_courses() -> list[LoadedCourse]:
    """Courses that offer the live path (and so a certificate), for the scheduling form."""
    active = set(
        db_session.scalars(select(Course.slug).where(Course.status == CourseStatus.active))
    )
    return [
        course
        for course in catalog().all()
        if "live" in course.definition.paths and course.slug in active
    ]


def loaded_course(cohort: Cohort) -> LoadedCourse | None:
    return catalog().get(cohort.course.slug)


def course_definition(cohort: Cohort) -> Any:
    loaded = loaded_course(cohort)
    if loaded is None:
        raise CohortError(
            _(
                "This cohort's course is no longer in the catalog, so its progress cannot be updated."
            )
        )
    return loaded.definition


def course_title(cohort: Cohort, locale: str) -> str:
    loaded = loaded_course(cohort)
    return loaded.localized("title", locale) if loaded is not None else cohort.course.title


# -- who may do what --------------------------------------------------------------------------


def is_cohort_facilitator(user: Any, cohort: Cohort) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        db_session.scalar(
            select(func.count())
            .select_from(CohortFacilitator)
            .where(CohortFacilitator.cohort_id == cohort.id, CohortFacilitator.user_id == user.id)
        )
        > 0
    )


def can_manage_cohort(user: Any, cohort: Cohort) -> bool:
    """Admins manage every cohort; a facilitator the cohorts they facilitate."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    return bool(user.is_facilitator) and is_cohort_facilitator(user, cohort)


def get_cohort(cohort_id: int) -> Cohort | None:
    return db_session.get(Cohort, cohort_id)


def managed_cohort(user: Any, cohort_id: int) -> Cohort | None:
    """The cohort if ``user`` may manage it, else None (the view answers 404)."""
    cohort = get_cohort(cohort_id)
    if cohort is None or not can_manage_cohort(user, cohort):
        return None
    return cohort


# -- scheduling -------------------------------------------------------------------------------


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
    from lms.courses.catalog import course_row

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
    from lms.courses.catalog import course_row

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
LONGEST_SESSION = timedelta(days=1)


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


# -- registration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatCount:
    taken: int = 0
    waitlisted: int = 0


def seat_counts(cohorts: Sequence[Cohort]) -> dict[int, SeatCount]:
    """Seats taken and waitlist length of each cohort, in one query (the one place they are counted)."""
    ids = [cohort.id for cohort in cohorts]
    counts: dict[int, dict[str, int]] = {
        cohort_id: {"taken": 0, "waitlisted": 0} for cohort_id in ids
    }
    if ids:
        statement = (
            select(Enrollment.cohort_id, Enrollment.status, func.count())
            .where(Enrollment.cohort_id.in_(ids), Enrollment.status.in_(ACTIVE_STATUSES))
            .group_by(Enrollment.cohort_id, Enrollment.status)
        )
        for cohort_id, status, count in db_session.execute(statement):
            counts[cohort_id][
                "waitlisted" if status is EnrollmentStatus.waitlisted else "taken"
            ] += count
    return {cohort_id: SeatCount(**count) for cohort_id, count in counts.items()}


def enrollments_in(cohorts: Sequence[Cohort], user: Any) -> dict[int, Enrollment]:
    """The user's enrollment in each of the cohorts that has one, by cohort id, in one query."""
    if not cohorts or user is None or not getattr(user, "is_authenticated", False):
        return {}
    statement = select(Enrollment).where(
        Enrollment.cohort_id.in_([cohort.id for cohort in cohorts]), Enrollment.user_id == user.id
    )
    return {enrollment.cohort_id: enrollment for enrollment in db_session.scalars(statement)}


def seats_taken(cohort: Cohort) -> int:
    return seat_counts([cohort])[cohort.id].taken


def waitlist_length(cohort: Cohort) -> int:
    return seat_counts([cohort])[cohort.id].waitlisted


def registration_closes_at(cohort: Cohort) -> datetime:
    return cohort.registration_closes_at or cohort_ends_at(cohort)


def registration_problem(cohort: Cohort, now: datetime | None = None) -> str | None:
    """Why nobody can register now, or None when registration is open."""
    now = now or utcnow()
    if cohort.status is CohortStatus.cancelled:
        return _("This session was cancelled.")
    if cohort.status is CohortStatus.closed:
        return _("Registration for this session is closed.")
    if cohort.registration_opens_at and now < cohort.registration_opens_at:
        return _("Registration has not opened yet.")
    if now >= registration_closes_at(cohort):
        return _("Registration for this session is closed.")
    return None


def enrollment_in(cohort: Cohort, user: Any, *, fresh: bool = False) -> Enrollment | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    query = select(Enrollment).where(
        Enrollment.cohort_id == cohort.id, Enrollment.user_id == user.id
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return db_session.scalar(query)


# Attendance is matched by email address, and certificates follow attendance: a live session
# needs an address its owner has confirmed.
UNCONFIRMED_EMAIL = _l(
    "Confirm your email address before you register for a live session: attendance is matched by email, so we need to know this address is yours. Open the link in your welcome message, or ask for a new one."
)


def register(user: User, cohort: Cohort) -> Enrollment:
    """Register ``user`` for ``cohort`` (waitlisted when full). Registering twice is harmless."""
    lock_fresh(cohort)  # first: the seats counted below cannot change under us
    existing = enrollment_in(cohort, user, fresh=True)
    if existing is not None and existing.status in ACTIVE_STATUSES:
        return existing
    if user.email_confirmed_at is None:
        raise CohortError(UNCONFIRMED_EMAIL)
    problem = registration_problem(cohort)
    if problem:
        raise CohortError(problem)
    loaded = loaded_course(cohort)
    if (
        loaded is None
        or "live" not in loaded.definition.paths
        or cohort.course.status is not CourseStatus.active
    ):
        raise CohortError(_("This course is not offered live any more."))
    status = (
        EnrollmentStatus.registered
        if seats_taken(cohort) < cohort.capacity
        else EnrollmentStatus.waitlisted
    )
    now = utcnow()
    if existing is not None:  # withdrawn earlier: back in, at the end of the queue
        existing.status = status
        existing.withdrawn_at = None
        existing.created_at = now
        db_session.flush()
        notifications().registered(existing)
        return existing
    enrollment = Enrollment(
        user_id=user.id,
        course_id=cohort.course_id,
        path=LearningPath.live,
        cohort_id=cohort.id,
        status=status,
        created_at=now,
    )
    try:
        with db_session.begin_nested():
            db_session.add(enrollment)
    except IntegrityError:  # the same person's second click, committed in between
        found = enrollment_in(cohort, user, fresh=True)
        if found is None:
            raise
        return found
    notifications().registered(enrollment)
    return enrollment


def withdraw(user: User, cohort: Cohort) -> Enrollment:
    lock_row(Cohort, cohort.id)
    enrollment = enrollment_in(cohort, user, fresh=True)
    if enrollment is None or enrollment.status is EnrollmentStatus.withdrawn:
        raise CohortError(_("You are not registered for this session."))
    if enrollment.status is EnrollmentStatus.completed or db_session.scalar(
        select(Attendance.id).where(Attendance.enrollment_id == enrollment.id)
    ):
        raise CohortError(
            _("Your attendance is already recorded, so you cannot withdraw from this session.")
        )
    held_seat = enrollment.status in SEAT_STATUSES
    enrollment.status = EnrollmentStatus.withdrawn
    enrollment.withdrawn_at = utcnow()
    db_session.flush()
    notifications().withdrawn(enrollment, held_seat)
    if held_seat:
        promote_waitlist(cohort)
    return enrollment


def promote_waitlist(cohort: Cohort, actor: User | None = None) -> list[Enrollment]:
    """Move waitlisted people into free seats, oldest first. The caller holds the cohort lock."""
    if cohort.status is not CohortStatus.scheduled:
        return []
    free = cohort.capacity - seats_taken(cohort)
    if free <= 0:
        return []
    waiting = list(
        db_session.scalars(
            select(Enrollment)
            .where(
                Enrollment.cohort_id == cohort.id, Enrollment.status == EnrollmentStatus.waitlisted
            )
            .order_by(Enrollment.created_at, Enrollment.id)
            .limit(free)
            .execution_options(populate_existing=True)
        )
    )
    for enrollment in waiting:
        enrollment.status = EnrollmentStatus.registered
        db_session.flush()
        record_event(
            actor,
            "cohort.waitlist_promoted",
            enrollment,
            cohort_id=cohort.id,
            user_id=enrollment.user_id,
            automatic=actor is None,
        )
        notifications().promoted(enrollment)
    return waiting


def waitlist_position(enrollment: Enrollment) -> int | None:
    if enrollment.status is not EnrollmentStatus.waitlisted:
        return None
    ahead = (
        db_session.scalar(
            select(func.count())
            .select_from(Enrollment)
            .where(
                Enrollment.cohort_id == enrollment.cohort_id,
                Enrollment.status == EnrollmentStatus.waitlisted,
                (Enrollment.created_at < enrollment.created_at)
                | (
                    (Enrollment.created_at == enrollment.created_at)
                    & (Enrollment.id < enrollment.id)
                ),
            )
        )
        or 0
    )
    return ahead + 1


@dataclass
class MyCohort:
    enrollment: Enrollment
    cohort: Cohort
    title: str
    waitlist_position: int | None


def my_cohorts(user: User, locale: str) -> list[MyCohort]:
    """A learner's live registrations (withdrawn ones left out), soonest first: for the dashboard."""
    rows = db_session.execute(
        select(Enrollment, Cohort)
        .join(Cohort, Enrollment.cohort_id == Cohort.id)
        .where(Enrollment.user_id == user.id, Enrollment.status != EnrollmentStatus.withdrawn)
        .order_by(Cohort.starts_at)
    ).all()
    return [MyCohort(e, c, course_title(c, locale), waitlist_position(e)) for e, c in rows]


# -- roster -----------------------------------------------------------------------------------


@dataclass
class RosterLine:
    enrollment: Enrollment
    user: User
    attendance: Attendance | None
    reflections_submitted: int
    reflections_shared: int
    certificate: Certificate | None  # the valid one
    revoked_certificates: int
    waitlist_position: int | None = None
    last_revoked: Certificate | None = None  # the latest revoked one
    session_ended: bool = True

    @property
    def holds_seat(self) -> bool:
        return self.enrollment.status in SEAT_STATUSES

    @property
    def certificate_state(self) -> str:
        """valid; revoked (no valid one, a revoked one: only an admin may issue again, on purpose);
        after_session (completed, the session still running); eligible (completed, none yet); none."""
        if self.certificate is not None:
            return "valid"
        if self.revoked_certificates:
            return "revoked"
        if self.enrollment.status is EnrollmentStatus.completed:
            return "eligible" if self.session_ended else "after_session"
        return "none"


_STATUS_ORDER = {
    EnrollmentStatus.completed: 0,
    EnrollmentStatus.in_progress: 0,
    EnrollmentStatus.registered: 0,
    EnrollmentStatus.waitlisted: 1,
    EnrollmentStatus.withdrawn: 2,
}


def roster(cohort: Cohort) -> list[RosterLine]:
    enrollments = list(
        db_session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort.id)
            .order_by(Enrollment.created_at, Enrollment.id)
        )
    )
    ids = [e.id for e in enrollments]
    if not ids:
        return []
    attendance = {
        a.enrollment_id: a
        for a in db_session.scalars(select(Attendance).where(Attendance.enrollment_id.in_(ids)))
    }
    submitted: dict[int, int] = dict(
        db_session.execute(  # type: ignore[arg-type]
            select(Reflection.enrollment_id, func.count())
            .where(
                Reflection.enrollment_id.in_(ids), Reflection.status == ReflectionStatus.submitted
            )
            .group_by(Reflection.enrollment_id)
        ).all()
    )
    shared: dict[int, int] = dict(
        db_session.execute(  # type: ignore[arg-type]
            select(Reflection.enrollment_id, func.count())
            .where(
                Reflection.enrollment_id.in_(ids),
                Reflection.status == ReflectionStatus.submitted,
                Reflection.shared_with_facilitator.is_(True),
            )
            .group_by(Reflection.enrollment_id)
        ).all()
    )
    valid: dict[int, Certificate] = {}
    revoked: dict[int, int] = {}
    last_revoked: dict[int, Certificate] = {}
    for certificate in db_session.scalars(
        select(Certificate)
        .where(Certificate.enrollment_id.in_(ids))
        .order_by(Certificate.revoked_at, Certificate.id)
    ):
        if certificate.revoked_at is None:
            valid[certificate.enrollment_id] = certificate
        else:
            revoked[certificate.enrollment_id] = revoked.get(certificate.enrollment_id, 0) + 1
            last_revoked[certificate.enrollment_id] = certificate
    ended = session_ended(cohort)
    lines = []
    position = 0
    for e in enrollments:
        if e.status is EnrollmentStatus.waitlisted:
            position += 1
        lines.append(
            RosterLine(
                e,
                e.user,
                attendance.get(e.id),
                submitted.get(e.id, 0),
                shared.get(e.id, 0),
                valid.get(e.id),
                revoked.get(e.id, 0),
                position if e.status is EnrollmentStatus.waitlisted else None,
                last_revoked.get(e.id),
                ended,
            )
        )
    lines.sort(
        key=lambda line: (
            _STATUS_ORDER.get(line.enrollment.status, 3),
            line.waitlist_position or 0,
            line.user.display_name.casefold(),
        )
    )
    return lines


def seat_holders(cohort: Cohort) -> list[Enrollment]:
    return list(
        db_session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort.id, Enrollment.status.in_(SEAT_STATUSES))
            .order_by(Enrollment.id)
        )
    )


def roster_enrollment(cohort: Cohort, enrollment_id: int) -> Enrollment | None:
    enrollment = db_session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.cohort_id != cohort.id:
        return None
    return enrollment


def shared_reflections(enrollment: Enrollment) -> list[Reflection]:
    """Submitted reflections the learner chose to share with the facilitator (only those)."""
    return list(
        db_session.scalars(
            select(Reflection)
            .where(
                Reflection.enrollment_id == enrollment.id,
                Reflection.status == ReflectionStatus.submitted,
                Reflection.shared_with_facilitator.is_(True),
            )
            .order_by(Reflection.submitted_at, Reflection.id)
        )
    )


# -- attendance -------------------------------------------------------------------------------


def status_for_minutes(minutes: int, minimum_minutes: int) -> AttendanceStatus:
    """The import's rule: present at the minimum or more, late for part of it, absent for none."""
    if minutes >= minimum_minutes:
        return AttendanceStatus.present
    if minutes > 0:
        return AttendanceStatus.late
    return AttendanceStatus.absent


def minimum_minutes(cohort: Cohort) -> int:
    definition = course_definition(cohort)
    return definition.certificate.minimum_minutes if definition.certificate else cohort.minutes


def _check_attendance_allowed(cohort: Cohort) -> None:
    if cohort.status is CohortStatus.cancelled:
        raise CohortError(_("This cohort was cancelled, so it has no attendance."))


def record_attendance(
    actor: User,
    enrollment: Enrollment,
    status: AttendanceStatus | None,
    minutes: int,
    source: AttendanceSource,
    definition: Any,
) -> bool:
    """Set (or with ``status=None`` clear) one learner's attendance; returns whether it changed.

    The enrollment's row is locked first, as the learner's own writes lock it: when the learner
    submits their last reflection while the attendance is saved, the later of the two sees the
    other's evidence and completes the enrollment. Callers that record several go in enrollment
    id order (as certificate issuing does), so two of them never wait for each other in a circle.
    """
    lock_fresh(enrollment)
    if enrollment.status not in SEAT_STATUSES:
        raise CohortError(
            _("%(name)s does not hold a seat in this cohort.", name=enrollment.user.display_name)
        )
    current = db_session.scalar(select(Attendance).where(Attendance.enrollment_id == enrollment.id))
    before = (
        {"status": str(current.status), "minutes": current.minutes, "source": str(current.source)}
        if current
        else None
    )
    if status is None:
        if current is None:
            return False
        db_session.delete(current)
        db_session.flush()
        record_event(
            actor, "attendance.cleared", enrollment, cohort_id=enrollment.cohort_id, before=before
        )
    else:
        if current is not None and current.status is status and current.minutes == minutes:
            return False
        if current is None:
            current = Attendance(enrollment_id=enrollment.id, status=status, minutes=minutes)
            db_session.add(current)
        current.status = status
        current.minutes = minutes
        current.source = source
        current.recorded_by_id = actor.id
        current.recorded_at = utcnow()
        db_session.flush()
        record_event(
            actor,
            "attendance.recorded",
            enrollment,
            cohort_id=enrollment.cohort_id,
            source=str(source),
            before=before,
            after={"status": str(status), "minutes": minutes},
        )
    if enrollment.status is EnrollmentStatus.registered:
        enrollment.started_at = enrollment.started_at or utcnow()
    refresh_completion(enrollment, definition)
    return True


def attendance_cap_message(cohort: Cohort, cap: int) -> str:
    if session_ended(cohort):
        return _(
            "Minutes must be between 0 and %(max)s: the session's length (%(minutes)s) and %(tolerance)s more for joining early or running late.",
            max=cap,
            minutes=cohort.minutes,
            tolerance=cap - cohort.minutes,
        )
    return _(
        "Minutes must be between 0 and %(max)s: the session has not ended, and nobody can have attended longer than it has run (with %(tolerance)s minutes for joining early).",
        max=cap,
        tolerance=current_app.config["LMS_ATTENDANCE_TOLERANCE_MINUTES"],
    )


@dataclass(frozen=True)
class AttendanceEntry:
    enrollment_id: int
    status: AttendanceStatus | None
    minutes: int | None


def save_roster_attendance(actor: User, cohort: Cohort, entries: Iterable[AttendanceEntry]) -> int:
    """The roster's attendance form, all at once. Minutes left empty: the session's length for
    present, 0 for excused or absent; late needs minutes. Returns how many records changed."""
    _check_attendance_allowed(cohort)
    definition = course_definition(cohort)
    holders = {e.id: e for e in seat_holders(cohort)}
    cap = attendance_cap(cohort)
    ended = session_ended(cohort)
    changed = 0
    for entry in sorted(entries, key=lambda entry: entry.enrollment_id):
        enrollment = holders.get(entry.enrollment_id)
        if enrollment is None:
            raise CohortError(
                _("The roster changed while you were editing it. Reload the page and try again.")
            )
        minutes = entry.minutes
        if entry.status is None:
            minutes = 0
        elif minutes is None:
            if entry.status is AttendanceStatus.late:
                raise CohortError(
                    _(
                        "Enter the minutes %(name)s attended (they were late).",
                        name=enrollment.user.display_name,
                    )
                )
            if entry.status is AttendanceStatus.present and not ended:
                raise CohortError(
                    _(
                        "Enter the minutes %(name)s has attended so far: the session has not ended yet.",
                        name=enrollment.user.display_name,
                    )
                )
            minutes = cohort.minutes if entry.status is AttendanceStatus.present else 0
        if not 0 <= minutes <= cap:
            raise CohortError(attendance_cap_message(cohort, cap))
        changed += record_attendance(
            actor, enrollment, entry.status, minutes, AttendanceSource.manual, definition
        )
    return changed


# -- attendance import ------------------------------------------------------------------------


@dataclass
class PreviewLine:
    lines: list[int]
    enrollment: Enrollment
    minutes: int
    status: AttendanceStatus
    matched_by: str
    current: Attendance | None
    reported: int = 0  # the file's minutes, when more than the clock allows (see attendance_cap)


@dataclass
class ImportPreview:
    filename: str
    sha256: str
    encoding: str = ""
    separator: str = ""  # how the columns were separated, in words
    cap: int = 0  # the most minutes anyone can have attended by now
    fatal: attendance_import.Problem | None = None
    matched: list[PreviewLine] = field(default_factory=list)
    unmatched: list[attendance_import.UnmatchedRow] = field(default_factory=list)
    ambiguous: list[attendance_import.UnmatchedRow] = field(default_factory=list)
    rejected: list[attendance_import.Problem] = field(default_factory=list)
    not_in_report: list[Enrollment] = field(default_factory=list)
    token: str = ""


SEPARATOR_NAMES = {",": _l("commas"), "\t": _l("tabs"), ";": _l("semicolons")}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=IMPORT_SALT)  # type: ignore[arg-type]


def _roster_fingerprint(holders: Iterable[Enrollment]) -> str:
    return hashlib.sha256(
        ",".join(str(e.id) for e in sorted(holders, key=lambda e: e.id)).encode()
    ).hexdigest()


def preview_import(actor: User, cohort: Cohort, data: bytes, filename: str = "") -> ImportPreview:
    """Read a participant report and match it to the roster without changing anything.

    What apply needs (enrollment ids and minutes, a few bytes per person) travels in a signed,
    expiring token tied to this cohort, this facilitator, the file's SHA-256 and the roster;
    the upload itself is not kept anywhere.
    """
    _check_attendance_allowed(cohort)
    config = current_app.config
    preview = ImportPreview(filename=filename[:200], sha256=hashlib.sha256(data).hexdigest())
    parsed = attendance_import.parse_participant_report(
        data,
        max_bytes=config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"],
        max_rows=config["LMS_ATTENDANCE_UPLOAD_MAX_ROWS"],
    )
    if parsed.fatal is not None and parsed.fatal.message == attendance_import.TOO_LARGE:
        parsed.fatal = upload_too_large_problem()
    preview.encoding = parsed.encoding
    preview.separator = str(SEPARATOR_NAMES.get(parsed.delimiter, parsed.delimiter))
    preview.cap = attendance_cap(cohort)
    if parsed.fatal is not None:
        preview.fatal = parsed.fatal
        return preview
    preview.rejected = parsed.rejected
    holders = seat_holders(cohort)
    entries = [
        attendance_import.RosterEntry(e.id, e.user.email, e.user.display_name) for e in holders
    ]
    matched = attendance_import.match_rows(parsed.rows, entries, attendance_cap(cohort))
    preview.unmatched, preview.ambiguous = matched.unmatched, matched.ambiguous
    by_id = {e.id: e for e in holders}
    minimum = minimum_minutes(cohort)
    current = {
        a.enrollment_id: a
        for a in db_session.scalars(
            select(Attendance).where(Attendance.enrollment_id.in_(list(by_id) or [0]))
        )
    }
    for enrollment_id, person in matched.matched.items():
        preview.matched.append(
            PreviewLine(
                person.lines,
                by_id[enrollment_id],
                person.minutes,
                status_for_minutes(person.minutes, minimum),
                person.matched_by,
                current.get(enrollment_id),
                person.reported,
            )
        )
    preview.matched.sort(key=lambda line: line.enrollment.user.display_name.casefold())
    preview.not_in_report = sorted(
        (e for e in holders if e.id not in matched.matched),
        key=lambda e: e.user.display_name.casefold(),
    )
    if preview.matched:
        preview.token = _serializer().dumps(
            {
                "cohort": cohort.id,
                "actor": actor.id,
                "sha256": preview.sha256,
                "roster": _roster_fingerprint(holders),
                "minutes": [[line.enrollment.id, line.minutes] for line in preview.matched],
            }
        )
    return preview


def apply_import(actor: User, cohort: Cohort, token: str) -> int:
    """Apply a previewed import: every matched person's attendance, all or nothing."""
    _check_attendance_allowed(cohort)
    try:
        payload = _serializer().loads(token, max_age=IMPORT_MAX_AGE)
    except SignatureExpired:
        raise CohortError(
            _("This preview is more than an hour old. Upload the report again.")
        ) from None
    except BadSignature:
        raise CohortError(
            _("This preview could not be checked. Upload the report again.")
        ) from None
    if (
        not isinstance(payload, dict)
        or payload.get("cohort") != cohort.id
        or payload.get("actor") != actor.id
    ):
        raise CohortError(
            _("This preview belongs to another cohort or person. Upload the report again.")
        )
    lock_row(Cohort, cohort.id)
    holders = seat_holders(cohort)
    if payload.get("roster") != _roster_fingerprint(holders):
        raise CohortError(_("The roster changed since the preview. Upload the report again."))
    by_id = {e.id: e for e in holders}
    definition = course_definition(cohort)
    minimum = minimum_minutes(cohort)
    cap = attendance_cap(cohort)  # it only grows: what the preview capped is still within it
    changed = 0
    for enrollment_id, minutes in sorted(payload.get("minutes", []), key=lambda pair: pair[0]):
        enrollment = by_id.get(enrollment_id)
        if enrollment is None or not isinstance(minutes, int) or not 0 <= minutes <= cap:
            raise CohortError(_("This preview could not be checked. Upload the report again."))
        changed += record_attendance(
            actor,
            enrollment,
            status_for_minutes(minutes, minimum),
            minutes,
            AttendanceSource.import_,
            definition,
        )
    record_event(
        actor,
        "attendance.imported",
        cohort,
        sha256=payload.get("sha256"),
        people=len(payload.get("minutes", [])),
        changed=changed,
    )
    return changed


def upload_too_large_problem() -> attendance_import.Problem:
    """A participant report over the limit: the import's own, or the whole request's if lower."""
    from lms.formatting import lms_number
    from lms.uploads import upload_limit

    limit = upload_limit(current_app.config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"])
    return attendance_import.Problem(
        None, attendance_import.TOO_LARGE, {"limit": lms_number(limit)}
    )


def problem_text(problem: Any) -> str:
    """A parse or match problem in the viewer's language."""
    return _(problem.message, **problem.params) if problem.params else _(problem.message)


# -- mail -------------------------------------------------------------------------------------


def notifications() -> Any:
    """The mail the cohort's changes send (``lms.notifications.services``): rows and jobs only."""
    from lms.notifications import services as notification_services

    return notification_services
