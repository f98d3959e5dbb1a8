"""Export files (the completion report's and the PD credit export's): the rows of a statement
read in batches on a connection of their own, CSV chunks and files (a large file written by
several processes at once, each a range of ids), XLSX files, and the temporary files a download
streams and then removes. What the cells hold, and the formula guard, are ``lms.reports.exports``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Engine, Select

from lms.reports.exports import neutralise

BATCH_ROWS = 1000
FILE_CHUNK = 64 * 1024
CSV_BOM = "\ufeff"
XLSX_MAX_ROWS = 1_048_576  # per worksheet, header row included


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
