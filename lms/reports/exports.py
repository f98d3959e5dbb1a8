"""Completion report exports: CSV and XLSX, streamed, with spreadsheet formulas neutralised.

Rows come straight from :func:`lms.reports.queries.completion_query` on a connection of their own
(never the request's session), in batches of :data:`BATCH_ROWS` (``yield_per``; a server-side
cursor on PostgreSQL), as plain tuples: no ORM object per row, and memory stays flat from ten
rows to a million.

Every text cell goes through :func:`neutralise` (OWASP "CSV injection"): a value that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so no
spreadsheet reads it as a formula. XLSX cells are also written with ``write_string``, so nothing
is ever a formula there.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, Select

from lms.i18n import _l

BATCH_ROWS = 1000
FILE_CHUNK = 64 * 1024
CSV_BOM = "\ufeff"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_576  # per worksheet, header row included


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
class RowFormatter:
    """Turns a report tuple into the exported cells, with every label translated up front.

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
    def for_current_locale(cls, course_titles: Mapping[str, str]) -> RowFormatter:
        from lms.accounts.models import AUDIENCE_ROLES
        from lms.courses.presentation import PATH_LABELS, audience_label

        return cls(
            headers=[str(label) for _, label in HEADERS],
            course_titles=dict(course_titles),
            paths={key: str(label) for key, label in PATH_LABELS.items()},
            statuses={key: str(label) for key, label in STATUS_LABELS.items()},
            certificate_statuses={key: str(label) for key, label in CERTIFICATE_LABELS.items()},
            not_available={key: str(label) for key, label in NOT_AVAILABLE_LABELS.items()},
            audience_roles={key: audience_label(key) for key in AUDIENCE_ROLES},
        )

    def certificate_label(self, path: str, status: str) -> str:
        if status == "not_available":
            return self.not_available.get(path, self.certificate_statuses["not_available"])
        return self.certificate_statuses.get(status, status)

    def cells(self, row: Any) -> list[Any]:
        """Cells in :data:`HEADERS` order: text, ints, a UTC datetime or ``None``."""
        path = str(row.path)
        return [
            row.learner,
            row.email,
            row.affiliate,
            self.audience_roles.get(row.audience_role, row.audience_role),
            self.course_titles.get(row.course_slug, row.course_title),
            self.paths.get(path, path),
            row.cohort_title,
            row.facilitators,
            self.statuses.get(str(row.status), str(row.status)),
            row.completed_at,
            row.attendance_minutes,
            int(row.reflections_submitted or 0),
            row.certificate_code,
            self.certificate_label(path, row.certificate_status),
        ]


# -- reading rows in batches ----------------------------------------------------------------------


def row_batches(engine: Engine, statement: Select[Any], batch: int = BATCH_ROWS) -> Iterator[list[Any]]:
    """The statement's rows, ``batch`` at a time, on a connection of their own."""
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=batch, stream_results=True).execute(statement)
        for partition in result.partitions():
            yield partition


# -- CSV ------------------------------------------------------------------------------------------


def csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return neutralise(value)


def csv_chunks(headers: list[str], batches: Iterable[list[Any]], cells: Callable[[Any], list[Any]], counter: list[int] | None = None) -> Iterator[bytes]:
    """UTF-8 with a BOM (so spreadsheet programs read the encoding right), one chunk per batch.

    ``counter``, when given, is a one-item list that ends up holding the number of rows written.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(header) for header in headers])
    yield (CSV_BOM + buffer.getvalue()).encode("utf-8")
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([csv_text(value) for value in cells(row)] for row in batch)
        if counter is not None:
            counter[0] += len(batch)
        yield buffer.getvalue().encode("utf-8")


# -- XLSX -----------------------------------------------------------------------------------------


def write_xlsx(path: str, headers: list[str], batches: Iterable[list[Any]], cells: Callable[[Any], list[Any]], sheet_name: str = "Report") -> int:
    """Write an XLSX file with xlsxwriter in constant memory; returns the number of data rows.

    A worksheet holds at most 1,048,576 rows: beyond that the rows go on to "<name> 2", ...
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {
        "constant_memory": True,
        "in_memory": False,
        "tmpdir": os.path.dirname(path) or None,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    })
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet_title = _sheet_title(sheet_name)
    sheets = 0
    written = 0
    sheet: Any = None
    row_number = XLSX_MAX_ROWS

    def new_sheet() -> Any:
        nonlocal sheets
        sheets += 1
        name = sheet_title if sheets == 1 else f"{sheet_title[:25]} {sheets}"
        worksheet = workbook.add_worksheet(name)
        for column, header in enumerate(headers):
            worksheet.write_string(0, column, neutralise(header), bold)
        worksheet.freeze_panes(1, 0)
        return worksheet

    try:
        for batch in batches:
            for row in batch:
                if row_number >= XLSX_MAX_ROWS:
                    sheet, row_number = new_sheet(), 1
                for column, value in enumerate(cells(row)):
                    _write_cell(sheet, row_number, column, value, when)
                row_number += 1
                written += 1
        if sheet is None:
            new_sheet()
    finally:
        workbook.close()
    return written


def _write_cell(sheet: Any, row: int, column: int, value: Any, date_format: Any) -> None:
    if value is None or value == "":
        return  # constant_memory: a blank cell needs no write
    if isinstance(value, bool):
        sheet.write_string(row, column, str(value))
    elif isinstance(value, (int, float)):
        sheet.write_number(row, column, value)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, column, value.astimezone(dt.UTC).replace(tzinfo=None), date_format)
    else:
        sheet.write_string(row, column, neutralise(str(value)))


def _sheet_title(name: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip("' ") or "Report"
    return cleaned[:31]


def temporary_path(suffix: str) -> str:
    handle, path = tempfile.mkstemp(prefix="lms-report-", suffix=suffix)
    os.close(handle)
    return path


def file_chunks(path: str, chunk: int = FILE_CHUNK) -> Iterator[bytes]:
    """A file's bytes in chunks; the file is deleted when done (or when the client goes away)."""
    try:
        with open(path, "rb") as handle:
            while data := handle.read(chunk):
                yield data
    finally:
        remove_quietly(path)


def remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- download headers -----------------------------------------------------------------------------


def content_disposition(filename: str) -> str:
    """``attachment`` with a safe ASCII ``filename`` and the exact name as RFC 5987 ``filename*``."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in ascii_name).strip("._") or "report"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
