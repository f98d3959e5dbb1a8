"""Attendance at a live session: recorded by hand on the roster, or from a meeting tool's
participant report (parsed and matched by :mod:`lms.cohorts.attendance_import`, previewed, then
applied all at once). Attendance counts toward completion as docs/rules.md says.

- Attendance follows the clock (:func:`attendance_cap`): nobody has attended more than the
  minutes since the session started, nor more than its length, each plus
  ``LMS_ATTENDANCE_TOLERANCE_MINUTES`` for joining early and running late.
- From minutes (imports): present at ``minimum_minutes`` of the course's certificate rule or
  more; late (attended part of the session: it does not count toward completion) for 1 minute
  up to the minimum; absent at 0.
- Each record locks the learner's enrollment first (:func:`record_attendance`), so a
  reflection submitted at the same moment and the attendance see each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from lms.accounts.models import User
from lms.audit.services import record_event
from lms.cohorts import attendance_import
from lms.cohorts.clock import session_ended
from lms.cohorts.locking import lock_fresh, lock_row
from lms.cohorts.models import Attendance, AttendanceSource, AttendanceStatus, Cohort, CohortStatus
from lms.cohorts.roster import seat_holders
from lms.cohorts.services import SEAT_STATUSES, CohortError, course_definition
from lms.db import db_session, utcnow
from lms.formatting import lms_number
from lms.i18n import _, _l
from lms.learning.models import Enrollment, EnrollmentStatus
from lms.learning.progress import refresh_completion
from lms.uploads import upload_limit

IMPORT_SALT = "lms.cohorts.attendance-import"
IMPORT_MAX_AGE = 3600  # seconds a preview stays valid


# -- attendance -------------------------------------------------------------------------------


def attendance_cap(cohort: Cohort, now: datetime | None = None) -> int:
    """The most minutes anyone can have attended by now: the minutes since the session started
    (none before it, bar joining early), never more than its length, each plus the tolerance."""
    tolerance = max(int(current_app.config["LMS_ATTENDANCE_TOLERANCE_MINUTES"]), 0)
    elapsed = ((now or utcnow()) - cohort.starts_at) // timedelta(minutes=1)
    return max(0, min(elapsed, cohort.minutes) + tolerance)


def status_for_minutes(minutes: int, minimum_minutes: int) -> AttendanceStatus:
    """The import's rule: present at the minimum or more, late for part of it, absent for none."""
    if minutes >= minimum_minutes:
        return AttendanceStatus.present
    if minutes > 0:
        return AttendanceStatus.late
    return AttendanceStatus.absent


def minimum_minutes(cohort: Cohort) -> int:
    definition = course_definition(cohort)
    return definition.certificate.minimum_minutes if definition.certificate else cohort.minutes


def _check_attendance_allowed(cohort: Cohort) -> None:
    if cohort.status is CohortStatus.cancelled:
        raise CohortError(_("This cohort was cancelled, so it has no attendance."))


def record_attendance(
    actor: User,
    enrollment: Enrollment,
    status: AttendanceStatus | None,
    minutes: int,
    source: AttendanceSource,
    definition: Any,
) -> bool:
    """Set (or with ``status=None`` clear) one learner's attendance; returns whether it changed.

    The enrollment's row is locked first, as the learner's own writes lock it: when the learner
    submits their last reflection while the attendance is saved, the later of the two sees the
    other's evidence and completes the enrollment. Callers that record several go in enrollment
    id order (as certificate issuing does), so two of them never wait for each other in a circle.
    """
    lock_fresh(enrollment)
    if enrollment.status not in SEAT_STATUSES:
        raise CohortError(
            _("%(name)s does not hold a seat in this cohort.", name=enrollment.user.display_name)
        )
    current = db_session.scalar(select(Attendance).where(Attendance.enrollment_id == enrollment.id))
    before = (
        {"status": str(current.status), "minutes": current.minutes, "source": str(current.source)}
        if current
        else None
    )
    if status is None:
        if current is None:
            return False
        db_session.delete(current)
        db_session.flush()
        record_event(
            actor, "attendance.cleared", enrollment, cohort_id=enrollment.cohort_id, before=before
        )
    else:
        if current is not None and current.status is status and current.minutes == minutes:
            return False
        if current is None:
            current = Attendance(enrollment_id=enrollment.id, status=status, minutes=minutes)
            db_session.add(current)
        current.status = status
        current.minutes = minutes
        current.source = source
        current.recorded_by_id = actor.id
        current.recorded_at = utcnow()
        db_session.flush()
        record_event(
            actor,
            "attendance.recorded",
            enrollment,
            cohort_id=enrollment.cohort_id,
            source=str(source),
            before=before,
            after={"status": str(status), "minutes": minutes},
        )
    if enrollment.status is EnrollmentStatus.registered:
        enrollment.started_at = enrollment.started_at or utcnow()
    refresh_completion(enrollment, definition)
    return True


