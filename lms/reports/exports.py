"""Completion report exports: CSV and XLSX, streamed, with spreadsheet formulas neutralised.

Rows come from :func:`export_statement`, the completion report's own query
(:func:`lms.reports.queries.completion_query`) selecting the cells to write, on a connection of
their own (never the request's session), in batches of :data:`BATCH_ROWS` (``yield_per``; a
server-side cursor on PostgreSQL), as plain tuples: no ORM object per row, and memory stays flat
from ten rows to a million.

In CSV every text cell is neutralised (OWASP "CSV injection"): a value that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so no spreadsheet reads
it as a formula. The database does it for the rows (:func:`spreadsheet_safe`), :func:`neutralise`
for the headers and labels. XLSX needs no guard, and gets none: every text is written as a text
cell (``write_string``), which a spreadsheet never runs, so the sheet shows exactly what was typed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, case, func, literal

from lms.accounts.models import AUDIENCE_ROLES
from lms.courses.presentation import PATH_LABELS, audience_label
from lms.i18n import _l
from lms.reports.queries import iso_utc

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


# -- reading rows in batches ----------------------------------------------------------------------


def row_batches(
    engine: Engine, statement: Select[Any], batch: int = BATCH_ROWS
) -> Iterator[Sequence[Any]]:
    """The statement's rows, ``batch`` at a time, on a connection of their own."""
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=batch, stream_results=True).execute(
            statement
        )
        yield from result.partitions()


# -- CSV ------------------------------------------------------------------------------------------


def csv_chunks(
    batches: Iterable[Sequence[Any]],
    headers: list[str] | None = None,
    counter: list[int] | None = None,
) -> Iterator[bytes]:
    """UTF-8 CSV, one chunk per batch of rows from :func:`export_statement`.

    With ``headers``, the first chunk is a BOM (so spreadsheet programs read the encoding right)
    and the header row; without, the chunks continue a file that has them (:func:`write_csv`).
    ``counter``, when given, is a one-item list that ends up holding the number of rows written.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if headers is not None:
        writer.writerow([neutralise(header) for header in headers])
        yield (CSV_BOM + buffer.getvalue()).encode("utf-8")
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(batch)
        if counter is not None:
            counter[0] += len(batch)
        yield buffer.getvalue().encode("utf-8")


def write_csv(
    path: str,
    headers: list[str],
    engine: Engine,
    statement: Select[Any],
    id_column: Any,
    id_bounds: tuple[int, int] | None,
    jobs: int = 1,
) -> int:
    """Write the CSV file at ``path``, in ``jobs`` processes at once; returns the number of rows.

    Each process writes the rows of one range of ``id_column`` (the statement's order) to a part
    of its own on a connection of its own, and the parts are joined in order: on a machine with
    several cores a large report is written in a fraction of the time one process takes, as the
    database work and the CSV writing are both spread. ``id_bounds`` are the lowest and highest
    ids there may be; without them, or with ``jobs`` of 1, or where processes cannot be forked,
    one process writes everything.
    """
    ranges = id_ranges(*id_bounds, jobs) if id_bounds and jobs > 1 and _can_fork() else []
    if len(ranges) < 2:
        return _write_csv_part(
            path, csv_chunks(row_batches(engine, statement), headers, counter := [0]), counter
        )
    import multiprocessing

    context = multiprocessing.get_context("fork")
    counts = context.Queue()
    parts = [path] + [f"{path}.part{index}" for index in range(1, len(ranges))]
    workers = []
    try:
        for index, (low, high) in enumerate(ranges):
            part = statement.where(id_column >= low, id_column < high)
            worker = context.Process(
                target=_csv_worker,
                args=(engine, part, headers if index == 0 else None, parts[index], counts),
                daemon=True,
            )
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join()
        if any(worker.exitcode != 0 for worker in workers):
            raise RuntimeError(
                "a process writing part of the CSV export failed (its error is above)"
            )
        with open(path, "ab") as whole:
            for part in parts[1:]:
                with open(part, "rb") as piece:
                    shutil.copyfileobj(piece, whole, FILE_CHUNK * 16)
        return sum(counts.get() for _ in workers)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
        for part in parts[1:]:
            remove_quietly(part)


def id_ranges(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` half-open ranges of about equal width that together cover ``low``..``high``."""
    if high < low:
        return []
    width = -(-(high - low + 1) // max(parts, 1))
    return [(start, min(start + width, high + 1)) for start in range(low, high + 1, width)]


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _csv_worker(
    engine: Engine, statement: Select[Any], headers: list[str] | None, path: str, counts: Any
) -> None:
    engine.dispose(close=False)  # the parent's pooled connections are not this process's to use
    counter = [0]
    counts.put(
        _write_csv_part(path, csv_chunks(row_batches(engine, statement), headers, counter), counter)
    )


def _write_csv_part(path: str, chunks: Iterable[bytes], counter: list[int]) -> int:
    with open(path, "wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return counter[0]


# -- XLSX -----------------------------------------------------------------------------------------


def write_xlsx(
    path: str, headers: list[str], batches: Iterable[Sequence[Any]], sheet_name: str = "Report"
) -> int:
    """Write an XLSX file with xlsxwriter in constant memory; returns the number of data rows.

    ``batches`` come from :func:`export_statement` with ``guard_formulas=False``: every text is
    written as a text cell, as it was typed.

    A worksheet holds at most 1,048,576 rows: beyond that the rows go on to "<name> 2", ...
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "in_memory": False,
            "tmpdir": os.path.dirname(path) or None,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
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
            worksheet.write_string(0, column, header, bold)
        worksheet.freeze_panes(1, 0)
        return worksheet

    try:
        for batch in batches:
            for row in batch:
                if row_number >= XLSX_MAX_ROWS:
                    sheet, row_number = new_sheet(), 1
                for column, value in enumerate(row):
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
        sheet.write_datetime(
            row, column, value.astimezone(dt.UTC).replace(tzinfo=None), date_format
        )
    else:
        sheet.write_string(row, column, str(value))  # a text cell: shown as typed, never run


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
