"""Registration for a live session: seats, registering, withdrawing and the waitlist.

- Registration is open while the cohort is scheduled, from ``registration_opens_at`` (or its
  creation) until ``registration_closes_at`` (or, without one, until the session ends).
- A seat is held by an enrollment that is registered, in progress or completed
  (:data:`lms.cohorts.services.SEAT_STATUSES`); past capacity a registration is waitlisted.
  The waitlist moves up in order (created_at, id) whenever a seat frees (a withdrawal, a larger
  capacity), automatically, with an audit event.
- Two learners racing for the last seat are serialised by a lock on the cohort row (see
  :mod:`lms.cohorts.locking`), then the seats are counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.audit.services import record_event
from lms.cohorts.clock import cohort_ends_at
from lms.cohorts.locking import lock_fresh, lock_row
from lms.cohorts.models import Attendance, Cohort, CohortStatus
from lms.cohorts.services import (
    ACTIVE_STATUSES,
    SEAT_STATUSES,
    CohortError,
    course_title,
    loaded_course,
    notifications,
)
from lms.courses.models import CourseStatus
from lms.db import db_session, utcnow
from lms.i18n import _, _l
from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath


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
    "Confirm your email address before you register for a live session: attendance is matched by email, so we need to know this address is yours. Open the link in your welcome message, or ask for a new one."  # noqa: E501
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
