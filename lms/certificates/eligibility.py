"""Who may get a certificate, and the errors the certificates' operations raise.

Only a completed **live** enrollment earns a certificate: :func:`ensure_certifiable` refuses a
recording or self-paced enrollment with :class:`RecordingNotCertifiedError` whichever entry point
asks (roster button, whole cohort, CLI, reissue), and :func:`check_eligible` asks the rest: a
seat in a session that was held and has ended, a completed course that still offers the
certificate, and the session evaluation where the course asks for one. The rules themselves are
written out in ``docs/rules.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lms.certificates.models import Certificate
from lms.cohorts.clock import cohort_ends_at, session_ended
from lms.cohorts.models import Cohort, CohortStatus
from lms.db import db_session
from lms.formatting import lms_datetime
from lms.i18n import _
from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath
from lms.learning.progress import refresh_completion
from lms.records.evaluations import required_and_missing
from lms.state import lms_state


class CertificateError(ValueError):
    """A certificate operation that cannot be done; the message is shown to the person."""


class NotEligibleError(CertificateError):
    """The enrollment has not earned a certificate (yet)."""


class RecordingNotCertifiedError(NotEligibleError):
    """Recordings and self-paced courses never earn a certificate."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Certificates of completion are only for attending a live session. Recordings "
                "and self-paced courses are informational and do not earn a certificate."
            )
        )


class SessionNotEndedError(NotEligibleError):
    """The session has not ended: a certificate comes after it."""


class RevokedCertificateError(NotEligibleError):
    """The enrollment's certificate was revoked: only an admin's deliberate reissue undoes that."""


def ensure_certifiable(enrollment: Enrollment) -> None:
    """Refuse any enrollment that is not on the live path, before anything else."""
    if enrollment.path is not LearningPath.live or enrollment.cohort_id is None:
        raise RecordingNotCertifiedError()


def _catalog() -> Any:
    return lms_state().catalog


@dataclass
class Eligibility:
    cohort: Cohort
    loaded: Any  # LoadedCourse


def check_eligible(enrollment: Enrollment) -> Eligibility:
    ensure_certifiable(enrollment)
    cohort = db_session.get(Cohort, enrollment.cohort_id)
    name = enrollment.user.display_name
    if cohort is None or cohort.status is CohortStatus.cancelled:
        raise NotEligibleError(
            _("%(name)s's session was cancelled, so it earns no certificate.", name=name)
        )
    loaded = _catalog().get(enrollment.course.slug)
    if (
        loaded is None
        or loaded.definition.certificate is None
        or "live" not in loaded.definition.paths
    ):
        raise NotEligibleError(_("This course does not offer a certificate any more."))
    if enrollment.status in (EnrollmentStatus.waitlisted, EnrollmentStatus.withdrawn):
        raise NotEligibleError(_("%(name)s does not hold a seat in this session.", name=name))
    if not refresh_completion(enrollment, loaded.definition):
        raise NotEligibleError(
            _(
                "%(name)s has not completed the course yet: attendance and every required reflection are needed.",
                name=name,
            )
        )
    ensure_session_ended(cohort)

    if required_and_missing(enrollment):
        raise NotEligibleError(
            _(
                "%(name)s has not answered the session evaluation yet, which this course asks "
                "for before the certificate.",
                name=name,
            )
        )
    return Eligibility(cohort, loaded)


def ensure_cohort_can_issue(cohort: Cohort) -> None:
    """Whether the cohort as a whole may earn certificates now, said once for the cohort rather
    than once per learner: not when it was cancelled, nor before its session has ended."""
    if cohort.status is CohortStatus.cancelled:
        raise CertificateError(_("This cohort was cancelled, so it earns no certificates."))
    ensure_session_ended(cohort)


def ensure_session_ended(cohort: Cohort) -> None:
    if not session_ended(cohort):
        raise SessionNotEndedError(
            _(
                "Certificates can be issued once the session has ended, at %(time)s.",
                time=lms_datetime(cohort_ends_at(cohort)),
            )
        )


def last_revoked_certificate(enrollment: Enrollment) -> Certificate | None:
    return db_session.scalar(
        select(Certificate)
        .where(Certificate.enrollment_id == enrollment.id, Certificate.revoked_at.is_not(None))
        .order_by(Certificate.revoked_at.desc(), Certificate.id.desc())
        .limit(1)
    )


def valid_certificate(enrollment: Enrollment, *, fresh: bool = False) -> Certificate | None:
    query = select(Certificate).where(
        Certificate.enrollment_id == enrollment.id, Certificate.revoked_at.is_(None)
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return db_session.scalar(query)
