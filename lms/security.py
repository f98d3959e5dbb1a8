"""Rate limits, bounded ids in URLs and security headers for the engine's pages.

Every app the engine is registered on gets a Flask-Limiter ``Limiter`` of its own (two apps in
one process count separately). A view declares its limits with :func:`rate_limit`, which only
marks the function; :func:`apply_rate_limits` puts them on the app's view functions with that
app's limiter, through the limiter's public decorator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from lms.db import MAX_ID
from lms.web.context import is_lms_request

F = TypeVar("F", bound=Callable[..., Any])

# Where the limits a view declares are kept, on the view function itself (not in the process).
_DECLARED = "lms_rate_limits"
LIMITER_KEY = "lms_limiter"
# Flask-Limiter's settings that put a limit on every request, not only on the declared views.
LIMITS_ON_EVERY_REQUEST = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")

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
SECURITY_HEADERS_HTTPS = (
    *SECURITY_HEADERS,
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
)


def login_rate_limit() -> str:
    return current_app.config["LMS_LOGIN_RATE_LIMIT"]


def login_account_rate_limit() -> str:
    return current_app.config["LMS_LOGIN_ACCOUNT_RATE_LIMIT"]


def verify_rate_limit() -> str:
    """The limit of the public checks of a code (certificates, transcripts, credentials)."""
    return current_app.config["LMS_VERIFY_RATE_LIMIT"]


def unindexed(response: Response) -> Response:
    """Ask search engines not to index the page: a verification page or a shared credential
    names a person, for whoever was given its link or code, not for a search."""
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def login_account_key() -> str:
    """The account a sign-in names, whatever address it comes from (the email, hashed: no
    address is written to the limits' storage). Unknown addresses count alike, so the limit
    tells nobody whether an account exists."""
    email = (request.form.get("email") or "").strip().lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()


def failed_sign_in(response: Any) -> bool:
    """A sign-in that did not succeed: the form came back refused (422). Only those count
    towards the account's limit, so its owner signing in does not use it up."""
    return response.status_code == 422


def rate_limit(limit_value: str | Callable[[], str], **options: Any) -> Callable[[F], F]:
    """Declare a rate limit on a view: ``Limiter.limit``'s arguments, applied per app."""

    def mark(view: F) -> F:
        declared = view.__dict__.setdefault(_DECLARED, [])
        declared.insert(0, (limit_value, options))  # decorators apply bottom-up: keep reading order
        return view

    return mark


def storage_uri(config: Any) -> str:
    """Where the limits are counted: the setting, else the app's Redis, else this process."""
    return config.get("LMS_RATELIMIT_STORAGE_URI") or config.get("LMS_REDIS_URL") or "memory://"


class RowIdConverter(IntegerConverter):
    """``<lms_id:name>``: a row id in a URL, at most ``MAX_ID``. A larger number matches no route
    (404) instead of reaching the database, where no INTEGER column could hold it."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(map)

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            # Not a ValidationError ("try the next rule"): where one path has a rule for GET and
            # another for POST, Werkzeug would then answer 405 for the method whose rule refused.
            raise NotFound()
        return number


ROUTE_CONVERTERS = {"lms_id": RowIdConverter}


def init_security(app: Flask) -> None:
    # Before any blueprint is registered: a rule's converters are looked up when it is added.
    for name, converter in ROUTE_CONVERTERS.items():
        if app.url_map.converters.setdefault(name, converter) is not converter:
            raise RuntimeError(f"The app already has a URL converter named {name!r}.")
    # Flask-Limiter reads its own keys; a host's RATELIMIT_STORAGE_URI wins over the engine's.
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter = Limiter(key_func=get_remote_address, default_limits=[])
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    app.after_request(_security_headers)


def limiter_of(app: Flask | None = None) -> Limiter:
    """The engine's limiter on ``app`` (default: the current app)."""
    return (app or current_app).extensions[LIMITER_KEY]


def apply_rate_limits(app: Flask) -> None:
    """Put the limits the engine's views declare (``rate_limit``) on ``app``'s view functions.

    Called once the blueprints are registered. The app's ``view_functions`` get the limiter's
    wrappers; the module-level functions, which other apps may also serve, stay as they are.
    """
    limiter = limiter_of(app)
    limited_endpoints: set[str] = set()
    for endpoint, view in list(app.view_functions.items()):
        declared = getattr(view, _DECLARED, None)
        if not declared:
            continue
        limited = view
        for limit_value, options in reversed(declared):
            limited = limiter.limit(limit_value, **options)(limited)
        app.view_functions[endpoint] = limited
        limited_endpoints.add(endpoint)
    if any(app.config.get(name) for name in LIMITS_ON_EVERY_REQUEST):
        return  # the host limits every request: each goes through the limiter's check
    limited_endpoints = frozenset(limited_endpoints)

    # Without default or application limits only the declared views have a limit to count, yet
    # the limiter would resolve the (empty) limits of every other request too; its public
    # request filter lets those pass untouched, so a page pays nothing for the sign-in's limits.
    @limiter.request_filter
    def _no_limit_declared() -> bool:
        return request.endpoint not in limited_endpoints


def _security_headers(response: Any) -> Any:
    if not is_lms_request():
        return response
    headers = response.headers
    # Whatever a view or the host set already stays; one pass over the response's few headers
    # rather than a lookup per header, since this runs on every page.
    present = {name.lower() for name in headers.keys()}
    wanted = (
        SECURITY_HEADERS_HTTPS
        if current_app.config.get("SESSION_COOKIE_SECURE")
        else SECURITY_HEADERS
    )
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    return response
