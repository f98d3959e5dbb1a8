"""The one builder of a cohort's calendar file: the ``.ics`` download and the invitations mailed
to learners (``lms.notifications``) both come from :func:`cohort_calendar`.

An invitation calendars understand (RFC 5546) keeps the same UID for one person's copy of one
session, raises SEQUENCE with every change, says METHOD:REQUEST for "this is on" and
METHOD:CANCEL for "this is off", and carries the session in the zone it was scheduled in with
that zone's VTIMEZONE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar

from lms.cohorts.clock import cohort_local_start
from lms.cohorts.models import Cohort, CohortStatus
from lms.db import utcnow


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


def cohort_uid(cohort_id: int, host: str, user_id: int | None = None) -> str:
    """Stable per cohort, and per cohort and learner for a learner's own copy."""
    who = f"-learner-{user_id}" if user_id is not None else ""
    return f"cohort-{cohort_id}{who}@{host or 'lms'}"


def cohort_calendar(
    cohort: Cohort,
    *,
    uid: str,
    summary: str,
    description: str,
    url: str,
    method: str = "PUBLISH",
    sequence: int = 0,
    organizer: Person | None = None,
    attendee: Person | None = None,
    cancelled: bool | None = None,
    stamp: datetime | None = None,
) -> bytes:
    """One VEVENT (with its VTIMEZONE) for ``cohort``; ``method`` is PUBLISH, REQUEST or CANCEL."""
    if method not in ("PUBLISH", "REQUEST", "CANCEL"):
        raise ValueError(f"unknown calendar method {method!r}")
    if cancelled is None:
        cancelled = cohort.status is CohortStatus.cancelled or method == "CANCEL"
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//lms-microcourses//cohorts//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp or utcnow())
    event.add("dtstart", cohort_local_start(cohort))
    event.add("duration", timedelta(minutes=cohort.minutes))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("location", cohort.location or cohort.join_url or url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if organizer is not None:
        event.add(
            "organizer",
            f"mailto:{organizer.email}",
            parameters={"CN": organizer.name} if organizer.name else None,
        )
    if attendee is not None:
        parameters = {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"}
        if attendee.name:
            parameters["CN"] = attendee.name
        event.add("attendee", f"mailto:{attendee.email}", parameters=parameters)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
