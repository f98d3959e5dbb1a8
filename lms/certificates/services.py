"""Certificates of completion: issue (idempotent), revoke, reissue, PDF, verification.

Who may get one, and the errors these operations raise, are in ``lms.certificates.eligibility``:
only a completed **live** enrollment earns a certificate, whichever entry point asks (roster
button, whole cohort, CLI, reissue).

Issuing twice is harmless and safe under simultaneous requests: the enrollment row is locked,
the valid certificate looked up, and the insert runs in a SAVEPOINT; the database's partial
unique index (one certificate with ``revoked_at IS NULL`` per enrollment) is the last word: an
IntegrityError there returns the certificate the other request made.

A certificate is issued only once the session has ended. A revocation stands: an enrollment with
a revoked certificate and no valid one gets no new certificate from the roster or a bulk issue
(``RevokedCertificateError``); only an admin may issue one again, on purpose, with a reason
kept in the audit log (:func:`reissue_after_revocation`).

Verification shows what the certificate prints and its state. A revocation's reason is private
(it may concern the person): the public page shows only that it was revoked, and when.

A little over the engine's usual length: issue, revoke and the two reissues share their locking
and insertion helpers, which keeps them in one module.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import User
from lms.audit.services import record_event
from lms.certificates.eligibility import (
    CertificateError,
    Eligibility,
    NotEligibleError,
    RevokedCertificateError,
    check_eligible,
    ensure_cohort_can_issue,
    last_revoked_certificate,
    valid_certificate,
)
from lms.certificates.models import Certificate
from lms.certificates.pdf import CertificateContent, render_certificate
from lms.certificates.signals import certificate_issued, certificate_revoked
from lms.cohorts.locking import lock_fresh, lock_row
from lms.cohorts.models import Cohort
from lms.cohorts.services import can_manage_cohort
from lms.db import db_session, fit_to, utcnow
from lms.formatting import lms_datetime
from lms.i18n import _
from lms.learning.models import Enrollment, EnrollmentStatus
from lms.links import external_url

# Crockford's base32: digits and letters without I, L, O, U (never confused with 1, 0 or V).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 16 x 5 bits = 80 bits of randomness
GROUP = 4
MAX_TYPED_CODE = 64  # how much of a typed or linked code is read, and shown back when unknown
REPLACED = "replaced"
MAX_REASON = 1000


# -- codes ------------------------------------------------------------------------------------


def generate_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalise_code(text: str) -> str | None:
    """A typed code in its canonical form (upper case, grouped), or None if it cannot be one."""
    raw = re.sub(r"[\s-]", "", (text or "")[:MAX_TYPED_CODE]).upper().translate(_CONFUSABLE)
    if len(raw) != CODE_LENGTH or any(char not in ALPHABET for char in raw):
        return None
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def find_certificate(code: str) -> Certificate | None:
    canonical = normalise_code(code)
    if canonical is None:
        return None
    return db_session.scalar(select(Certificate).where(Certificate.code == canonical))


# -- issue ------------------------------------------------------------------------------------


def _snapshot(enrollment: Enrollment, eligibility: Eligibility) -> dict[str, Any]:
    user = enrollment.user
    cohort = eligibility.cohort
    locale = (
        user.locale
        if user.locale in current_app.config["LMS_LANGUAGES"]
        else current_app.config["LMS_DEFAULT_LOCALE"]
    )
    session_date: date = cohort.starts_at.astimezone(ZoneInfo(cohort.time_zone)).date()
    facilitators = ", ".join(f.display_name for f in cohort.facilitators)
    return {
        "learner_name": fit_to(Certificate.learner_name, user.display_name),
        "course_title": fit_to(
            Certificate.course_title, eligibility.loaded.localized("title", locale)
        ),
        "hours": float(eligibility.loaded.definition.certificate.hours),
        "session_date": session_date,
        "facilitator_name": fit_to(Certificate.facilitator_name, facilitators),
        "organisation": fit_to(
            Certificate.organisation, str(current_app.config["LMS_ORGANISATION"])
        ),
        "locale": locale,
    }


@dataclass
class IssueResult:
    certificate: Certificate
    created: bool


def issue_certificate(enrollment: Enrollment, actor: User | None) -> IssueResult:
    """The enrollment's valid certificate, issued now if it has none. Idempotent and race-safe."""
    eligibility = check_eligible(enrollment)
    lock_row(Enrollment, enrollment.id)
    existing = valid_certificate(enrollment, fresh=True)
    if existing is not None:
        return IssueResult(existing, False)
    revoked = last_revoked_certificate(enrollment)
    if revoked is not None:
        raise RevokedCertificateError(
            _(
                "%(name)s's certificate %(code)s was revoked on %(date)s. Only an admin can "
                "issue a new one, from that certificate's page.",
                name=enrollment.user.display_name,
                code=revoked.code,
                date=lms_datetime(revoked.revoked_at),
            )
        )
    snapshot = _snapshot(enrollment, eligibility)
    certificate = _insert(enrollment, actor, snapshot)
    if isinstance(certificate, IssueResult):
        return certificate
    record_event(
        actor,
        "certificate.issued",
        certificate,
        enrollment_id=enrollment.id,
        user_id=enrollment.user_id,
        code=certificate.code,
    )
    _announce_issued(certificate, actor)
    return IssueResult(certificate, True)


