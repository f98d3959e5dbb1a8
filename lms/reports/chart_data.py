"""The admin overview's charts: completions by month and by course, attendance by cohort and
reflections by month, each ONE ``select()`` (the portability notes of ``lms.reports.queries``
hold here too: months are UTC months, from :class:`~lms.reports.queries.month_of`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, select

from lms.cohorts.models import Attendance, AttendanceStatus, Cohort, CohortStatus
from lms.courses.models import Course
from lms.db import utcnow
from lms.learning.models import (
    Enrollment,
    EnrollmentStatus,
    LearningPath,
    Reflection,
    ReflectionStatus,
)
from lms.reports.queries import month_of


def month_starts(months: int, today: dt.date | None = None) -> list[str]:
    """The last ``months`` calendar months, oldest first, as ``'YYYY-MM'``."""
    today = today or utcnow().date()
    year, month = today.year, today.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(keys))


def _first_day(key: str) -> dt.datetime:
    year, month = (int(part) for part in key.split("-"))
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def completions_by_month(session: Any, months: int = 12) -> dict[str, dict[str, int]]:
    """Completed enrollments per UTC month and path: ``{"2026-03": {"live": 4, ...}}``."""
    keys = month_starts(months)
    month = month_of(Enrollment.completed_at)
    statement = (
        select(month.label("month"), Enrollment.path, func.count())
        .where(
            Enrollment.status == EnrollmentStatus.completed,
            Enrollment.completed_at >= _first_day(keys[0]),
        )
        .group_by(month, Enrollment.path)
    )
    table = {key: {path.value: 0 for path in LearningPath} for key in keys}
    for key, path, count in session.execute(statement):
        if key in table:
            table[key][str(path)] = int(count)
    return table


def completions_by_course(session: Any, limit: int = 12) -> list[tuple[str, str, int, int]]:
    """Courses with the most completions: slug, title, live completions, all completions."""
    statement = (
        select(
            Course.slug,
            Course.title,
            func.coalesce(func.sum(case((Enrollment.path == LearningPath.live, 1), else_=0)), 0),
            func.count(Enrollment.id),
        )
        .join(Enrollment, Enrollment.course_id == Course.id)
        .where(Enrollment.status == EnrollmentStatus.completed)
        .group_by(Course.id, Course.slug, Course.title)
        .order_by(func.count(Enrollment.id).desc(), Course.title)
        .limit(limit)
    )
    return [
        (slug, title, int(live), int(total))
        for slug, title, live, total in session.execute(statement)
    ]


# An enrollment that holds a seat (waitlisted and withdrawn people are not expected to attend).
SEATED = (EnrollmentStatus.registered, EnrollmentStatus.in_progress, EnrollmentStatus.completed)


def attendance_by_cohort(
    session: Any, limit: int = 12
) -> list[tuple[int, str, dt.datetime, int, int]]:
    """The newest cohorts that have started (not cancelled): id, title, start, registered, attended.

    Registered counts enrollments holding a seat; attended counts those marked present or late.
    """
    attended = case(
        (Attendance.status.in_([AttendanceStatus.present, AttendanceStatus.late]), 1), else_=0
    )
    statement = (
        select(
            Cohort.id,
            Cohort.title,
            Cohort.starts_at,
            func.count(Enrollment.id),
            func.coalesce(func.sum(attended), 0),
        )
        .join(Enrollment, and_(Enrollment.cohort_id == Cohort.id, Enrollment.status.in_(SEATED)))
        .outerjoin(Attendance, Attendance.enrollment_id == Enrollment.id)
        .where(Cohort.starts_at <= utcnow(), Cohort.status != CohortStatus.cancelled)
        .group_by(Cohort.id, Cohort.title, Cohort.starts_at)
        .order_by(Cohort.starts_at.desc(), Cohort.id.desc())
        .limit(limit)
    )
    rows = [
        (cid, title, starts, int(registered), int(present))
        for cid, title, starts, registered, present in session.execute(statement)
    ]
    return list(reversed(rows))


def reflections_by_month(session: Any, months: int = 12) -> dict[str, int]:
    """Submitted reflections per UTC month (by the month they were submitted)."""
    keys = month_starts(months)
    month = month_of(Reflection.submitted_at)
    statement = (
        select(month.label("month"), func.count())
        .where(
            Reflection.status == ReflectionStatus.submitted,
            Reflection.submitted_at >= _first_day(keys[0]),
        )
        .group_by(month)
    )
    table = dict.fromkeys(keys, 0)
    for key, count in session.execute(statement):
        if key in table:
            table[key] = int(count)
    return table
