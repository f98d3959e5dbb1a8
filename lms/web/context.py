"""Whom and where a request is for: the signed-in person, their language and time zone,
whether the request is one of the engine's pages, and where it reached the app."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context, request, session
from flask_login import current_user

from lms.state import lms_state


def is_lms_request() -> bool:
    if lms_state().standalone:
        return True
    return bool(request.blueprint) and request.blueprint.split(".")[0].startswith("lms")


def select_locale() -> str | None:
    languages = current_app.config["LMS_LANGUAGES"]
    if "_lms_locale" in g:  # set by code that renders for someone else (a learner's certificate)
        return g._lms_locale
    if not has_request_context():
        return current_app.config["LMS_DEFAULT_LOCALE"]
    person = signed_in_person()
    if person is not None and person.locale in languages:
        return person.locale
    chosen = session.get("lms_locale")
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["LMS_DEFAULT_LOCALE"]
    )


def select_timezone() -> str | None:
    if not has_request_context():
        return current_app.config["LMS_DEFAULT_TIMEZONE"]
    person = signed_in_person()
    if person is not None:
        return person.time_zone
    return session.get("lms_time_zone") or current_app.config["LMS_DEFAULT_TIMEZONE"]


def signed_in_person() -> Any:
    """The signed-in person (a User), or None. ``current_user`` is a proxy that looks the person
    up again on every attribute read: code that reads several of them takes the person once."""
    person = current_user._get_current_object()
    return person if person is not None and person.is_authenticated else None


def served_at() -> tuple[str, str] | None:
    """Where this request reached the app (host, mount point): the links in kept HTML depend on it."""
    return (request.host, request.script_root) if has_request_context() else None