# The signals of lms.certificates.signals, sent with the app as sender.
def _announce_issued(certificate: Certificate, actor: User | None) -> None:
    certificate_issued.send(current_app._get_current_object(), certificate=certificate, actor=actor)  # type: ignore[attr-defined]


def _announce_revoked(certificate: Certificate, actor: User | None, reason: str) -> None:
    certificate_revoked.send(
        current_app._get_current_object(), certificate=certificate, actor=actor, reason=reason
    )  # type: ignore[attr-defined]


def _insert(
    enrollment: Enrollment, actor: User | None, snapshot: dict[str, Any]
) -> Certificate | IssueResult:
    for _attempt in range(5):
        certificate = Certificate(
            code=generate_code(),
            enrollment_id=enrollment.id,
            issued_at=utcnow(),
            issued_by_id=actor.id if actor else None,
            revoked_reason="",
            **snapshot,
        )
        try:
            with db_session.begin_nested():
                db_session.add(certificate)
        except IntegrityError:
            existing = valid_certificate(enrollment, fresh=True)
            if existing is not None:  # another request issued it first
                return IssueResult(existing, False)
            continue  # the random code was taken (about never): draw another
        return certificate
    raise CertificateError(_("The certificate could not be issued. Please try again."))


@dataclass
class CohortIssueReport:
    issued: list[Certificate] = field(default_factory=list)
    existing: list[Certificate] = field(default_factory=list)
    not_eligible: list[tuple[Enrollment, str]] = field(default_factory=list)


def issue_for_cohort(cohort: Cohort, actor: User | None) -> CohortIssueReport:
    """Certificates for everyone in the cohort who completed; the others are listed with why not."""
    report = CohortIssueReport()
    ensure_cohort_can_issue(cohort)
    enrollments = db_session.scalars(
        select(Enrollment)
        .where(
            Enrollment.cohort_id == cohort.id,
            Enrollment.status.in_(
                (
                    EnrollmentStatus.registered,
                    EnrollmentStatus.in_progress,
                    EnrollmentStatus.completed,
                )
            ),
        )
        .order_by(Enrollment.id)
    ).all()
    for enrollment in enrollments:
        try:
            result = issue_certificate(enrollment, actor)
        except NotEligibleError as error:
            report.not_eligible.append((enrollment, str(error)))
            continue
        (report.issued if result.created else report.existing).append(result.certificate)
    return report


# -- revoke and reissue -----------------------------------------------------------------------


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise CertificateError(_("Only an admin can revoke or reissue a certificate."))


def _admin_reason(reason: str, missing: str) -> str:
    """The reason an admin gave, trimmed; ``missing`` is the refusal when there is none."""
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(missing)
    if len(reason) > MAX_REASON:
        raise CertificateError(_("The reason can be at most %(max)s characters.", max=MAX_REASON))
    return reason


def _mark_revoked(certificate: Certificate, actor: User | None, reason: str) -> None:
    certificate.revoked_at = utcnow()
    certificate.revoked_reason = reason
    certificate.revoked_by_id = actor.id if actor else None
    db_session.flush()


def _lock_for_reissue(certificate: Certificate) -> tuple[Enrollment, Eligibility]:
    """The certificate's enrollment, which must still earn a certificate, locked; the certificate
    read again under that lock."""
    enrollment = certificate.enrollment
    eligibility = check_eligible(enrollment)
    lock_row(Enrollment, enrollment.id)
    db_session.refresh(certificate)
    return enrollment, eligibility


def _insert_locked(
    enrollment: Enrollment, actor: User | None, eligibility: Eligibility
) -> Certificate:
    """A new certificate for an enrollment whose row this transaction holds locked."""
    new = _insert(enrollment, actor, _snapshot(enrollment, eligibility))
    if isinstance(new, IssueResult):  # cannot happen while we hold the lock
        raise CertificateError(_("The certificate could not be issued. Please try again."))
    return new


