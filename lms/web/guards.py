"""Who may open a page and what a request may carry: the role guard, the cohort a facilitator's
page is about, the check of a redirect target, the refusal of NUL characters and the reading of
a JSON body."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, render_template, request
from flask_login import current_user

from lms.cohorts.models import Cohort
from lms.cohorts.services import managed_cohort
from lms.i18n import domain
from lms.web.errors import ERROR_MESSAGES, wants_json

F = TypeVar("F", bound=Callable[..., Any])


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


def managed_cohort_or_404(cohort_id: int) -> Cohort:
    """The cohort of a facilitator's page (roster, certificates, mail, evaluation), if the
    signed-in person manages it; otherwise a 404, which tells nobody whether it exists."""
    cohort = managed_cohort(current_user, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


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
        "What you sent contains a NUL character, an invisible control character that cannot be "
        "saved. Remove it and try again."
    )
    if wants_json():
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
