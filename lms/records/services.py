"""The learner's transcript: every completed enrollment with its credit and certificate, totals per
credit type for a period, and the snapshots that its PDF's QR code verifies.

Credit comes from the course file (``[credit]``, :mod:`lms.courses.credit`) for the path the learner
took: a recording is informational and ungraded, so it is listed as completed with no credit.
Dates are the learner's calendar days (their time zone); a period is a range of those days, a
school year by default (``LMS_SCHOOL_YEAR_START_MONTH``, July: July to June).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.certificates.services import generate_code, normalise_code
from lms.courses.credit import credit_for
from lms.db import db_session, utcnow
from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath
from lms.records.models import Transcript
from lms.state import lms_state

MAX_PERIOD_YEARS = 50


class PeriodError(ValueError):
    """A period that cannot be used; the message is shown to the person."""


@dataclass(frozen=True)
class Period:
    """Calendar days from ``start`` to ``end``, both included; None on a side means open."""

    start: dt.date | None = None
    end: dt.date | None = None

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    @property
    def is_all_time(self) -> bool:
        return self.start is None and self.end is None


def school_year_start_month() -> int:
    month = int(current_app.config.get("LMS_SCHOOL_YEAR_START_MONTH", 7))
    return month if 1 <= month <= 12 else 7


def school_year(starting: int, start_month: int) -> Period:
    """The school year that starts in ``start_month`` of year ``starting``."""
    start = dt.date(starting, start_month, 1)
    following = dt.date(starting + 1, start_month, 1)
    return Period(start, following - dt.timedelta(days=1))


def school_year_of(day: dt.date, start_month: int) -> int:
    return day.year if day.month >= start_month else day.year - 1


def parse_period(args: Mapping[str, str], today: dt.date, start_month: int) -> tuple[Period, str]:
    """The period asked for by ``year`` (a school year's first calendar year, or ``all``) or by
    ``from``/``to`` (days, both included), and the key that names it; the current school year
    when nothing is asked."""
    year = (args.get("year") or "").strip()
    date_from = (args.get("from") or "").strip()
    date_to = (args.get("to") or "").strip()
    if date_from or date_to:
        try:
            start = dt.date.fromisoformat(date_from) if date_from else None
            end = dt.date.fromisoformat(date_to) if date_to else None
        except ValueError:
            raise PeriodError("dates") from None
        if start and end and start > end:
            raise PeriodError("order")
        return Period(start, end), "custom"
    if year == "all":
        return Period(), "all"
    if year:
        if (
            not (year.isascii() and year.isdigit() and len(year) == 4)
            or abs(int(year) - today.year) > MAX_PERIOD_YEARS
        ):
            raise PeriodError("year")
        return school_year(int(year), start_month), year
    current = school_year_of(today, start_month)
    return school_year(current, start_month), str(current)


@dataclass(frozen=True)
class TranscriptEntry:
    enrollment_id: int
    course_slug: str
    course_title: str
    path: str
    completed_on: str  # ISO day in the learner's time zone
    credit_type: str | None  # None: the course declares no credit
    credit_amount: float
    certificate_code: str | None
    certificate_status: str  # valid, revoked, replaced, none, not_available


@dataclass
class TranscriptContent:
    """What a transcript shows, page and PDF alike; JSON-ready (see :meth:`to_json`)."""

    learner_name: str
    locale: str
    period_start: str | None
    period_end: str | None
    entries: list[TranscriptEntry] = field(default_factory=list)
    totals: dict[str, float] = field(
        default_factory=dict
    )  # credit type -> amount, in first-seen order

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> TranscriptContent:
        data = json.loads(text)
        entries = [TranscriptEntry(**entry) for entry in data.pop("entries")]
        return cls(entries=entries, **data)


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(current_app.config["LMS_DEFAULT_TIMEZONE"])


def _catalog() -> Any:
    return lms_state().catalog


def _certificates_by_enrollment(enrollment_ids: list[int]) -> dict[int, Certificate]:
    """Each enrollment's current certificate: its valid one, else its newest."""
    found: dict[int, Certificate] = {}
    for start in range(0, len(enrollment_ids), 500):
        chunk = enrollment_ids[start : start + 500]
        for certificate in db_session.scalars(
            select(Certificate).where(Certificate.enrollment_id.in_(chunk)).order_by(Certificate.id)
        ):
            current = found.get(certificate.enrollment_id)
            if current is None or current.revoked_at is not None:
                found[certificate.enrollment_id] = certificate
    return found


def _certificate_status(path: LearningPath, certificate: Certificate | None) -> str:
    if path is not LearningPath.live:
        return "not_available"
    if certificate is None:
        return "none"
    if certificate.revoked_at is None:
        return "valid"
    return "replaced" if certificate.replaced_by_id is not None else "revoked"


def completed_enrollments(user: User) -> list[Enrollment]:
    return list(
        db_session.scalars(
            select(Enrollment)
            .where(
                Enrollment.user_id == user.id,
                Enrollment.status == EnrollmentStatus.completed,
                Enrollment.completed_at.is_not(None),
            )
            .order_by(Enrollment.completed_at.desc(), Enrollment.id.desc())
        )
    )


def transcript_for(user: User, period: Period, locale: str) -> TranscriptContent:
    """The learner's completed enrollments in ``period``, newest first, with totals per credit type."""
    zone = _zone(user)
    catalog = _catalog()
    content = TranscriptContent(
        learner_name=user.display_name,
        locale=locale,
        period_start=period.start.isoformat() if period.start else None,
        period_end=period.end.isoformat() if period.end else None,
    )
    enrollments = [
        e
        for e in completed_enrollments(user)
        if period.contains(e.completed_at.astimezone(zone).date())
    ]
    certificates = _certificates_by_enrollment([e.id for e in enrollments])
    for enrollment in enrollments:
        loaded = catalog.get(enrollment.course.slug)
        title = loaded.localized("title", locale) if loaded is not None else enrollment.course.title
        credit = (
            credit_for(loaded.definition.credit, enrollment.path.value)
            if loaded is not None
            else None
        )
        certificate = certificates.get(enrollment.id)
        content.entries.append(
            TranscriptEntry(
                enrollment_id=enrollment.id,
                course_slug=enrollment.course.slug,
                course_title=title,
                path=enrollment.path.value,
                completed_on=enrollment.completed_at.astimezone(zone).date().isoformat(),
                credit_type=credit.type if credit else None,
                credit_amount=credit.amount if credit else 0.0,
                certificate_code=certificate.code
                if certificate is not None and enrollment.path is LearningPath.live
                else None,
                certificate_status=_certificate_status(enrollment.path, certificate),
            )
        )
        if credit is not None and credit.earns:
            content.totals[credit.type] = round(
                content.totals.get(credit.type, 0.0) + credit.amount, 4
            )
    return content


def school_years_of(user: User, start_month: int) -> list[int]:
    """The school years in which the learner completed something, newest first."""
    zone = _zone(user)
    return sorted(
        {
            school_year_of(e.completed_at.astimezone(zone).date(), start_month)
            for e in completed_enrollments(user)
        },
        reverse=True,
    )


# -- snapshots for verification ------------------------------------------------------------------


def snapshot(user: User, period: Period, content: TranscriptContent) -> Transcript:
    """The stored transcript with this content, made on first download; one code per content."""
    digest = content.content_hash
    existing = db_session.scalar(
        select(Transcript).where(Transcript.user_id == user.id, Transcript.content_hash == digest)
    )
    if existing is not None:
        return existing
    transcript = Transcript(
        code=generate_code(),
        user_id=user.id,
        period_start=period.start,
        period_end=period.end,
        locale=content.locale,
        content=content.to_json(),
        content_hash=digest,
        issued_at=utcnow(),
    )
    try:
        with db_session.begin_nested():
            db_session.add(transcript)
    except IntegrityError:  # the same download at the same moment made it first
        return db_session.scalar(
            select(Transcript).where(
                Transcript.user_id == user.id, Transcript.content_hash == digest
            )
        )
    return transcript


def find_transcript(code: str) -> Transcript | None:
    canonical = normalise_code(code)
    if canonical is None:
        return None
    return db_session.scalar(select(Transcript).where(Transcript.code == canonical))


@dataclass
class TranscriptVerification:
    transcript: Transcript
    content: TranscriptContent
    current: bool  # False: the learner's records have changed since it was downloaded


def verify_transcript(code: str) -> TranscriptVerification | None:
    transcript = find_transcript(code)
    if transcript is None:
        return None
    content = TranscriptContent.from_json(transcript.content)
    user = db_session.get(User, transcript.user_id)
    now = (
        transcript_for(
            user, Period(transcript.period_start, transcript.period_end), transcript.locale
        )
        if user
        else None
    )
    return TranscriptVerification(
        transcript, content, now is not None and now.content_hash == transcript.content_hash
    )
