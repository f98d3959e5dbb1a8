"""Credentials: the learner's page and download, the public issuer documents, the checker."""

from __future__ import annotations

import json

import segno
from flask import Response, abort, current_app, render_template, send_from_directory
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import select
from wtforms import EmailField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from lms.certificates import services as certificates
from lms.credentials import checking, proofs, services
from lms.credentials.models import Credential, StatusList
from lms.db import db_session
from lms.i18n import _, _l
from lms.links import external_url
from lms.routing import AreaBlueprint
from lms.security import rate_limit, unindexed, verify_rate_limit

blueprint = AreaBlueprint("lms_credentials", __name__)

JSON_LD = "application/ld+json"
MAX_UPLOAD = 256 * 1024  # a credential is a few kilobytes
_SHARE_SALT = "lms-credential-share"


@blueprint.record_once
def _listen_to_certificates(state) -> None:  # type: ignore[no-untyped-def]
    services.connect_signals(state.app)


@blueprint.app_template_global()
def credential_for_certificate(certificate) -> Credential | None:  # type: ignore[no-untyped-def]
    return services.credential_of(certificate)


def _json(
    document: str | dict,
    *,
    max_age: int = 300,
    download: str | None = None,
    mimetype: str = JSON_LD,
) -> Response:
    body = (
        document
        if isinstance(document, str)
        else json.dumps(document, ensure_ascii=False, indent=2)
    )
    response = Response(body, mimetype=mimetype)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{download}"'
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
        response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers in browsers read these
    return response


# -- public documents (stable URLs under the mount point) ---------------------------------------


@blueprint.get("/credentials/issuer/did.json")
def did_document():
    return _json(services.did_document(), mimetype="application/did+ld+json")


@blueprint.get("/credentials/issuer.json")
def issuer():
    return _json({"@context": [proofs.VC_V2, proofs.OB_V3], **services.issuer_profile()})


@blueprint.get("/credentials/contexts/<name>")
def context(name: str):
    if name not in proofs.CONTEXTS.values():
        abort(404)
    response = send_from_directory(proofs.CONTEXTS_DIR, name, mimetype=JSON_LD, max_age=86400)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/credentials/status/<lms_id:list_number>")
def status_list(list_number: int):
    row = db_session.get(StatusList, list_number)
    if row is None or not row.document:
        abort(404)
    # Short: a revocation reaches verifiers that cache the list within a minute.
    return _json(row.document, max_age=60)


# -- the learner's credential -------------------------------------------------------------------


def _certificate_or_404(code: str):
    certificate = certificates.find_certificate(code)
    if certificate is None or not certificates.can_download(current_user, certificate):
        abort(404)
    return certificate


def _share_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SHARE_SALT)


def share_url(credential: Credential) -> str:
    return external_url(
        "lms_credentials.shared_credential", token=_share_serializer().dumps(credential.uuid)
    )


@blueprint.get("/certificates/<code>/credential")
@login_required
def credential_page(code: str):
    certificate = _certificate_or_404(code)
    credential = services.credential_of(certificate)
    if credential is None and certificate.revoked_at is None:
        # A certificate issued before credentials existed gets its credential on first view.
        credential = services.ensure_credential(certificate)
    link = qr = None
    if credential is not None and credential.is_signed and certificate.revoked_at is None:
        link = share_url(credential)
        qr = Markup(
            segno.make(link, error="m").svg_inline(
                scale=4, dark="#000", light="#fff", title=_("QR code of the link for wallets")
            )
        )
    days = current_app.config["LMS_CREDENTIAL_LINK_MAX_AGE"] // 86400
    response = Response(
        render_template(
            "lms/credentials/credential.html",
            certificate=certificate,
            credential=credential,
            share_link=link,
            qr=qr,
            link_days=days,
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.get("/certificates/<code>/credential.json")
@login_required
def credential_json(code: str):
    certificate = _certificate_or_404(code)
    credential = services.credential_of(certificate)
    if credential is None or not credential.is_signed:
        abort(404)
    return _json(credential.document, download=f"credential-{certificate.code}.json")


@blueprint.get("/credentials/shared/<token>.json")
def shared_credential(token: str):
    """The link a wallet fetches: whoever holds it gets the file, for a limited time."""
    try:
        credential_uuid = _share_serializer().loads(
            token[:500], max_age=current_app.config["LMS_CREDENTIAL_LINK_MAX_AGE"]
        )
    except BadSignature:
        abort(404)
    credential = db_session.scalar(
        select(Credential).where(Credential.uuid == str(credential_uuid))
    )
    if (
        credential is None
        or not credential.is_signed
        or credential.certificate.revoked_at is not None
    ):
        abort(404)
    return unindexed(
        _json(credential.document, download=f"credential-{credential.certificate.code}.json")
    )


# -- checking a credential ----------------------------------------------------------------------


class CheckForm(FlaskForm):
    credential = TextAreaField(
        _l("Paste the credential"),
        validators=[Optional(), Length(max=MAX_UPLOAD)],
        description=_l("The contents of the .json file, starting with {."),
        render_kw={"rows": 8, "spellcheck": "false"},
    )
    upload = FileField(
        _l("Or choose the file"),
        description=_l("A .json credential file, at most 256 KB."),
        render_kw={"accept": ".json,application/json,application/ld+json"},
    )
    email = EmailField(
        _l("Email address (optional)"),
        validators=[Optional(), Length(max=320)],
        description=_l("To check that the credential belongs to this address. It is not stored."),
    )
    submit = SubmitField(_l("Check the credential"))


@blueprint.route("/credentials/verify", methods=["GET", "POST"])
@rate_limit(verify_rate_limit, methods=["POST"])
def check():
    form = CheckForm()
    result = None
    status = 200
    if form.validate_on_submit():
        text = form.credential.data or ""
        upload = form.upload.data
        if upload is not None and getattr(upload, "filename", ""):
            raw = upload.read(MAX_UPLOAD + 1)
            if len(raw) > MAX_UPLOAD:
                form.upload.errors = [_("The file is larger than 256 KB: it is not a credential.")]
            else:
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    form.upload.errors = [
                        _("The file is not text (UTF-8): it is not a credential.")
                    ]
        if not (form.upload.errors or text.strip()):
            form.credential.errors = [_("Paste a credential or choose its file.")]
        if not (form.upload.errors or form.credential.errors):
            result = checking.check_credential(text, form.email.data or "")
    if any(field.errors for field in form):
        status = 422
    return render_template("lms/credentials/check.html", form=form, result=result), status
