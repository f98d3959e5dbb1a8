"""Completion report exports: CSV and XLSX, streamed, with spreadsheet formulas neutralised.

Rows come from :func:`export_statement`, the completion report's own query
(:func:`lms.reports.queries.completion_query`) selecting the cells to write; ``lms.reports.files``
reads them on a connection of their own (never the request's session), in batches (``yield_per``;
a server-side cursor on PostgreSQL), as plain tuples: no ORM object per row, and memory stays
flat from ten rows to a million. It writes the CSV and XLSX files.

In CSV every text cell is neutralised (OWASP "CSV injection"): a value that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so no spreadsheet reads
it as a formula. The database does it for the rows (:func:`spreadsheet_safe`), :func:`neutralise`
for the headers and labels. XLSX needs no guard, and gets none: every text is written as a text
cell (``write_string``), which a spreadsheet never runs, so the sheet shows exactly what was typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal

from lms.accounts.models import AUDIENCE_ROLES
from lms.courses.presentation import PATH_LABELS, audience_label
from lms.i18n import _l
from lms.reports.queries import iso_utc

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell value a spreadsheet will never run: text that looks like a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# -- columns and labels ---------------------------------------------------------------------------

HEADERS = (
    ("learner", _l("Learner")),
    ("email", _l("Email")),
    ("affiliate", _l("Affiliate or state")),
    ("audience_role", _l("Audience role")),
    ("course", _l("Course")),
    ("path", _l("Path")),
    ("cohort", _l("Cohort")),
    ("facilitators", _l("Facilitators")),
    ("status", _l("Status")),
    ("completed_at", _l("Completed at (UTC)")),
    ("attendance_minutes", _l("Attendance minutes")),
    ("reflections_submitted", _l("Reflections submitted")),
    ("certificate_code", _l("Certificate code")),
    ("certificate_status", _l("Certificate status")),
)

STATUS_LABELS = {
    "registered": _l("Registered"),
    "waitlisted": _l("Waitlisted"),
    "in_progress": _l("In progress"),
    "completed": _l("Completed"),
    "withdrawn": _l("Withdrawn"),
}
CERTIFICATE_LABELS = {
    "valid": _l("Valid"),
    "revoked": _l("Revoked"),
    "replaced": _l("Replaced"),
    "none": _l("None"),
    "not_available": _l("Not available"),
}
NOT_AVAILABLE_LABELS = {
    "recording": _l("Not available for recordings"),
    "self_paced": _l("Not available for self-paced courses"),
}


@dataclass
class ExportLabels:
    """The export's column names and every label it writes, translated once, up front.

    Built inside a request or CLI app context; afterwards it needs no context at all, so the
    streaming generator can run without one.
    """

    headers: list[str]
    course_titles: dict[str, str]
    paths: dict[str, str]
    statuses: dict[str, str]
    certificate_statuses: dict[str, str]
    not_available: dict[str, str]
    audience_roles: dict[str, str]

    @classmethod
    def for_current_locale(cls, course_titles: Mapping[str, str]) -> ExportLabels:
        return cls(
            headers=[str(label) for _, label in HEADERS],
            course_titles=dict(course_titles),
            paths={key: str(label) for key, label in PATH_LABELS.items()},
            statuses={key: str(label) for key, label in STATUS_LABELS.items()},
            certificate_statuses={key: str(label) for key, label in CERTIFICATE_LABELS.items()},
            not_available={key: str(label) for key, label in NOT_AVAILABLE_LABELS.items()},
            audience_roles={key: audience_label(key) for key in AUDIENCE_ROLES},
        )


# -- the exported cells, computed by the database ---------------------------------------------------
#
# A million rows through per-row Python (a label lookup and a formula check per cell) cost more
# than the query itself, so the export statement hands the database that work: it returns each
# row as the cells to write, labels translated and text made safe. The CSV writer then writes
# the rows as they come.


def spreadsheet_safe(column: Any) -> ColumnElement[Any]:
    """SQL for :func:`neutralise`: text starting like a formula gets a leading apostrophe."""
    return case(
        (func.substr(column, 1, 1).in_(FORMULA_PREFIXES), literal("'") + column), else_=column
    )


def _unguarded(column: Any) -> Any:
    return column


def _labelled(
    column: Any, labels: Mapping[str, str], fallback: Any = None, guard: Any = neutralise
) -> ColumnElement[Any]:
    """The label of the column's value; ``fallback`` (else the value itself) when it has none."""
    fallback = column if fallback is None else fallback
    if not labels:
        return fallback
    return case({key: guard(label) for key, label in labels.items()}, value=column, else_=fallback)


def _certificate_label(path: Any, status: Any, labels: ExportLabels) -> ColumnElement[Any]:
    """The certificate column: why there is none for recordings and self-paced rows, else its status."""
    not_available = [
        (and_(status == "not_available", path == key), literal(label))
        for key, label in labels.not_available.items()
    ]
    statuses = [
        (status == key, literal(label)) for key, label in labels.certificate_statuses.items()
    ]
    return case(*not_available, *statuses, else_=status)


def export_statement(
    statement: Select[Any], labels: ExportLabels, *, text_dates: bool, guard_formulas: bool = True
) -> Select[Any]:
    """The completion report's statement, selecting the exported cells in :data:`HEADERS` order.

    ``text_dates`` writes the completion time as ISO 8601 UTC text (CSV); otherwise it stays a
    datetime (XLSX, where it becomes a date cell). ``guard_formulas`` (CSV) puts the apostrophe
    in front of text that looks like a formula; XLSX, whose text cells are never formulas, goes
    without it.
    """
    row = statement.selected_columns
    completed_at = iso_utc(row.completed_at) if text_dates else row.completed_at
    safe = spreadsheet_safe if guard_formulas else _unguarded
    label_guard = neutralise if guard_formulas else _unguarded
    return statement.with_only_columns(
        safe(row.learner),
        safe(row.email),
        safe(row.affiliate),
        _labelled(row.audience_role, labels.audience_roles, guard=label_guard),
        _labelled(
            row.course_slug,
            labels.course_titles,
            fallback=safe(row.course_title),
            guard=label_guard,
        ),
        _labelled(row.path, labels.paths, guard=label_guard),
        safe(row.cohort_title),
        safe(row.facilitators),
        _labelled(row.status, labels.statuses, guard=label_guard),
        completed_at,
        row.attendance_minutes,
        row.reflections_submitted,
        row.certificate_code,
        _certificate_label(row.path, row.certificate_status, labels),
    )
