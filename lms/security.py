"""Rate limits and security headers for the engine's pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Storage comes from the app config (RATELIMIT_STORAGE_URI, default LMS_RATELIMIT_STORAGE_URI):
# a constructor argument would override it.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' https:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'; object-src 'none'"
)

SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
SECURITY_HEADERS_HTTPS = (*SECURITY_HEADERS, ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))


def login_rate_limit() -> str:
    return current_app.config["LMS_LOGIN_RATE_LIMIT"]


def init_security(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["LMS_RATELIMIT_STORAGE_URI"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    if "limiter" not in app.extensions or limiter not in app.extensions["limiter"]:
        limiter.init_app(app)
        if not _limits_every_request(app):
            # Every limit of the engine sits on its view, whose decorator checks it. The limiter's
            # own before-request check would only look for limits on every other page too (a
            # tenth of a page's time), so it goes, unless the app sets limits for every request.
            checks = app.before_request_funcs.get(None, [])
            check = getattr(limiter, "_check_request_limit", None)  # its name in Flask-Limiter 4
            if check in checks:
                checks.remove(check)
    app.after_request(_security_headers)


def _limits_every_request(app: Flask) -> bool:
    """Whether the app sets default, application-wide or meta limits (Flask-Limiter's settings;
    the engine's limiter is built without any)."""
    return any(app.config.get(key) for key in ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META"))


def _security_headers(response: Any) -> Any:
    from lms.extension import is_lms_request

    if not is_lms_request():
        return response
    headers = response.headers
    # Whatever a view or the host set already stays; one pass over the response's few headers
    # rather than a lookup per header, since this runs on every page.
    present = {name.lower() for name in headers.keys()}
    wanted = SECURITY_HEADERS_HTTPS if current_app.config.get("SESSION_COOKIE_SECURE") else SECURITY_HEADERS
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    return response
