"""Live cohorts: what every part of the area shares, in one place each.

The operations live in modules by sub-area, shared by the views and the CLI:

- :mod:`lms.cohorts.clock`: time zones, wall-clock times to UTC and back, when a session ends;
- :mod:`lms.cohorts.scheduling`: scheduling, changing, cancelling and closing a cohort, the
  facilitator's list and a course's upcoming sessions;
- :mod:`lms.cohorts.registration`: seats, registration, withdrawal and the waitlist;
- :mod:`lms.cohorts.roster`: who is in a cohort, with their attendance, reflections and
  certificates;
- :mod:`lms.cohorts.attendance`: recording attendance by hand or from a participant report
  (read by :mod:`lms.cohorts.attendance_import`);
- :mod:`lms.cohorts.calendar`: the calendar file of a session.

This module keeps what several of them (and other areas) need: the error they raise, which
enrollment statuses hold a seat, the cohort's course in the catalog, who may manage a cohort
(the roles are in docs/roles.md) and the mail the changes send. It stays ``services`` so that
other areas keep asking one module who may manage a cohort, and so that the import-linter's
layers (views -> forms -> services -> models) name it.

Services add and flush; the request (or CLI command) commits. Every change a facilitator or an
admin makes to someone else's record writes an audit event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from lms.cohorts.models import Cohort, CohortFacilitator
from lms.courses.loader import LoadedCourse
from lms.courses.models import Course, CourseStatus
from lms.db import db_session
from lms.i18n import _
from lms.learning.models import EnrollmentStatus
from lms.state import lms_state

# A seat is held by an enrollment that is registered, in progress or completed; a waitlisted one
# is active too (it may move up), a withdrawn one neither.
SEAT_STATUSES = (
    EnrollmentStatus.registered,
    EnrollmentStatus.in_progress,
    EnrollmentStatus.completed,
)
ACTIVE_STATUSES = (*SEAT_STATUSES, EnrollmentStatus.waitlisted)


class CohortError(ValueError):
    """An operation on a cohort that cannot be done; the message is shown to the person.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# -- courses ----------------------------------------------------------------------------------


def catalog() -> Any:
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


# -- mail -------------------------------------------------------------------------------------


def notifications() -> Any:
    """The mail the cohort's changes send (``lms.notifications.services``): rows and jobs only."""
    # cycle: lms.notifications.services builds on the cohorts (their models, course titles,
    # waitlist positions and calendar file) and may import them at module level; the cohorts,
    # below it, reach it only when a change sends mail.
    from lms.notifications import services as notification_services

    return notification_services
