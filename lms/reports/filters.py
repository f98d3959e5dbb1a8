"""The completion report's filters: one dataclass, parsed from request args or CLI options.

Both the web page, its exports and ``flask lms reports completions`` parse the same mapping of
plain strings (``course``, ``path``, ``cohort``, ``facilitator``, ``status``, ``dates``, ``from``,
``to``, ``affiliate``, ``audience_role``, ``certificate_status``) with :meth:`CompletionFilters.parse`,
so a filter means the same thing everywhere.

Date range: ``from`` and ``to`` are calendar days (``YYYY-MM-DD``), both included, read in the
viewer's time zone (the CLI's ``--timezone``, by default ``LMS_DEFAULT_TIMEZONE``). They apply to
the completion date by default (``dates=completed``: "completed between"); ``dates=enrolled``
applies them to the enrollment date instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lms.accounts.models import AUDIENCE_ROLES
from lms.db import parse_id
from lms.i18n import N_, _
from lms.learning.models import EnrollmentStatus, LearningPath

CERTIFICATE_STATUSES = ("valid", "revoked", "replaced", "none", "not_available")
DATE_FIELDS = ("completed", "enrolled")
PATHS = tuple(path.value for path in LearningPath)
STATUSES = tuple(status.value for status in EnrollmentStatus)
MAX_TEXT = {"course": 80, "facilitator": 254, "affiliate": 120}
# The request/CLI names of the filters, in the order they are shown.
ARG_NAMES = (
    "course",
    "path",
    "cohort",
    "facilitator",
    "status",
    "dates",
    "from",
    "to",
    "affiliate",
    "audience_role",
    "certificate_status",
)


class FilterError(ValueError):
    """Filters that cannot be used; ``errors`` maps each argument name to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class CompletionFilters:
    course: str = ""  # course slug
    path: str = ""  # live | recording | self_paced
    cohort: int | None = None
    facilitator: str = ""  # a facilitator's user id or email address
    status: str = ""  # enrollment status
    dates: str = "completed"  # which date ``date_from``/``date_to`` apply to
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    affiliate: str = ""  # affiliate or state, matched whole, ignoring case
    audience_role: str = ""
    certificate_status: str = ""  # one of CERTIFICATE_STATUSES
    time_zone: str = "UTC"  # the zone the dates are days in

    @classmethod
    def parse(cls, args: Mapping[str, Any], time_zone: str = "UTC") -> CompletionFilters:
        """Filters from request args (or CLI options); raises :class:`FilterError` with every problem."""
        errors: dict[str, str] = {}

        def text(name: str) -> str:
            value = args.get(name)
            value = "" if value is None else str(value).strip()
            limit = MAX_TEXT.get(name, 64)
            if len(value) > limit:
                errors[name] = _("Use at most %(num)s characters.", num=limit)
                return ""
            return value

        # ``message`` is translated only when the value is refused: every report page parses.
        def choice(name: str, allowed: tuple[str, ...], message: str) -> str:
            value = text(name)
            if value and value not in allowed:
                errors[name] = _(message)
                return ""
            return value

        def day(name: str) -> dt.date | None:
            value = text(name)
            if not value:
                return None
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                errors[name] = _("Enter the date as YYYY-MM-DD, for example 2026-03-31.")
                return None

        course = text("course")
        path = choice("path", PATHS, N_("Choose live, recording or self-paced."))
        cohort_text = text("cohort")
        cohort = None
        if cohort_text:
            cohort = parse_id(cohort_text)
            if cohort is None:
                errors["cohort"] = _("A cohort is chosen by its number.")
        facilitator = text("facilitator").lower()
        status = choice("status", STATUSES, N_("Choose one of the listed statuses."))
        dates = (
            choice("dates", DATE_FIELDS, N_("Choose the completion date or the enrollment date."))
            or "completed"
        )
        date_from, date_to = day("from"), day("to")
        if date_from and date_to and date_from > date_to:
            errors["to"] = _("The end date is before the start date.")
        affiliate = text("affiliate")
        audience_role = choice(
            "audience_role", AUDIENCE_ROLES, N_("Choose one of the listed audience roles.")
        )
        certificate_status = choice(
            "certificate_status",
            CERTIFICATE_STATUSES,
            N_("Choose one of the listed certificate statuses."),
        )
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = _("Unknown time zone.")
        if errors:
            raise FilterError(errors)
        return cls(
            course=course,
            path=path,
            cohort=cohort,
            facilitator=facilitator,
            status=status,
            dates=dates,
            date_from=date_from,
            date_to=date_to,
            affiliate=affiliate,
            audience_role=audience_role,
            certificate_status=certificate_status,
            time_zone=time_zone,
        )

    @property
    def active(self) -> bool:
        return any(value for name, value in self.to_args().items() if name != "dates")

    def to_args(self) -> dict[str, str]:
        """The filters back as request args (only those set), for links and exports."""
        values = {
            "course": self.course,
            "path": self.path,
            "cohort": "" if self.cohort is None else str(self.cohort),
            "facilitator": self.facilitator,
            "status": self.status,
            "dates": self.dates if self.dates != "completed" else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "affiliate": self.affiliate,
            "audience_role": self.audience_role,
            "certificate_status": self.certificate_status,
        }
        return {name: value for name, value in values.items() if value}

    def utc_bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """``[start, end)`` in UTC: the first moment of ``date_from`` and of the day after ``date_to``."""
        return day_bounds_utc(self.date_from, self.date_to, ZoneInfo(self.time_zone))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FILTER_FIELDS = [f.name for f in fields(CompletionFilters)]


def start_of_day_utc(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first moment of ``day`` in ``zone``, in UTC.

    On the first and last days a date can hold the UTC moment may fall outside what a datetime
    holds: it is then the earliest or latest datetime, which compares the same way.
    """
    try:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    except OverflowError:
        return (dt.datetime.min if day.year == dt.MINYEAR else dt.datetime.max).replace(
            tzinfo=dt.UTC
        )


def day_bounds_utc(
    first: dt.date | None, last: dt.date | None, zone: ZoneInfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """``[start, end)`` in UTC for the days ``first`` to ``last`` (both included; None: open)."""
    start = start_of_day_utc(first, zone) if first else None
    if last is None or last == dt.date.max:
        return start, None
    return start, start_of_day_utc(last + dt.timedelta(days=1), zone)
