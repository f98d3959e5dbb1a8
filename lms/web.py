"""What every page of the engine shares: template globals, access checks, error pages."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    has_request_context,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException

from lms.db import rollback_if_open
from lms.i18n import LANGUAGE_NAMES, N_, current_locale, domain, template_translations
from lms.state import lms_state

F = TypeVar("F", bound=Callable[..., Any])
V = TypeVar("V")


def template_globals() -> dict[str, Any]:
    locale = current_locale()
    return {
        **template_translations(),
        "current_locale": locale,
        "language_names": {
            code: LANGUAGE_NAMES.get(code, code) for code in current_app.config["LMS_LANGUAGES"]
        },
        "site_name": current_app.config["LMS_SITE_NAME"],
        "organisation": current_app.config["LMS_ORGANISATION"],
        # Lets shared templates link to an area's page only where that page exists.
        "url_endpoints": current_app.view_functions,
        "site_links": site_links(),
        # The person itself rather than Flask-Login's proxy, which looks them up again on each
        # of the dozen reads a page makes (anonymous visitors get Flask-Login's anonymous user).
        "current_user": current_user._get_current_object(),
        "csrf_token": generate_csrf,
    }


# What every page's header and footer link to, by name. The same on every page (for one host
# and mount point), so a worker builds them once instead of a dozen url_for calls a page.
SITE_LINKS = {
    "stylesheet": ("lms.static", {"filename": "lms/app.css"}),
    "script": ("lms.static", {"filename": "lms/base.js"}),
    "catalog": ("lms_courses.catalog", {}),
    "dashboard": ("lms_learning.dashboard", {}),
    "facilitate": ("lms_cohorts.facilitate", {}),
    "admin": ("lms_admin.index", {}),
    "language": ("lms_courses.switch_language", {}),
    "sign_in": ("lms_accounts.login", {}),
    "sign_out": ("lms_accounts.logout", {}),
    "register": ("lms_accounts.register", {}),
}


def site_links() -> dict[str, str]:
    """The addresses of ``SITE_LINKS``; an area the app did not register has no entry."""

    def build() -> dict[str, str]:
        endpoints = current_app.view_functions
        return {
            name: url_for(endpoint, **values)
            for name, (endpoint, values) in SITE_LINKS.items()
            if endpoint in endpoints
        }

    return lms_state().cache("site-links").get(served_at(), build)


def kept(
    kind: str,
    key: tuple[Any, ...],
    build: Callable[[], V],
    *,
    versions: Iterable[str] = (),
    until: Callable[[V], datetime | None] | None = None,
) -> V:
    """A part of a page this worker keeps between requests (``lms.caching``).

    ``versions`` name what the database holds that the part shows (``caching.person(id)``,
    ``caching.course(slug)``): their tokens are read before ``build`` reads the records. What
    every kept part also depends on is added here: the catalog's generation, the locale, the
    time zone and where the app is served from.
    """
    from lms.extension import select_timezone

    state = lms_state()
    full_key = (*key, state.catalog.generation, current_locale(), select_timezone(), served_at())
    return state.page_cache.kept(kind, full_key, build, versions=versions, until=until)


def served_at() -> tuple[str, str] | None:
    """Where this request reached the app (host, mount point): the links in kept HTML depend on it."""
    return (request.host, request.script_root) if has_request_context() else None


# Pages every signed-out visitor sees alike, whose answer a browser or a shared cache in front
# of the servers (docs/deployment.md) may keep and revalidate by their ETag.
PUBLIC_PAGES = frozenset(
    {
        "lms_courses.catalog",
        "lms_courses.course",
        "lms_cohorts.cohort",
        "lms_cohorts.cohort_ics",
        "lms_certificates.verify",
    }
)


def public_page_validators(response: Any) -> Any:
    """HTTP validators for a public page answered to a signed-out visitor: an ETag of the
    body, a 304 Not Modified when the request's If-None-Match still matches it, and
    Cache-Control that lets a shared cache keep it (``LMS_PUBLIC_PAGE_MAX_AGE`` seconds without
    asking; 0: it asks each time). The page still changes with the visitor's cookie (their
    language, a message shown once) and their Accept-Language, so both are in Vary; an answer
    that sets a cookie is never marked public.
    """
    if (
        request.endpoint not in PUBLIC_PAGES
        or request.method not in ("GET", "HEAD")
        or response.status_code != 200
    ):
        return response
    if (
        current_user.is_authenticated
        or session.modified
        or "Set-Cookie" in response.headers
        or "Cache-Control" in response.headers
    ):
        return response
    if response.is_streamed or response.direct_passthrough:
        return response
    max_age = int(current_app.config["LMS_PUBLIC_PAGE_MAX_AGE"])
    response.cache_control.public = True
    if max_age > 0:
        response.cache_control.max_age = max_age
    else:
        response.cache_control.no_cache = True
    response.vary.update(("Cookie", "Accept-Language"))
    response.add_etag()
    return response.make_conditional(request)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow a view to signed-in users who have one of ``roles`` ("facilitator", "admin")."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not any(_has_role(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _has_role(role: str) -> bool:
    if role == "admin":
        return bool(current_user.is_admin)
    if role == "facilitator":
        return bool(current_user.can_facilitate)
    return role == "learner"


def safe_next_url(target: str | None, fallback: str) -> str:
    """Only a path on this site may follow a login: never another host (no open redirect)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return fallback
    return target


