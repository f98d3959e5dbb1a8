"""The office's export: PD credit, one row per person per completed activity, CEDS-aligned columns
(documented in docs/reports.md), streamed as CSV and XLSX by the completion report's machinery
(:mod:`lms.reports.exports`) with the report's filters and scopes.

The credit of each row comes from the course file's ``[credit]`` for the path taken; the
database computes it with one CASE over the catalog's (course, path) pairs, so rows stream as
plain tuples like the completion report's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, case, literal

from lms.courses.presentation import PATH_LABELS
from lms.db import database_state, utcnow
from lms.i18n import _, _l
from lms.learning.models import LearningPath
from lms.records.presentation import RECORDING_NO_CREDIT, credit_type_name
from lms.reports import exports, files
from lms.reports.filters import CompletionFilters
from lms.reports.queries import ReportScope, completion_query, iso_utc
from lms.reports.services import course_titles
from lms.state import lms_state

# (column, header, the CEDS element it carries)
COLUMNS = (
    ("learner", _l("Name"), "Name (Person)"),
    ("email", _l("Email"), "Electronic Mail Address"),
    (
        "affiliate",
        _l("Affiliate or state"),
        "Organization Name (employing or affiliated organization)",
    ),
    ("activity_title", _l("Activity title"), "Professional Development Activity Title"),
    ("activity_code", _l("Activity code"), "Professional Development Activity Code"),
    ("delivery", _l("Delivery"), "Professional Development Delivery Method"),
    ("completed_at", _l("Completion date (UTC)"), "Professional Development Session End Date"),
    ("credit_type", _l("Credit type"), "Professional Development Activity Credit Type"),
    ("credit_amount", _l("Credits"), "Professional Development Activity Credits"),
    ("provider", _l("Provider"), "Professional Development Activity Sponsor"),
    ("session", _l("Session"), "Professional Development Session (title)"),
    ("certificate_code", _l("Certificate code"), "Credential Identifier"),
    ("certificate_status", _l("Certificate status"), "Credential Status"),
)


def credit_statement(
    filters: CompletionFilters, scope: ReportScope, *, text_dates: bool
) -> tuple[list[str], Select[Any]]:
    """The headers and the statement of exported cells: completed enrollments only.

    For CSV (``text_dates``) text that looks like a formula is guarded with an apostrophe; XLSX
    writes every text as a text cell, which a spreadsheet never runs, so it keeps what was typed."""
    labels = exports.ExportLabels.for_current_locale(course_titles())
    guard_formulas = text_dates
    safe = exports.spreadsheet_safe if guard_formulas else (lambda column: column)
    neutralise = exports.neutralise if guard_formulas else (lambda value: value)
    statement = completion_query(dataclasses.replace(filters, status="completed"), scope)
    row = statement.selected_columns
    amounts, types = [], []
    recording_label = literal(neutralise(_(RECORDING_NO_CREDIT)))
    for course in lms_state().catalog.all():
        rule = course.definition.credit
        if rule is None:
            continue
        for path in course.definition.paths:
            condition = and_(row.course_slug == course.slug, row.path == LearningPath(path))
            amounts.append((condition, literal(rule.amount_for(path))))
            types.append(
                (
                    condition,
                    recording_label
                    if path == "recording"
                    else literal(neutralise(credit_type_name(rule.type))),
                )
            )
    amount = case(*amounts, else_=literal(0.0)) if amounts else literal(0.0)
    credit_type = (
        case((row.path == LearningPath.recording, recording_label), *types, else_=literal(""))
        if types
        else case((row.path == LearningPath.recording, recording_label), else_=literal(""))
    )
    completed_at = iso_utc(row.completed_at) if text_dates else row.completed_at
    cells = statement.with_only_columns(
        safe(row.learner),
        safe(row.email),
        safe(row.affiliate),
        exports._labelled(
            row.course_slug, labels.course_titles, fallback=safe(row.course_title), guard=neutralise
        ),
        row.course_slug,
        exports._labelled(
            row.path, {key: str(label) for key, label in PATH_LABELS.items()}, guard=neutralise
        ),
        completed_at,
        credit_type,
        amount,
        literal(neutralise(current_app.config["LMS_ORGANISATION"])),
        safe(row.cohort_title),
        row.certificate_code,
        exports._certificate_label(row.path, row.certificate_status, labels),
    )
    return [neutralise(str(header)) for _key, header, _ceds in COLUMNS], cells


def credit_csv(filters: CompletionFilters, scope: ReportScope) -> Iterator[bytes]:
    headers, statement = credit_statement(filters, scope, text_dates=True)
    return files.csv_chunks(files.row_batches(database_state().engine, statement), headers)


def credit_xlsx(filters: CompletionFilters, scope: ReportScope, path: str) -> int:
    headers, statement = credit_statement(filters, scope, text_dates=False)
    return files.write_xlsx(
        path,
        headers,
        files.row_batches(database_state().engine, statement),
        sheet_name=_("PD credit"),
    )


def credit_filename(extension: str) -> str:
    return _("pd-credit-%(date)s.%(ext)s", date=utcnow().date().isoformat(), ext=extension)
