"""Certificate work too long for a request, as jobs (``lms.jobs``): a cohort's certificates
issued at once, and the ZIP of a cohort's certificates (a thousand PDFs take minutes).

Both take ids, report progress, and can run again safely: issuing is idempotent, and a ZIP is
written to a temporary file and moved into place only when complete.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from lms.accounts.models import User
from lms.certificates.eligibility import CertificateError, NotEligibleError, ensure_cohort_can_issue
from lms.certificates.services import cohort_certificates, issue_certificate, render_pdf
from lms.cohorts.models import Cohort
from lms.db import db_session
from lms.downloads import name_part
from lms.jobs import job, report_progress
from lms.learning.models import Enrollment, EnrollmentStatus

# Enrollments issued per commit: a bulk issue never holds many enrollment locks for long.
ISSUE_BATCH = 50


def exports_dir() -> Path:
    """Where jobs leave files for download (``LMS_EXPORTS_DIR``, else ``instance/exports``)."""
    folder = Path(
        current_app.config.get("LMS_EXPORTS_DIR") or Path(current_app.instance_path) / "exports"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def download_name(certificate: Any) -> str:
    name = name_part(certificate.learner_name)
    return f"certificate-{certificate.code}{'-' + name if name else ''}.pdf"


@job(max_attempts=3, timeout=3600)
def build_cohort_zip(cohort_id: int) -> dict[str, Any] | None:
    """Every valid certificate of the cohort in one ZIP file; returns its file name and count."""
    cohort = db_session.get(Cohort, cohort_id)
    if cohort is None:
        return None
    certificates = cohort_certificates(cohort)
    total = len(certificates)
    report_progress(0, total)
    step = max(1, total // 100)
    folder = exports_dir()
    name = f"cohort-{cohort_id}-certificates-{secrets.token_hex(8)}.zip"
    descriptor, partial = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=".zip")
    try:
        with (
            os.fdopen(descriptor, "wb") as file,
            zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            for done, certificate in enumerate(certificates, start=1):
                archive.writestr(download_name(certificate), render_pdf(certificate))
                if done % step == 0 or done == total:
                    report_progress(done, total)
        os.replace(partial, folder / name)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    # Only the newest ZIP of a cohort is kept: the earlier ones' pages say so and offer a new build.
    for older in folder.glob(f"cohort-{cohort_id}-certificates-*.zip"):
        if older.name != name:
            older.unlink(missing_ok=True)
    return {"file": name, "count": total}


def zip_path(result: Any) -> Path | None:
    """The finished ZIP a ``build_cohort_zip`` result names, if it is still there."""
    if not isinstance(result, dict) or not isinstance(result.get("file"), str):
        return None
    name = result["file"]
    if not re.fullmatch(r"cohort-\d+-certificates-[0-9a-f]{16}\.zip", name):
        return None
    path = exports_dir() / name
    return path if path.is_file() else None


@job(max_attempts=3, timeout=3600)
def issue_cohort_certificates(cohort_id: int, actor_id: int | None) -> dict[str, Any] | None:
    """Certificates for everyone in the cohort who completed, ``ISSUE_BATCH`` enrollments per
    commit; the result counts them and says, in the issuer's language, why the others got none."""
    cohort = db_session.get(Cohort, cohort_id)
    if cohort is None:
        return None
    actor = db_session.get(User, actor_id) if actor_id is not None else None
    locale = actor.locale if actor is not None else current_app.config["LMS_DEFAULT_LOCALE"]
    ids = list(
        db_session.scalars(
            select(Enrollment.id)
            .where(
                Enrollment.cohort_id == cohort_id,
                Enrollment.status.in_(
                    (
                        EnrollmentStatus.registered,
                        EnrollmentStatus.in_progress,
                        EnrollmentStatus.completed,
                    )
                ),
            )
            .order_by(Enrollment.id)
        )
    )
    issued: list[str] = []
    existing: list[str] = []
    not_eligible: list[dict[str, str]] = []
    report_progress(0, len(ids))
    with force_locale(locale):
        cohort_problem = _cohort_problem(cohort)
        if cohort_problem:
            return {"issued": [], "existing": [], "not_eligible": [], "error": cohort_problem}
        for start in range(0, len(ids), ISSUE_BATCH):
            for enrollment_id in ids[start : start + ISSUE_BATCH]:
                enrollment = db_session.get(Enrollment, enrollment_id)
                if enrollment is None:
                    continue
                try:
                    result = issue_certificate(enrollment, actor)
                except NotEligibleError as error:
                    not_eligible.append(
                        {"name": enrollment.user.display_name, "reason": str(error)}
                    )
                    continue
                except CertificateError as error:
                    not_eligible.append(
                        {"name": enrollment.user.display_name, "reason": str(error)}
                    )
                    continue
                (issued if result.created else existing).append(result.certificate.code)
            # Issuing is idempotent: a batch committed here is found, not made twice, on a retry.
            db_session.commit()
            report_progress(min(start + ISSUE_BATCH, len(ids)), len(ids))
    return {"issued": issued, "existing": existing, "not_eligible": not_eligible}


def _cohort_problem(cohort: Cohort) -> str:
    try:
        ensure_cohort_can_issue(cohort)
    except CertificateError as error:
        return str(error)
    return ""
