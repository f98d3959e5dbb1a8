"""The engine's error pages (HTML, or JSON for a client that asked for it)."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lms.db import rollback_if_open
from lms.i18n import N_, domain
from lms.links import BaseURLMissing
from lms.uploads import too_large_answer


def register_error_pages(target: Flask | Any) -> None:
    for code in (400, 403, 404, 405, 413, 429):
        target.register_error_handler(code, _http_error)
    target.register_error_handler(CSRFError, _csrf_error)
    target.register_error_handler(BaseURLMissing, _base_url_missing)
    target.register_error_handler(500, _server_error)


ERROR_MESSAGES = {
    400: (
        N_("Bad request"),
        N_("The request could not be understood. Please check what you sent and try again."),
    ),
    403: (N_("Not allowed"), N_("You do not have permission to open this page.")),
    404: (
        N_("Page not found"),
        N_("We could not find that page. It may have moved or been removed."),
    ),
    405: (N_("Not allowed"), N_("This page cannot be used that way.")),
    413: (N_("Too large"), N_("What you sent is larger than we accept.")),
    429: (N_("Too many attempts"), N_("Please wait a little before you try again.")),
    500: (
        N_("Something went wrong"),
        N_("We could not finish that. Nothing was saved; please try again."),
    ),
}


def _http_error(error: HTTPException) -> Any:
    code = error.code or 500
    if wants_json():
        return {"error": code}, code
    if code == 413:
        answer = too_large_answer()  # an upload form answers on its own page, with the limit
        if answer is not None:
            return answer
    title, message = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    return render_template(
        "lms/error.html", code=code, title=domain.gettext(title), message=domain.gettext(message)
    ), code


def _csrf_error(error: CSRFError) -> Any:
    if wants_json():
        return {"error": 400, "reason": "csrf"}, 400
    message = domain.gettext(
        "Your session expired or the form was sent twice. Go back, reload the page and try again; "
        "what you typed is still in your browser's back page."
    )
    return render_template(
        "lms/error.html", code=400, title=domain.gettext("Please try again"), message=message
    ), 400


def _base_url_missing(error: BaseURLMissing) -> Any:
    """A page that needs an absolute link (a certificate's QR code, a calendar file) on a site
    whose address is not configured: a 503 that says what to do, not the generic failure."""
    rollback_if_open()
    if wants_json():
        return {"error": 503, "reason": "base-url"}, 503
    message = domain.gettext(
        "This needs the site's own address, which is not configured yet. Please tell the site's "
        "administrator (the setting is LMS_BASE_URL)."
    )
    return render_template(
        "lms/error.html", code=503, title=domain.gettext("Not available yet"), message=message
    ), 503


def _server_error(error: Exception) -> Any:
    code = 500
    title, message = ERROR_MESSAGES[code]
    # A failed flush leaves the session unusable until it is rolled back, and this page needs it
    # (the signed-in person's language and name); nothing of a failed request is kept anyway.
    rollback_if_open()
    try:
        return render_template(
            "lms/error.html",
            code=code,
            title=domain.gettext(title),
            message=domain.gettext(message),
        ), code
    except Exception:  # the error page itself must never fail
        return domain.gettext(message), code


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"
