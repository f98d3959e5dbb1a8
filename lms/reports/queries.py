"""The reports' queries: ONE ``select()`` per report, plain columns, no per-row queries.

The completion report (:func:`completion_query`) is used by the page, its summary numbers, the
CSV and XLSX exports and the CLI, so what the screen counts is exactly what the files hold.

Portability notes:

* The cohort's facilitators come from a derived table grouped by cohort, their names joined
  with :class:`joined_names`: ``string_agg(name, ', ' ORDER BY name)`` on PostgreSQL and
  ``group_concat`` over a name-ordered subquery on SQLite (which keeps that order; SQLite 3.40
  has no ``ORDER BY`` inside aggregates).
* Calendar months for the charts (``lms.reports.chart_data``) come from :class:`month_of`: ``strftime('%Y-%m', ...)`` on
  SQLite and ``to_char(... AT TIME ZONE 'UTC', 'YYYY-MM')`` on PostgreSQL. Months are UTC months;
  the exports' times are written in UTC the same way (:class:`iso_utc`).
* The certificate shown for an enrollment is :class:`CurrentCertificate`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from lms.accounts.models import User, folded
from lms.certificates.models import Certificate
from lms.cohorts.models import Attendance, Cohort, CohortFacilitator
from lms.courses.models import Course
from lms.db import parse_id
from lms.learning.models import (
    Enrollment,
    EnrollmentStatus,
    LearningPath,
    Reflection,
    ReflectionStatus,
)
from lms.reports.filters import CompletionFilters

# -- dialect-aware SQL helpers ----------------------------------------------------------------------


class joined_names(FunctionElement[str]):
    """``joined_names(column)``: the group's values joined with ", ", in order of the values."""

    type = String()
    inherit_cache = True
    name = "joined_names"


