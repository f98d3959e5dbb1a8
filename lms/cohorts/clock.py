"""A cohort's times: the zone it is scheduled in, wall-clock times to UTC and back, when its
session ends.

A session is stored in UTC (``Cohort.starts_at``) with the zone it was scheduled in
(``Cohort.time_zone``): people see it in their own zone, its calendar file in the scheduler's.
A wall-clock time that a clock change skips is refused rather than moved.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from lms.cohorts.models import Cohort
from lms.cohorts.services import CohortError
from lms.db import utcnow
from lms.i18n import _

FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a session (and its registration window) may be in


def time_zone_choices() -> list[str]:
    """Named zones people pick from (Area/City), sorted; "UTC" first."""
    zones = sorted(
        zone
        for zone in available_timezones()
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    )
    return ["UTC", *zones]


def zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CohortError(
            _("%(zone)s is not a time zone we know.", zone=name), "time_zone"
        ) from None


def local_to_utc(
    day: date,
    at: time,
    zone: str,
    *,
    date_field: str = "start_date",
    time_field: str = "start_time",
) -> datetime:
    """A wall-clock date and time in ``zone`` as aware UTC; a time skipped by a clock change is refused.

    Dates are kept to the years FIRST_YEAR to LAST_YEAR, so that a session's start, end and
    registration window can always be computed (a date near the ends of what Python holds cannot).
    ``date_field`` and ``time_field`` name the form fields a refusal belongs to.
    """
    tz = zone_info(zone)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CohortError(
            _(
                "Choose a date in the years %(first)s to %(last)s.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            ),
            date_field,
        )
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)
    round_trip = local.astimezone(UTC).astimezone(tz)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise CohortError(
            _(
                "%(time)s does not exist on that day in %(zone)s: the clocks change. Choose another time.",
                time=at.strftime("%H:%M"),
                zone=zone,
            ),
            time_field,
        )
    return local.astimezone(UTC)


def utc_to_local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(zone_info(zone))


def cohort_local_start(cohort: Cohort) -> datetime:
    return utc_to_local(cohort.starts_at, cohort.time_zone)


def cohort_ends_at(cohort: Cohort) -> datetime:
    return cohort.starts_at + timedelta(minutes=cohort.minutes)


def session_ended(cohort: Cohort, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= cohort_ends_at(cohort)