def revoke_certificate(certificate: Certificate, actor: User | None, reason: str) -> Certificate:
    _require_admin(actor)
    reason = _admin_reason(reason, _("Give a reason for revoking the certificate."))
    lock_fresh(certificate)
    if certificate.revoked_at is not None:
        raise CertificateError(_("This certificate was already revoked."))
    _mark_revoked(certificate, actor, reason)
    record_event(
        actor,
        "certificate.revoked",
        certificate,
        code=certificate.code,
        enrollment_id=certificate.enrollment_id,
        reason=reason,
    )
    _announce_revoked(certificate, actor, reason)
    return certificate


def reissue_certificate(certificate: Certificate, actor: User | None) -> Certificate:
    """A new certificate with a fresh snapshot (corrected name...); the old one is revoked as replaced."""
    _require_admin(actor)
    enrollment, eligibility = _lock_for_reissue(certificate)
    if certificate.revoked_at is not None:
        raise CertificateError(_("Only a valid certificate can be reissued."))
    _mark_revoked(certificate, actor, REPLACED)
    new = _insert_locked(enrollment, actor, eligibility)
    certificate.replaced_by_id = new.id
    db_session.flush()
    record_event(
        actor,
        "certificate.reissued",
        new,
        replaces=certificate.code,
        code=new.code,
        enrollment_id=enrollment.id,
    )
    _announce_revoked(certificate, actor, REPLACED)
    _announce_issued(new, actor)
    return new


def reissue_after_revocation(
    certificate: Certificate, actor: User | None, reason: str
) -> Certificate:
    """A new certificate for the enrollment of a revoked one: an admin's deliberate act, with a reason.

    The revoked certificate stays revoked (its verification page says so); the audit log links the
    two. Refused while the enrollment has a valid certificate, or no longer earns one.
    """
    _require_admin(actor)
    reason = _admin_reason(reason, _("Say why a new certificate is issued after the revocation."))
    enrollment, eligibility = _lock_for_reissue(certificate)
    if certificate.revoked_at is None:
        raise CertificateError(_("This certificate is valid: reissue it instead."))
    if valid_certificate(enrollment, fresh=True) is not None:
        raise CertificateError(_("This enrollment already has a valid certificate."))
    new = _insert_locked(enrollment, actor, eligibility)
    record_event(
        actor,
        "certificate.reissued_after_revocation",
        new,
        revoked=certificate.code,
        code=new.code,
        enrollment_id=enrollment.id,
        user_id=enrollment.user_id,
        reason=reason,
    )
    _announce_issued(new, actor)
    return new


# -- who may see it ---------------------------------------------------------------------------


def can_download(user: Any, certificate: Certificate) -> bool:
    """The learner who owns it, the cohort's facilitators, admins (a revoked one: admins only)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin:
        return True
    if certificate.revoked_at is not None:
        return False
    enrollment = certificate.enrollment
    if enrollment.user_id == user.id:
        return True
    if enrollment.cohort_id is None:
        return False

    cohort = db_session.get(Cohort, enrollment.cohort_id)
    return cohort is not None and can_manage_cohort(user, cohort)


# -- PDF and verification ---------------------------------------------------------------------


def verify_url(certificate: Certificate) -> str:
    """The verification page printed and in the QR code: under the configured base URL."""
    return external_url("lms_certificates.verify", code=certificate.code)


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate's PDF in the learner's language (the locale snapshotted at issue)."""
    content = CertificateContent(
        code=certificate.code,
        learner_name=certificate.learner_name,
        course_title=certificate.course_title,
        hours=certificate.hours,
        session_date=certificate.session_date,
        facilitator_name=certificate.facilitator_name,
        organisation=certificate.organisation,
        verify_url=verify_url(certificate),
        locale=certificate.locale,
    )
    with force_locale(certificate.locale):
        return render_certificate(content, translate=lambda message: _(message))


def cohort_certificates(cohort: Cohort) -> list[Certificate]:
    return list(
        db_session.scalars(
            select(Certificate)
            .join(Enrollment, Certificate.enrollment_id == Enrollment.id)
            .where(Enrollment.cohort_id == cohort.id, Certificate.revoked_at.is_(None))
            .order_by(Certificate.learner_name, Certificate.id)
        )
    )


@dataclass
class Verification:
    certificate: Certificate
    state: str  # "valid", "revoked" or "replaced"
    replacement: Certificate | None = None


def verify(code: str) -> Verification | None:
    certificate = find_certificate(code)
    if certificate is None:
        return None
    if certificate.revoked_at is None:
        return Verification(certificate, "valid")
    if certificate.replaced_by_id is not None:
        replacement = db_session.get(Certificate, certificate.replaced_by_id)
        return Verification(certificate, "replaced", replacement)
    return Verification(certificate, "revoked")