def register_input_checks(target: Flask | Any) -> None:
    target.before_request(refuse_nul_characters)


def refuse_nul_characters() -> Any:
    """Refuse a request that carries a NUL character in its path, query, form fields or JSON.

    No page needs one, and PostgreSQL can neither store nor compare text that holds one: left
    alone it would fail deep inside a query (a 500) instead of being refused with a message.
    """
    if not _carries_nul():
        return None
    message = domain.gettext(
        "What you sent contains a NUL character, an invisible control character that cannot be saved. Remove it and try again."
    )
    if _wants_json():
        return {"error": 400, "message": message}, 400
    title, _message = ERROR_MESSAGES[400]
    return render_template(
        "lms/error.html", code=400, title=domain.gettext(title), message=message
    ), 400


# The bodies Werkzeug parses into ``request.form`` and ``request.files``; for any other request,
# touching them would only build empty ones (on every page view).
_FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _carries_nul() -> bool:
    current = request._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup for every read below
    texts = [current.path]
    sources = [current.args] if current.query_string else []
    has_form = current.mimetype in _FORM_MIMETYPES
    if has_form:
        sources.append(current.form)
    for values in sources:
        for key, items in values.lists():
            texts.append(key)
            texts.extend(items)
    if has_form:
        texts.extend(upload.filename or "" for upload in current.files.values())
    if any(
        text and "\x00" in text for text in texts
    ):  # a malformed multipart part may have no name
        return True
    return current.is_json and _json_has_nul(request_json())


def _json_has_nul(value: Any) -> bool:
    pending = [
        value
    ]  # a loop, not recursion: the JSON may be nested nearly as deep as Python allows
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def request_json() -> Any:
    """The request's JSON body; None when there is none or it cannot be read.

    ``get_json(silent=True)`` is silent about malformed JSON but not about JSON nested deeper
    than Python's recursion limit (``[[[[...]]]]``), which would otherwise end in a 500.
    """
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def register_error_pages(target: Flask | Any) -> None:
    for code in (400, 403, 404, 405, 413, 429):
        target.register_error_handler(code, _http_error)
    target.register_error_handler(CSRFError, _csrf_error)
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
    if _wants_json():
        return {"error": code}, code
    if code == 413:
        from lms.uploads import too_large_answer

        answer = too_large_answer()  # an upload form answers on its own page, with the limit
        if answer is not None:
            return answer
    title, message = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    return render_template(
        "lms/error.html", code=code, title=domain.gettext(title), message=domain.gettext(message)
    ), code


def _csrf_error(error: CSRFError) -> Any:
    if _wants_json():
        return {"error": 400, "reason": "csrf"}, 400
    message = domain.gettext(
        "Your session expired or the form was sent twice. Go back, reload the page and try again; what you typed is still in your browser's back page."
    )
    return render_template(
        "lms/error.html", code=400, title=domain.gettext("Please try again"), message=message
    ), 400


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


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def url_for_next() -> str:
    return request.full_path if request.query_string else request.path


def home_url() -> str:
    return url_for("lms_courses.catalog")
