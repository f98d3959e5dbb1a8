"""The report files as HTTP responses, for the completion report's downloads and the PD credit
export's (``lms.records``): the filters a download's query string gives, CSV streamed as its rows
are read, XLSX written to a temporary file and streamed from it, and the plain-text answer to
filters that are wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, request, stream_with_context

from lms.downloads import as_download
from lms.reports import files
from lms.reports.filters import ARG_NAMES, CompletionFilters, FilterError
from lms.web.context import select_timezone

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def request_filters() -> tuple[CompletionFilters, dict[str, str]]:
    """The request's report filters, or empty filters and the errors that refused them."""
    # What CompletionFilters.parse reads of them: the first value of each filter argument.
    given = tuple((name, value) for name, value in request.args.items() if name in ARG_NAMES)
    try:
        return _parsed(given, select_timezone() or "UTC"), {}
    except FilterError as error:
        return CompletionFilters(), error.errors


@functools.lru_cache(maxsize=1024)
def _parsed(given: tuple[tuple[str, str], ...], time_zone: str) -> CompletionFilters:
    """Filters parsed once per worker for each set of arguments: every report page parses them.
    Refused arguments raise each time (an exception is never cached), in the viewer's language."""
    return CompletionFilters.parse(dict(given), time_zone=time_zone)


def bad_filters(errors: dict[str, str]) -> Response:
    message = "\n".join(f"{name}: {text}" for name, text in errors.items())
    return Response(message + "\n", status=400, mimetype="text/plain")


def csv_download(chunks: Iterable[bytes], filename: str) -> Response:
    """A CSV file streamed as its chunks are made (in the request's context)."""
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    return as_download(response, filename)


def xlsx_download(write: Callable[[str], Any], filename: str) -> Response:
    """An XLSX file: ``write(path)`` writes it to a temporary file, which is streamed and then
    removed."""
    path = files.temporary_path(".xlsx")
    try:
        write(path)
    except BaseException:
        files.remove_quietly(path)
        raise
    response = Response(files.file_chunks(path), mimetype=XLSX_MIMETYPE, direct_passthrough=True)
    response.call_on_close(lambda: files.remove_quietly(path))  # also when the body is never read
    return as_download(response, filename)
