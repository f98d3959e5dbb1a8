"""A cohort's roster: everyone enrolled in it, with their attendance, reflections and
certificates, as the facilitator's roster page shows them.

A facilitator reads only the reflections a learner chose to share (:func:`shared_reflections`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.cohorts.clock import session_ended
from lms.cohorts.models import Attendance, Cohort
from lms.cohorts.services import SEAT_STATUSES
from lms.db import db_session
from lms.learning.models import Enrollment, EnrollmentStatus, Reflection, ReflectionStatus


@dataclass
class RosterLine:
    enrollment: Enrollment
    user: User
    attendance: Attendance | None
    reflections_submitted: int
    reflections_shared: int
    certificate: Certificate | None  # the valid one
    revoked_certificates: int
    waitlist_position: int | None = None
    last_revoked: Certificate | None = None  # the latest revoked one
    session_ended: bool = True

    @property
    def holds_seat(self) -> bool:
        return self.enrollment.status in SEAT_STATUSES

    @property
    def certificate_state(self) -> str:
        """valid; revoked (no valid one, a revoked one: only an admin may issue again, on purpose);
        after_session (completed, the session still running); eligible (completed, none yet); none."""
        if self.certificate is not None:
            return "valid"
        if self.revoked_certificates:
            return "revoked"
        if self.enrollment.status is EnrollmentStatus.completed:
            return "eligible" if self.session_ended else "after_session"
        return "none"


_STATUS_ORDER = {
    EnrollmentStatus.completed: 0,
    EnrollmentStatus.in_progress: 0,
    EnrollmentStatus.registered: 0,
    EnrollmentStatus.waitlisted: 1,
    EnrollmentStatus.withdrawn: 2,
}


def roster(cohort: Cohort) -> list[RosterLine]:
    enrollments = list(
        db_session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort.id)
            .order_by(Enrollment.created_at, Enrollment.id)
        )
    )
    ids = [e.id for e in enrollments]
    if not ids:
        return []
    attendance = {
        a.enrollment_id: a
        for a in db_session.scalars(select(Attendance).where(Attendance.enrollment_id.in_(ids)))
    }
    submitted: dict[int, int] = dict(
        db_session.execute(  # type: ignore[arg-type]
            select(Reflection.enrollment_id, func.count())
            .where(
                Reflection.enrollment_id.in_(ids), Reflection.status == ReflectionStatus.submitted
            )
            .group_by(Reflection.enrollment_id)
        ).all()
    )
    shared: dict[int, int] = dict(
        db_session.execute(  # type: ignore[arg-type]
            select(Reflection.enrollment_id, func.count())
            .where(
                Reflection.enrollment_id.in_(ids),
                Reflection.status == ReflectionStatus.submitted,
                Reflection.shared_with_facilitator.is_(True),
            )
            .group_by(Reflection.enrollment_id)
        ).all()
    )
    valid: dict[int, Certificate] = {}
    revoked: dict[int, int] = {}
    last_revoked: dict[int, Certificate] = {}
    for certificate in db_session.scalars(
        select(Certificate)
        .where(Certificate.enrollment_id.in_(ids))
        .order_by(Certificate.revoked_at, Certificate.id)
    ):
        if certificate.revoked_at is None:
            valid[certificate.enrollment_id] = certificate
        else:
            revoked[certificate.enrollment_id] = revoked.get(certificate.enrollment_id, 0) + 1
            last_revoked[certificate.enrollment_id] = certificate
    ended = session_ended(cohort)
    lines = []
    position = 0
    for e in enrollments:
        if e.status is EnrollmentStatus.waitlisted:
            position += 1
        lines.append(
            RosterLine(
                e,
                e.user,
                attendance.get(e.id),
                submitted.get(e.id, 0),
                shared.get(e.id, 0),
                valid.get(e.id),
                revoked.get(e.id, 0),
                position if e.status is EnrollmentStatus.waitlisted else None,
                last_revoked.get(e.id),
                ended,
            )
        )
    lines.sort(
        key=lambda line: (
            _STATUS_ORDER.get(line.enrollment.status, 3),
            line.waitlist_position or 0,
            line.user.display_name.casefold(),
        )
    )
    return lines


def seat_holders(cohort: Cohort) -> list[Enrollment]:
    return list(
        db_session.scalars(
            select(Enrollment)
            .where(Enrollment.cohort_id == cohort.id, Enrollment.status.in_(SEAT_STATUSES))
            .order_by(Enrollment.id)
        )
    )


def roster_enrollment(cohort: Cohort, enrollment_id: int) -> Enrollment | None:
    enrollment = db_session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.cohort_id != cohort.id:
        return None
    return enrollment


def shared_reflections(enrollment: Enrollment) -> list[Reflection]:
    """Submitted reflections the learner chose to share with the facilitator (only those)."""
    return list(
        db_session.scalars(
            select(Reflection)
            .where(
                Reflection.enrollment_id == enrollment.id,
                Reflection.status == ReflectionStatus.submitted,
                Reflection.shared_with_facilitator.is_(True),
            )
            .order_by(Reflection.submitted_at, Reflection.id)
        )
    )
