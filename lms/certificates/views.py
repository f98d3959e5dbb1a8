"""Certificates: issue from the roster, PDF and ZIP downloads, admin revoke/reissue, public verification."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.certificates import eligibility, services
from lms.certificates.eligibility import CertificateError, NotEligibleError
from lms.certificates.jobs import (
    build_cohort_zip,
    download_name,
    issue_cohort_certificates,
    zip_path,
)
from lms.db import db_session, parse_id
from lms.downloads import content_disposition, name_part
from lms.forms import ActionForm
from lms.i18n import _, _l
from lms.jobs import Job, JobStatus, enqueue
from lms.jobs.services import latest_job
from lms.learning.models import Enrollment
from lms.routing import AreaBlueprint
from lms.security import rate_limit, unindexed, verify_rate_limit
from lms.web.guards import managed_cohort_or_404, roles_required

blueprint = AreaBlueprint("lms_certificates", __name__)


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Give a reason for revoking the certificate.")),
            Length(max=services.MAX_REASON),
        ],
        description=_l("Kept in the audit log; not shown on the public verification page."),
    )
    submit = SubmitField(_l("Revoke certificate"))


class ReissueAfterRevocationForm(FlaskForm):
    reason = TextAreaField(
        _l("Why a new certificate"),
        validators=[
            DataRequired(message=_l("Say why a new certificate is issued after the revocation.")),
            Length(max=services.MAX_REASON),
        ],
        description=_l(
            "Kept in the audit log with your name. The revoked certificate stays revoked."
        ),
    )
    submit = SubmitField(_l("Issue a new certificate"))


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False

    code = StringField(
        _l("Certificate code"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("The code printed under the QR code, for example K7QD-3MPX-W9TA-HF2C."),
    )
    submit = SubmitField(_l("Check"))


def _to_roster(cohort_id: int):
    return redirect(url_for("lms_cohorts.roster", cohort_id=cohort_id), code=303)


# -- issuing (facilitators of the cohort, admins) ---------------------------------------------


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/certificates")
@roles_required("facilitator")
def issue_cohort(cohort_id: int):
    """Issue to everyone who completed, as a job (a large cohort takes a while): its page
    follows the progress and then says who got one."""
    cohort = managed_cohort_or_404(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        eligibility.ensure_cohort_can_issue(cohort)
    except CertificateError as error:
        flash(str(error), "error")
        return _to_roster(cohort.id)
    row = enqueue(
        issue_cohort_certificates, cohort.id, current_user.id, _key=_cohort_key(cohort.id)
    )
    return redirect(
        url_for("lms_certificates.cohort_job", cohort_id=cohort.id, job_id=row.id, refresh=1),
        code=303,
    )


def _cohort_key(cohort_id: int) -> str:
    return f"cohort:{cohort_id}"


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/certificates/issue")
@roles_required("facilitator")
def issue_one(cohort_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    enrollment_id = parse_id(request.form.get("enrollment_id"))
    if enrollment_id is None:
        abort(400)
    enrollment = db_session.get(Enrollment, enrollment_id)
    # Someone else's enrollment (another cohort's, or a recording, which has no cohort) is
    # answered as if it did not exist: anything more would tell the id exists, and its path.
    if enrollment is None or enrollment.cohort_id != cohort.id:
        abort(404)
    try:
        eligibility.ensure_certifiable(enrollment)
    except NotEligibleError as error:
        flash(str(error), "error")
        return _to_roster(cohort.id)
    try:
        result = services.issue_certificate(enrollment, current_user)
    except CertificateError as error:
        flash(str(error), "error")
        return _to_roster(cohort.id)
    if result.created:
        flash(
            _(
                "Certificate %(code)s issued to %(name)s.",
                code=result.certificate.code,
                name=enrollment.user.display_name,
            ),
            "success",
        )
    else:
        flash(
            _(
                "%(name)s already has certificate %(code)s.",
                code=result.certificate.code,
                name=enrollment.user.display_name,
            ),
            "success",
        )
    return _to_roster(cohort.id)


# -- the cohort's ZIP, built by a job -----------------------------------------------------------


COHORT_JOBS = (build_cohort_zip, issue_cohort_certificates)


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>/certificates/zip")
@roles_required("facilitator")
def cohort_zip(cohort_id: int):
    """The cohort's ZIP: the latest one built (or being built), and a button to build it anew."""
    cohort = managed_cohort_or_404(cohort_id)
    latest = latest_job(build_cohort_zip, _cohort_key(cohort.id))
    return render_template(
        "lms/certificates/cohort_zip.html",
        cohort=cohort,
        latest=latest,
        ready=latest is not None and zip_path(latest.result) is not None,
        form=ActionForm(formdata=None),
    )


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/certificates/zip")
@roles_required("facilitator")
def build_zip(cohort_id: int):
    """Start building the ZIP, unless a build is already on its way: then follow that one."""
    cohort = managed_cohort_or_404(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    latest = latest_job(build_cohort_zip, _cohort_key(cohort.id))
    if latest is not None and latest.status in (JobStatus.queued, JobStatus.running):
        row = latest
    else:
        row = enqueue(build_cohort_zip, cohort.id, _key=_cohort_key(cohort.id))
    return redirect(
        url_for("lms_certificates.cohort_job", cohort_id=cohort.id, job_id=row.id, refresh=1),
        code=303,
    )


def _cohort_job_or_404(cohort, job_id: int):
    row = db_session.get(Job, job_id)
    if (
        row is None
        or row.key != _cohort_key(cohort.id)
        or row.name not in {function.lms_job.name for function in COHORT_JOBS}
    ):
        abort(404)
    return row


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>/certificates/jobs/<lms_id:job_id>")
@roles_required("facilitator")
def cohort_job(cohort_id: int, job_id: int):
    """How far a cohort's certificate job is; refreshed by the browser itself (no script) while
    it runs, if the person asked for that; then its outcome, or the download."""
    cohort = managed_cohort_or_404(cohort_id)
    row = _cohort_job_or_404(cohort, job_id)
    refresh = request.args.get("refresh") == "1" and not row.finished
    is_zip = row.name == build_cohort_zip.lms_job.name
    response = Response(
        render_template(
            "lms/certificates/cohort_job.html",
            cohort=cohort,
            job=row,
            is_zip=is_zip,
            refresh=refresh,
            ready=is_zip and zip_path(row.result) is not None,
            result=row.result if isinstance(row.result, dict) else {},
            form=ActionForm(formdata=None),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>/certificates/jobs/<lms_id:job_id>.zip")
@roles_required("facilitator")
def zip_file(cohort_id: int, job_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    row = _cohort_job_or_404(cohort, job_id)
    path = zip_path(row.result) if row.name == build_cohort_zip.lms_job.name else None
    if path is None:
        abort(404)
    response = send_file(path, mimetype="application/zip", max_age=0)
    title = name_part(cohort.title)
    response.headers["Content-Disposition"] = content_disposition(
        f"cohort-{cohort.id}{'-' + title if title else ''}-certificates.zip"
    )
    return response


# -- the PDF ----------------------------------------------------------------------------------


@blueprint.get("/certificates/<code>.pdf")
@login_required
def certificate_pdf(code: str):
    certificate = services.find_certificate(code)
    if certificate is None or not services.can_download(current_user, certificate):
        abort(404)
    response = Response(services.render_pdf(certificate), mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(
        download_name(certificate), inline=True
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- admin: revoke, reissue -------------------------------------------------------------------


def _certificate_or_404(code: str):
    certificate = services.find_certificate(code)
    if certificate is None:
        abort(404)
    return certificate


def _render_manage(certificate, *, form=None, reissue_form=None, status: int = 200):
    can_reissue = (
        certificate.revoked_at is not None
        and eligibility.valid_certificate(certificate.enrollment) is None
    )
    return render_template(
        "lms/certificates/manage.html",
        certificate=certificate,
        form=form or RevokeForm(formdata=None),
        action_form=ActionForm(formdata=None),
        verification=services.verify(certificate.code),
        reissue_form=(reissue_form or ReissueAfterRevocationForm(formdata=None))
        if can_reissue
        else None,
    ), status


@blueprint.get("/certificates/<code>/manage")
@roles_required("admin")
def manage(code: str):
    return _render_manage(_certificate_or_404(code))


@blueprint.post("/certificates/<code>/revoke")
@roles_required("admin")
def revoke(code: str):
    certificate = _certificate_or_404(code)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            services.revoke_certificate(certificate, current_user, form.reason.data)
        except CertificateError as error:
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            flash(_("Certificate %(code)s is revoked.", code=certificate.code), "success")
            return redirect(url_for("lms_certificates.manage", code=certificate.code), code=303)
    return _render_manage(certificate, form=form, status=422)


@blueprint.post("/certificates/<code>/reissue-after-revocation")
@roles_required("admin")
def reissue_after_revocation(code: str):
    certificate = _certificate_or_404(code)
    form = ReissueAfterRevocationForm()
    if form.validate_on_submit():
        try:
            new = services.reissue_after_revocation(certificate, current_user, form.reason.data)
        except CertificateError as error:
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            flash(
                _(
                    "Certificate %(new)s is issued after the revocation of %(old)s.",
                    old=certificate.code,
                    new=new.code,
                ),
                "success",
            )
            return redirect(url_for("lms_certificates.manage", code=new.code), code=303)
    return _render_manage(certificate, reissue_form=form, status=422)


@blueprint.post("/certificates/<code>/reissue")
@roles_required("admin")
def reissue(code: str):
    certificate = _certificate_or_404(code)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        new = services.reissue_certificate(certificate, current_user)
    except CertificateError as error:
        flash(str(error), "error")
        return redirect(url_for("lms_certificates.manage", code=certificate.code), code=303)
    flash(
        _("Certificate %(old)s is replaced by %(new)s.", old=certificate.code, new=new.code),
        "success",
    )
    return redirect(url_for("lms_certificates.manage", code=new.code), code=303)


# -- public verification ----------------------------------------------------------------------


@blueprint.get("/verify")
@rate_limit(verify_rate_limit)
def verify_form():
    form = VerifyForm(request.args)
    if request.args and form.validate():
        canonical = services.normalise_code(form.code.data)
        if canonical is not None:
            return redirect(url_for("lms_certificates.verify", code=canonical), code=303)
        form.code.errors = [
            *form.code.errors,
            _("That is not a certificate code: it has 16 letters and digits."),
        ]
    return render_template(
        "lms/certificates/verify_form.html", form=form
    ), 200 if not form.errors else 422


@blueprint.get("/verify/<code>")
@rate_limit(verify_rate_limit)
def verify(code: str):
    verification = services.verify(code)
    if verification is None:
        return render_template(
            "lms/certificates/verify_unknown.html",
            form=VerifyForm(formdata=None),
            code=code[: services.MAX_TYPED_CODE],
        ), 404
    canonical = verification.certificate.code
    if code != canonical:
        return redirect(url_for("lms_certificates.verify", code=canonical), code=301)
    return unindexed(
        Response(
            render_template(
                "lms/certificates/verify.html",
                verification=verification,
                certificate=verification.certificate,
            )
        )
    )
