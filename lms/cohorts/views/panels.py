"""Cohort sections on other areas' pages: the live sessions on the course page and the learner's
sessions on the dashboard (/me), registered with the course page and the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from lms import caching
from lms.cohorts import clock, registration, scheduling
from lms.cohorts.models import CohortStatus
from lms.cohorts.views.common import blueprint, enrollment_status_label
from lms.courses.loader import LoadedCourse
from lms.courses.models import Course
from lms.courses.presentation import register_course_panel
from lms.db import db_session, utcnow
from lms.i18n import current_locale
from lms.learning.models import EnrollmentStatus
from lms.web.caching import kept

# The course page lists the soonest sessions; a link shows them all (a course may run hundreds).
COURSE_PAGE_SESSIONS = 8


def cohorts_course_panel(course: LoadedCourse) -> str:
    """Upcoming live sessions on the public course page, each with a register button."""
    if "live" not in course.definition.paths:
        return ""
    show_all = request.args.get("sessions") == "all"
    if current_user.is_authenticated:
        caching.built_for_this_request_only()  # the person's own registrations, read live
        return _sessions_panel(course, show_all).html
    # Every visitor who is not signed in sees the same list: it is kept until a session or a
    # seat of this course changes (the course's version, read before the sessions) or the
    # clock reaches a session's start, end or registration dates.
    return kept(
        "course_sessions",
        (course.slug, show_all),
        lambda: _sessions_panel(course, show_all),
        versions=[caching.course(course.slug)],
        until=lambda panel: panel.valid_until,
    ).html


@dataclass(frozen=True)
class SessionsPanel:
    html: Markup
    valid_until: datetime | None  # when the clock changes what it shows


def _sessions_panel(course: LoadedCourse, show_all: bool) -> SessionsPanel:
    now = utcnow()
    row = db_session.scalar(select(Course).where(Course.slug == course.slug))
    upcoming = scheduling.upcoming_cohorts(row, limit=None if show_all else COURSE_PAGE_SESSIONS)
    cohorts = upcoming.cohorts
    mine = {
        cohort_id: enrollment
        for cohort_id, enrollment in registration.enrollments_in(cohorts, current_user).items()
        if enrollment.status is not EnrollmentStatus.withdrawn
    }
    counts = registration.seat_counts(cohorts)
    moments = [
        moment
        for cohort in cohorts
        for moment in (
            cohort.registration_opens_at,
            registration.registration_closes_at(cohort),
            cohort.starts_at,
            clock.cohort_ends_at(cohort),
        )
        if moment is not None and moment > now
    ]
    html = Markup(
        render_template(
            "lms/cohorts/_course_panel.html",
            cohorts=cohorts,
            total=upcoming.total,
            course_slug=course.slug,
            mine=mine,
            seats_left={c.id: max(c.capacity - counts[c.id].taken, 0) for c in cohorts},
            registration_problem=registration.registration_problem,
            unconfirmed_email=registration.UNCONFIRMED_EMAIL,
            status_label=enrollment_status_label,
        )
    )
    return SessionsPanel(html, min(moments, default=None))


def my_cohorts_panel() -> str:
    """The signed-in learner's live sessions, for the dashboard (/me): include its HTML there."""
    if not current_user.is_authenticated:
        return ""
    entries = registration.my_cohorts(current_user, current_locale())
    if not entries:
        return ""
    return Markup(
        render_template(
            "lms/cohorts/_my_cohorts.html", entries=entries, status_label=enrollment_status_label
        )
    )


@blueprint.record_once
def _add_course_panel(state) -> None:
    register_course_panel(state.app, cohorts_course_panel, of_kept_parts=True)


@blueprint.app_context_processor
def _cohort_helpers() -> dict[str, Any]:
    return {"lms_my_cohorts_panel": my_cohorts_panel, "CohortStatus": CohortStatus}