def attendance_cap_message(cohort: Cohort, cap: int) -> str:
    if session_ended(cohort):
        return _(
            "Minutes must be between 0 and %(max)s: the session's length (%(minutes)s) and %(tolerance)s more for joining early or running late.",  # noqa: E501
            max=cap,
            minutes=cohort.minutes,
            tolerance=cap - cohort.minutes,
        )
    return _(
        "Minutes must be between 0 and %(max)s: the session has not ended, and nobody can have attended longer than it has run (with %(tolerance)s minutes for joining early).",  # noqa: E501
        max=cap,
        tolerance=current_app.config["LMS_ATTENDANCE_TOLERANCE_MINUTES"],
    )


@dataclass(frozen=True)
class AttendanceEntry:
    enrollment_id: int
    status: AttendanceStatus | None
    minutes: int | None


def save_roster_attendance(actor: User, cohort: Cohort, entries: Iterable[AttendanceEntry]) -> int:
    """The roster's attendance form, all at once. Minutes left empty: the session's length for
    present, 0 for excused or absent; late needs minutes. Returns how many records changed."""
    _check_attendance_allowed(cohort)
    definition = course_definition(cohort)
    holders = {e.id: e for e in seat_holders(cohort)}
    cap = attendance_cap(cohort)
    ended = session_ended(cohort)
    changed = 0
    for entry in sorted(entries, key=lambda entry: entry.enrollment_id):
        enrollment = holders.get(entry.enrollment_id)
        if enrollment is None:
            raise CohortError(
                _("The roster changed while you were editing it. Reload the page and try again.")
            )
        minutes = entry.minutes
        if entry.status is None:
            minutes = 0
        elif minutes is None:
            if entry.status is AttendanceStatus.late:
                raise CohortError(
                    _(
                        "Enter the minutes %(name)s attended (they were late).",
                        name=enrollment.user.display_name,
                    )
                )
            if entry.status is AttendanceStatus.present and not ended:
                raise CohortError(
                    _(
                        "Enter the minutes %(name)s has attended so far: the session has not ended yet.",
                        name=enrollment.user.display_name,
                    )
                )
            minutes = cohort.minutes if entry.status is AttendanceStatus.present else 0
        if not 0 <= minutes <= cap:
            raise CohortError(attendance_cap_message(cohort, cap))
        changed += record_attendance(
            actor, enrollment, entry.status, minutes, AttendanceSource.manual, definition
        )
    return changed


# -- attendance import ------------------------------------------------------------------------


@dataclass
class PreviewLine:
    lines: list[int]
    enrollment: Enrollment
    minutes: int
    status: AttendanceStatus
    matched_by: str
    current: Attendance | None
    reported: int = 0  # the file's minutes, when more than the clock allows (see attendance_cap)


@dataclass
class ImportPreview:
    filename: str
    sha256: str
    encoding: str = ""
    separator: str = ""  # how the columns were separated, in words
    cap: int = 0  # the most minutes anyone can have attended by now
    fatal: attendance_import.Problem | None = None
    matched: list[PreviewLine] = field(default_factory=list)
    unmatched: list[attendance_import.UnmatchedRow] = field(default_factory=list)
    ambiguous: list[attendance_import.UnmatchedRow] = field(default_factory=list)
    rejected: list[attendance_import.Problem] = field(default_factory=list)
    not_in_report: list[Enrollment] = field(default_factory=list)
    token: str = ""


SEPARATOR_NAMES = {",": _l("commas"), "\t": _l("tabs"), ";": _l("semicolons")}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=IMPORT_SALT)  # type: ignore[arg-type]


def _roster_fingerprint(holders: Iterable[Enrollment]) -> str:
    return hashlib.sha256(
        ",".join(str(e.id) for e in sorted(holders, key=lambda e: e.id)).encode()
    ).hexdigest()


