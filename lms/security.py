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


def login_rate_limit() -> str:
    return current_app.config["LMS_LOGIN_RATE_LIMIT"]


def init_security(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["LMS_RATELIMIT_STORAGE_URI"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    if "limiter" not in app.extensions or limiter not in app.extensions["limiter"]:
        limiter.init_app(app)
    app.after_request(_security_headers)


def _security_headers(response: Any) -> Any:
    from lms.extension import is_lms_request

    if not is_lms_request():
        return response
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