@compiles(joined_names)
def _joined_names_default(element: joined_names, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"group_concat({compiler.process(column, **kw)}, ', ')"


@compiles(joined_names, "postgresql")
def _joined_names_postgresql(element: joined_names, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    sql = compiler.process(column, **kw)
    return f"string_agg({sql}, ', ' ORDER BY {sql})"


class _utc_text(FunctionElement[str]):
    """A timestamp as text in UTC, in the subclass's format (one spelling per dialect)."""

    type = String()
    inherit_cache = True
    strftime_format = ""  # SQLite
    to_char_format = ""  # PostgreSQL


@compiles(_utc_text)
def _utc_text_default(element: _utc_text, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"strftime('{element.strftime_format}', {compiler.process(column, **kw)})"


@compiles(_utc_text, "postgresql")
def _utc_text_postgresql(element: _utc_text, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return (
        f"to_char({compiler.process(column, **kw)} AT TIME ZONE 'UTC', '{element.to_char_format}')"
    )


class month_of(_utc_text):
    """``month_of(timestamp)``: its UTC calendar month as ``'YYYY-MM'``."""

    name = "month_of"
    inherit_cache = True
    strftime_format = "%Y-%m"
    to_char_format = "YYYY-MM"


class iso_utc(_utc_text):
    """``iso_utc(timestamp)``: the time in UTC as ISO 8601 text to the second, ``2026-03-01T14:00:00Z``."""

    name = "iso_utc"
    inherit_cache = True
    strftime_format = "%Y-%m-%dT%H:%M:%SZ"
    to_char_format = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'


# -- the completion report ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportScope:
    """Whose rows a report may hold: everyone's (admins), or one facilitator's live cohorts."""

    facilitator_id: int | None = None

    @classmethod
    def everything(cls) -> ReportScope:
        return cls()

    @classmethod
    def cohorts_of(cls, user_id: int) -> ReportScope:
        return cls(facilitator_id=user_id)


# The report's columns, in order; each row from completion_query() is a tuple of these.
COLUMNS = (
    "enrollment_id",
    "learner",
    "email",
    "affiliate",
    "audience_role",
    "course_slug",
    "course_title",
    "path",
    "cohort_id",
    "cohort_title",
    "facilitators",
    "status",
    "enrolled_at",
    "completed_at",
    "attendance_minutes",
    "reflections_submitted",
    "certificate_code",
    "certificate_status",
)


def _facilitator_names():
    """A derived table: cohort_id and its facilitators' names joined, ordered by name."""
    ordered = (
        select(CohortFacilitator.cohort_id.label("cohort_id"), User.display_name.label("name"))
        .join(User, User.id == CohortFacilitator.user_id)
        .order_by(CohortFacilitator.cohort_id, User.display_name)
        .subquery("facilitator_rows")
    )
    return (
        select(ordered.c.cohort_id, joined_names(ordered.c.name).label("names"))
        .group_by(ordered.c.cohort_id)
        .subquery("cohort_facilitators")
    )


@dataclass(frozen=True)
class CurrentCertificate:
    """The certificate a report row shows: the enrollment's valid one (the database allows at most
    one) or, when there is none, its newest revoked or replaced one; an anti-join, no aggregate."""

    table: Any
    join_on: ColumnElement[bool]
    status: ColumnElement[str]

    @classmethod
    def build(cls) -> CurrentCertificate:
        certificate = aliased(Certificate, name="current_certificate")
        better = aliased(Certificate, name="better_certificate")
        # No other certificate of the enrollment is valid or newer.
        is_current = or_(
            certificate.revoked_at.is_(None),
            ~exists().where(
                better.enrollment_id == certificate.enrollment_id,
                or_(better.revoked_at.is_(None), better.id > certificate.id),
            ),
        )
        status = case(
            (Enrollment.path != LearningPath.live, literal("not_available")),
            (certificate.id.is_(None), literal("none")),
            (certificate.revoked_at.is_(None), literal("valid")),
            (certificate.replaced_by_id.is_not(None), literal("replaced")),
            else_=literal("revoked"),
        )
        return cls(
            certificate, and_(certificate.enrollment_id == Enrollment.id, is_current), status
        )


def completion_query(filters: CompletionFilters, scope: ReportScope = ReportScope()) -> Select[Any]:
    """One row per enrollment (see :data:`COLUMNS`), filtered, in enrollment order."""
    current = CurrentCertificate.build()
    certificate = current.table
    facilitators = _facilitator_names()
    reflections = (
        select(func.count(Reflection.id))
        .where(
            Reflection.enrollment_id == Enrollment.id,
            Reflection.status == ReflectionStatus.submitted,
        )
        .correlate(Enrollment)
        .scalar_subquery()
    )
    certificate_status = current.status
    statement = (
        select(
            Enrollment.id.label("enrollment_id"),
            User.display_name.label("learner"),
            User.email.label("email"),
            User.affiliate.label("affiliate"),
            User.audience_role.label("audience_role"),
            Course.slug.label("course_slug"),
            Course.title.label("course_title"),
            Enrollment.path.label("path"),
            Enrollment.cohort_id.label("cohort_id"),
            Cohort.title.label("cohort_title"),
            facilitators.c.names.label("facilitators"),
            Enrollment.status.label("status"),
            Enrollment.created_at.label("enrolled_at"),
            Enrollment.completed_at.label("completed_at"),
            Attendance.minutes.label("attendance_minutes"),
            reflections.label("reflections_submitted"),
            certificate.code.label("certificate_code"),
            certificate_status.label("certificate_status"),
        )
        .select_from(Enrollment)
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(Cohort, Cohort.id == Enrollment.cohort_id)
        .outerjoin(facilitators, facilitators.c.cohort_id == Enrollment.cohort_id)
        .outerjoin(Attendance, Attendance.enrollment_id == Enrollment.id)
        .outerjoin(certificate, current.join_on)
        .order_by(Enrollment.id)
    )
    return statement.where(*_conditions(filters, scope, certificate_status))


def _conditions(
    filters: CompletionFilters, scope: ReportScope, certificate_status: ColumnElement[str]
) -> list[Any]:
    conditions: list[Any] = []
    if scope.facilitator_id is not None:
        own = select(CohortFacilitator.cohort_id).where(
            CohortFacilitator.user_id == scope.facilitator_id
        )
        conditions += [Enrollment.path == LearningPath.live, Enrollment.cohort_id.in_(own)]
    if filters.course:
        conditions.append(Course.slug == filters.course)
    if filters.path:
        conditions.append(Enrollment.path == LearningPath(filters.path))
    if filters.cohort is not None:
        conditions.append(Enrollment.cohort_id == filters.cohort)
    if filters.facilitator:
        link = exists().where(CohortFacilitator.cohort_id == Enrollment.cohort_id)
        if (facilitator_id := parse_id(filters.facilitator)) is not None:
            link = link.where(CohortFacilitator.user_id == facilitator_id)
        else:
            by_email = (
                select(User.id)
                .where(User.email == filters.facilitator)
                .correlate(None)
                .scalar_subquery()
            )
            link = link.where(CohortFacilitator.user_id == by_email)
        conditions.append(link)
    if filters.status:
        conditions.append(Enrollment.status == EnrollmentStatus(filters.status))
    start, end = filters.utc_bounds()
    column = Enrollment.completed_at if filters.dates == "completed" else Enrollment.created_at
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    if filters.affiliate:
        conditions.append(User.affiliate_key == folded(filters.affiliate))
    if filters.audience_role:
        conditions.append(User.audience_role == filters.audience_role)
    if filters.certificate_status:
        conditions.append(certificate_status == filters.certificate_status)
    return conditions


def completion_page(
    session: Any, filters: CompletionFilters, scope: ReportScope, page: int, size: int
) -> list[Any]:
    """One screen of the report: offset paging over the stable enrollment-id order."""
    statement = completion_query(filters, scope).limit(size).offset((page - 1) * size)
    return list(session.execute(statement))


@dataclass(frozen=True)
class CompletionSummary:
    total: int = 0
    completed: int = 0
    live: int = 0
    recording: int = 0
    self_paced: int = 0
    certificates_valid: int = 0


def completion_summary(
    session: Any, filters: CompletionFilters, scope: ReportScope
) -> CompletionSummary:
    """The filtered report's totals: the rows :func:`completion_query` gives, counted.

    Every join of the report adds at most one row per enrollment, so counting needs only the
    joins that the filters or the counts read: on a million enrollments that is a fraction of a
    second where counting the whole report query takes several. A test compares the two.
    """
    current = CurrentCertificate.build()
    if filters.certificate_status:
        certificate, join_on, valid = current.table, current.join_on, current.status == "valid"
    else:
        # Only the valid certificate is counted: the partial unique index finds it directly.
        certificate = aliased(Certificate, name="valid_certificate")
        join_on = and_(certificate.enrollment_id == Enrollment.id, certificate.revoked_at.is_(None))
        valid = and_(Enrollment.path == LearningPath.live, certificate.id.is_not(None))

    def count_where(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    statement = select(
        func.count(),
        count_where(Enrollment.status == EnrollmentStatus.completed),
        count_where(Enrollment.path == LearningPath.live),
        count_where(Enrollment.path == LearningPath.recording),
        count_where(Enrollment.path == LearningPath.self_paced),
        count_where(valid),
    ).select_from(Enrollment)
    if filters.affiliate or filters.audience_role:
        statement = statement.join(User, User.id == Enrollment.user_id)
    if filters.course:
        statement = statement.join(Course, Course.id == Enrollment.course_id)
    statement = statement.outerjoin(certificate, join_on)
    statement = statement.where(*_conditions(filters, scope, current.status))
    return CompletionSummary(*(int(value) for value in session.execute(statement).one()))


# -- filter choices -------------------------------------------------------------------------------


def course_choices(session: Any) -> list[tuple[str, str]]:
    return [
        tuple(row)
        for row in session.execute(select(Course.slug, Course.title).order_by(Course.title))
    ]


def cohort_choices(
    session: Any, scope: ReportScope, limit: int | None = None
) -> list[tuple[int, str, dt.datetime]]:
    """Cohorts for the filter, newest first (the first ``limit``)."""
    statement = (
        select(Cohort.id, Cohort.title, Cohort.starts_at)
        .order_by(Cohort.starts_at.desc(), Cohort.id.desc())
        .limit(limit)
    )
    if scope.facilitator_id is not None:
        own = select(CohortFacilitator.cohort_id).where(
            CohortFacilitator.user_id == scope.facilitator_id
        )
        statement = statement.where(Cohort.id.in_(own))
    return [tuple(row) for row in session.execute(statement)]


def facilitator_choices(session: Any, scope: ReportScope) -> list[tuple[int, str, str]]:
    """People who facilitate a cohort (for a facilitator: the co-facilitators of their cohorts)."""
    links = select(CohortFacilitator.user_id)
    if scope.facilitator_id is not None:
        own = select(CohortFacilitator.cohort_id).where(
            CohortFacilitator.user_id == scope.facilitator_id
        )
        links = links.where(CohortFacilitator.cohort_id.in_(own))
    statement = (
        select(User.id, User.display_name, User.email)
        .where(User.id.in_(links))
        .order_by(User.display_name, User.id)
    )
    return [tuple(row) for row in session.execute(statement)]
