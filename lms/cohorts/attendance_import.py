"""Reading a meeting tool's participant report (Zoom's CSV export). Pure functions, no Flask.

``parse_participant_report(data, max_bytes=..., max_rows=...)`` turns uploaded bytes into rows
and problems; ``match_rows(rows, roster, cap_minutes)`` matches them to a cohort's roster and
adds up the minutes of people who left and rejoined. Nothing here raises on bad input: every
problem comes back as a :class:`Problem` with a line number (where there is one), an English
message id and its values, translated by the caller (``_(problem.message, **problem.params)``).

Accepted files:

- UTF-8 with or without a byte order mark, or UTF-16 with a byte order mark (Zoom and Excel
  both write UTF-16 when asked for "Unicode text");
- separated by commas, tabs (Excel's "Unicode text") or semicolons (spreadsheets set to a
  language whose decimal separator is a comma). The rule: the separator is the one that splits
  the header row into the columns below; the header row is found in the first lines (Zoom can
  put a meeting summary above the participant table). These columns are recognised,
  case-insensitively:
  ``Name (Original Name)`` / ``Name``, ``User Email`` / ``Email``, ``Duration (Minutes)``,
  ``Join Time``, ``Leave Time``, ``Guest``; any other column is ignored;
- a name or an email column, and a duration column, are required.

Minutes of several rows for one person add up and are capped at ``cap_minutes``, which the
caller sets to the most anyone can have attended by now
(:func:`lms.cohorts.attendance.attendance_cap`).

The module is a little over 400 lines: reading the file and matching its rows share the row and
problem types and are tested together (``tests/cohorts/test_attendance_import.py``); kept in one
file, the accepted formats above and the matching rules sit next to the code that applies them.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


TOO_LARGE = N_("The file is too large: the limit is %(limit)s bytes.")
HEADER_SEARCH_LINES = 20
DELIMITERS = (",", "\t", ";")
MAX_FIELD_CHARS = 1000
MAX_ROW_MINUTES = 24 * 60

NAME_HEADERS = (
    "name (original name)",
    "name",
    "participant",
    "participant name",
    "display name",
    "user name",
)
EMAIL_HEADERS = ("user email", "email", "email address", "attendee email", "participant email")
DURATION_HEADERS = (
    "duration (minutes)",
    "duration (mins)",
    "duration(minutes)",
    "total duration (minutes)",
    "time in session (minutes)",
    "duration",
)
JOIN_HEADERS = ("join time",)
LEAVE_HEADERS = ("leave time",)
GUEST_HEADERS = ("guest",)


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParticipantRow:
    line: int
    name: str
    email: str
    minutes: int
    join_time: str = ""
    leave_time: str = ""


@dataclass
class ParseResult:
    rows: list[ParticipantRow] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    # A problem with the whole file (too large, unreadable, a required column missing): no rows.
    fatal: Problem | None = None
    encoding: str = ""
    delimiter: str = ","

    @property
    def ok(self) -> bool:
        return self.fatal is None


def decode(data: bytes) -> tuple[str, str] | Problem:
    """Text and the encoding's name, from the byte order mark (UTF-16, UTF-8) or strict UTF-8."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8 (BOM)"
        if data.startswith(codecs.BOM_UTF16_LE):
            return data[2:].decode("utf-16-le"), "UTF-16"
        if data.startswith(codecs.BOM_UTF16_BE):
            return data[2:].decode("utf-16-be"), "UTF-16"
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return Problem(
            None,
            N_(
                'The file\'s text encoding could not be read. Export the report as CSV in UTF-8 or UTF-16 ("Unicode") and upload it again.'  # noqa: E501
            ),
        )


def normalise_header(value: str) -> str:
    return " ".join(value.replace("\ufeff", "").strip().lower().split())