def preview_import(actor: User, cohort: Cohort, data: bytes, filename: str = "") -> ImportPreview:
    """Read a participant report and match it to the roster without changing anything.

    What apply needs (enrollment ids and minutes, a few bytes per person) travels in a signed,
    expiring token tied to this cohort, this facilitator, the file's SHA-256 and the roster;
    the upload itself is not kept anywhere.
    """
    _check_attendance_allowed(cohort)
    config = current_app.config
    preview = ImportPreview(filename=filename[:200], sha256=hashlib.sha256(data).hexdigest())
    parsed = attendance_import.parse_participant_report(
        data,
        max_bytes=config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"],
        max_rows=config["LMS_ATTENDANCE_UPLOAD_MAX_ROWS"],
    )
    if parsed.fatal is not None and parsed.fatal.message == attendance_import.TOO_LARGE:
        parsed.fatal = upload_too_large_problem()
    preview.encoding = parsed.encoding
    preview.separator = str(SEPARATOR_NAMES.get(parsed.delimiter, parsed.delimiter))
    preview.cap = attendance_cap(cohort)
    if parsed.fatal is not None:
        preview.fatal = parsed.fatal
        return preview
    preview.rejected = parsed.rejected
    holders = seat_holders(cohort)
    entries = [
        attendance_import.RosterEntry(e.id, e.user.email, e.user.display_name) for e in holders
    ]
    matched = attendance_import.match_rows(parsed.rows, entries, attendance_cap(cohort))
    preview.unmatched, preview.ambiguous = matched.unmatched, matched.ambiguous
    by_id = {e.id: e for e in holders}
    minimum = minimum_minutes(cohort)
    current = {
        a.enrollment_id: a
        for a in db_session.scalars(
            select(Attendance).where(Attendance.enrollment_id.in_(list(by_id) or [0]))
        )
    }
    for enrollment_id, person in matched.matched.items():
        preview.matched.append(
            PreviewLine(
                person.lines,
                by_id[enrollment_id],
                person.minutes,
                status_for_minutes(person.minutes, minimum),
                person.matched_by,
                current.get(enrollment_id),
                person.reported,
            )
        )
    preview.matched.sort(key=lambda line: line.enrollment.user.display_name.casefold())
    preview.not_in_report = sorted(
        (e for e in holders if e.id not in matched.matched),
        key=lambda e: e.user.display_name.casefold(),
    )
    if preview.matched:
        preview.token = _serializer().dumps(
            {
                "cohort": cohort.id,
                "actor": actor.id,
                "sha256": preview.sha256,
                "roster": _roster_fingerprint(holders),
                "minutes": [[line.enrollment.id, line.minutes] for line in preview.matched],
            }
        )
    return preview


def apply_import(actor: User, cohort: Cohort, token: str) -> int:
    """Apply a previewed import: every matched person's attendance, all or nothing."""
    _check_attendance_allowed(cohort)
    try:
        payload = _serializer().loads(token, max_age=IMPORT_MAX_AGE)
    except SignatureExpired:
        raise CohortError(
            _("This preview is more than an hour old. Upload the report again.")
        ) from None
    except BadSignature:
        raise CohortError(
            _("This preview could not be checked. Upload the report again.")
        ) from None
    if (
        not isinstance(payload, dict)
        or payload.get("cohort") != cohort.id
        or payload.get("actor") != actor.id
    ):
        raise CohortError(
            _("This preview belongs to another cohort or person. Upload the report again.")
        )
    lock_row(Cohort, cohort.id)
    holders = seat_holders(cohort)
    if payload.get("roster") != _roster_fingerprint(holders):
        raise CohortError(_("The roster changed since the preview. Upload the report again."))
    by_id = {e.id: e for e in holders}
    definition = course_definition(cohort)
    minimum = minimum_minutes(cohort)
    cap = attendance_cap(cohort)  # it only grows: what the preview capped is still within it
    changed = 0
    for enrollment_id, minutes in sorted(payload.get("minutes", []), key=lambda pair: pair[0]):
        enrollment = by_id.get(enrollment_id)
        if enrollment is None or not isinstance(minutes, int) or not 0 <= minutes <= cap:
            raise CohortError(_("This preview could not be checked. Upload the report again."))
        changed += record_attendance(
            actor,
            enrollment,
            status_for_minutes(minutes, minimum),
            minutes,
            AttendanceSource.import_,
            definition,
        )
    record_event(
        actor,
        "attendance.imported",
        cohort,
        sha256=payload.get("sha256"),
        people=len(payload.get("minutes", [])),
        changed=changed,
    )
    return changed


def upload_too_large_problem() -> attendance_import.Problem:
    """A participant report over the limit: the import's own, or the whole request's if lower."""
    limit = upload_limit(current_app.config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"])
    return attendance_import.Problem(
        None, attendance_import.TOO_LARGE, {"limit": lms_number(limit)}
    )


def problem_text(problem: Any) -> str:
    """A parse or match problem in the viewer's language."""
    return _(problem.message, **problem.params) if problem.params else _(problem.message)