def normalise_name(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def _find(headers: Sequence[str], names: Iterable[str]) -> int | None:
    for name in names:
        if name in headers:
            return headers.index(name)
    return None


@dataclass(frozen=True)
class _Columns:
    name: int | None
    email: int | None
    duration: int | None
    join: int | None
    leave: int | None

    @classmethod
    def of(cls, header_row: Sequence[str]) -> _Columns:
        headers = [normalise_header(cell) for cell in header_row]
        return cls(
            name=_find(headers, NAME_HEADERS),
            email=_find(headers, EMAIL_HEADERS),
            duration=_find(headers, DURATION_HEADERS),
            join=_find(headers, JOIN_HEADERS),
            leave=_find(headers, LEAVE_HEADERS),
        )

    @property
    def complete(self) -> bool:
        return self.duration is not None and (self.name is not None or self.email is not None)


_DECIMAL_COMMA = re.compile(r"^\d+,(\d{1,2}|\d{4,})$")


def parse_minutes(value: str) -> int | None:
    """Whole minutes from "12", "12.5" or "12,5" (rounded half up) or "1,234"; None when not a duration.

    A comma followed by three digits groups thousands; followed by any other number of digits
    it is a decimal comma (what a spreadsheet set to Spanish or German writes).
    """
    text = value.strip()
    text = text.replace(",", ".") if _DECIMAL_COMMA.match(text) else text.replace(",", "")
    if not text or len(text) > 12:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number > MAX_ROW_MINUTES:
        return None
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_participant_report(data: bytes, *, max_bytes: int, max_rows: int) -> ParseResult:
    """Parse a participant report; never raises on any input."""
    result = ParseResult()
    if not data or not data.strip():
        result.fatal = Problem(None, N_("The file is empty."))
        return result
    if len(data) > max_bytes:
        result.fatal = Problem(None, TOO_LARGE, {"limit": max_bytes})
        return result
    decoded = decode(data)
    if isinstance(decoded, Problem):
        result.fatal = decoded
        return result
    text, result.encoding = decoded
    text = text.replace("\x00", "")
    try:
        _read_rows(text, result, max_rows)
    except csv.Error as error:
        result.rows = []
        result.rejected = []
        result.fatal = Problem(
            None, N_("The file could not be read as CSV: %(reason)s"), {"reason": str(error)[:200]}
        )
    return result


def _records(text: str, delimiter: str = ",") -> Iterable[tuple[int, list[str]]]:
    """CSV records with the line each one starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    previous_end = 0
    for record in reader:
        yield previous_end + 1, record
        previous_end = reader.line_num


def _non_empty(records: Iterable[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    return ((line, record) for line, record in records if any(cell.strip() for cell in record))


def _header_index(records: Sequence[tuple[int, list[str]]]) -> tuple[int | None, bool]:
    """The index of the header row among the first records, and whether it has a name column."""
    fallback: int | None = None
    for index, (_line, record) in enumerate(records[:HEADER_SEARCH_LINES]):
        candidate = _Columns.of(record)
        # Zoom may put a meeting summary (with the host's "User Email" and "Duration (Minutes)")
        # above the participants: a header with a name column wins over one without.
        if candidate.complete and candidate.name is not None:
            return index, True
        if candidate.complete and fallback is None:
            fallback = index
    return fallback, False


def detect_delimiter(text: str) -> str:
    """The separator that splits the header row into the recognised columns (comma if none does).

    Each of :data:`DELIMITERS` reads the first lines; the first that finds a header row with a
    name column wins, else the first that finds one with an email column.
    """
    found: str | None = None
    for delimiter in DELIMITERS:
        head = list(itertools.islice(_non_empty(_records(text, delimiter)), HEADER_SEARCH_LINES))
        index, named = _header_index(head)
        if index is not None and named:
            return delimiter
        if index is not None and found is None:
            found = delimiter
    return found or ","


def _read_rows(text: str, result: ParseResult, max_rows: int) -> None:
    result.delimiter = detect_delimiter(text)
    # The text is at most max_bytes long, so holding its records is bounded too.
    records = list(_non_empty(_records(text, result.delimiter)))
    if not records:
        result.fatal = Problem(None, N_("The file is empty."))
        return
    header_index, _named = _header_index(records)
    if header_index is None:
        result.fatal = _missing_columns(_Columns.of(records[0][1]))
        return
    columns = _Columns.of(records[header_index][1])
    data_rows = records[header_index + 1 :]
    if len(data_rows) > max_rows:
        result.fatal = Problem(
            None,
            N_("The file has more than %(limit)s rows. Split it and upload each part."),
            {"limit": max_rows},
        )
        return
    for line, record in data_rows:
        _read_row(line, record, columns, result)


def _missing_columns(header: _Columns) -> Problem:
    if header.duration is None and header.name is None and header.email is None:
        return Problem(
            None,
            N_(
                'No header row with the columns "Name (Original Name)" or "User Email", and "Duration (Minutes)" was found. Is this a participant report?'  # noqa: E501
            ),
        )
    if header.duration is None:
        return Problem(None, N_('The file has no duration column ("Duration (Minutes)").'))
    return Problem(
        None, N_('The file has no email or name column ("User Email" or "Name (Original Name)").')
    )


def _cell(record: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index].strip()[:MAX_FIELD_CHARS]


def _read_row(line: int, record: Sequence[str], columns: _Columns, result: ParseResult) -> None:
    name = normalise_name(_cell(record, columns.name))
    email = _cell(record, columns.email).lower()
    raw_minutes = _cell(record, columns.duration)
    if not name and not email:
        result.rejected.append(Problem(line, N_("No name and no email.")))
        return
    if email and not _EMAIL.match(email):
        result.rejected.append(
            Problem(line, N_('"%(value)s" is not an email address.'), {"value": email[:100]})
        )
        return
    minutes = parse_minutes(raw_minutes)
    if minutes is None:
        result.rejected.append(
            Problem(
                line, N_('"%(value)s" is not a duration in minutes.'), {"value": raw_minutes[:40]}
            )
        )
        return
    result.rows.append(
        ParticipantRow(
            line, name, email, minutes, _cell(record, columns.join), _cell(record, columns.leave)
        )
    )


# -- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterEntry:
    enrollment_id: int
    email: str
    display_name: str


@dataclass
class MatchedPerson:
    enrollment_id: int
    minutes: int
    lines: list[int]
    matched_by: str  # "email" or "name"
    reported: int = 0  # the minutes the file gives, before the cap


@dataclass(frozen=True)
class UnmatchedRow:
    row: ParticipantRow
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class MatchResult:
    matched: dict[int, MatchedPerson] = field(default_factory=dict)
    unmatched: list[UnmatchedRow] = field(default_factory=list)
    ambiguous: list[UnmatchedRow] = field(default_factory=list)


def _name_candidates(name: str) -> list[str]:
    """The name as shown, and for Zoom's "Shown Name (Original Name)" both names."""
    candidates = [name] if name else []
    found = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", name)
    if found:
        candidates.extend(normalise_name(part) for part in found.groups())
    return candidates


def match_rows(
    rows: Iterable[ParticipantRow], roster: Iterable[RosterEntry], cap_minutes: int
) -> MatchResult:
    """Match rows to the roster: by email (case-insensitive), then by exact display name if that
    name belongs to one person only. Minutes of one person's rows add up, capped at ``cap_minutes``."""
    entries = list(roster)
    by_email = {entry.email.lower(): entry for entry in entries}
    by_name: dict[str, list[RosterEntry]] = {}
    for entry in entries:
        by_name.setdefault(normalise_name(entry.display_name), []).append(entry)
    result = MatchResult()
    totals: dict[int, int] = {}
    for row in rows:
        entry: RosterEntry | None = by_email.get(row.email) if row.email else None
        matched_by = "email"
        if entry is None:
            found = {
                e.enrollment_id: e
                for candidate in _name_candidates(row.name)
                for e in by_name.get(candidate, [])
            }
            if len(found) > 1:
                result.ambiguous.append(
                    UnmatchedRow(
                        row,
                        N_(
                            "More than one person on the roster has this name; add their email to the report or record their attendance by hand."  # noqa: E501
                        ),
                    )
                )
                continue
            if not found:
                if row.email:
                    message = N_("Nobody on the roster has this email or name.")
                else:
                    message = N_("Nobody on the roster has this name.")
                result.unmatched.append(UnmatchedRow(row, message))
                continue
            entry = next(iter(found.values()))
            matched_by = "name"
        totals[entry.enrollment_id] = totals.get(entry.enrollment_id, 0) + row.minutes
        person = result.matched.get(entry.enrollment_id)
        if person is None:
            result.matched[entry.enrollment_id] = MatchedPerson(
                entry.enrollment_id, 0, [row.line], matched_by
            )
        else:
            person.lines.append(row.line)
    for enrollment_id, total in totals.items():
        result.matched[enrollment_id].reported = total
        result.matched[enrollment_id].minutes = min(total, max(cap_minutes, 0))
    return result
