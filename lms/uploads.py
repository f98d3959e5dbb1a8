"""Upload forms answer a file that is too large on their own page, with the limit and the form.

A body larger than ``MAX_CONTENT_LENGTH`` is refused by Werkzeug while the request is parsed
(often by the CSRF check, before the view runs), with a 413. The engine's 413 page asks the view
that was to receive the upload for its own answer: a view marked with :func:`answers_too_large`
gives a callable that renders its form with the limit stated (after the same access checks as
the view itself), or None to fall back to the general page. The mark is kept on the view
function, so it belongs to the app that registered the view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "lms_answer_too_large"


def answers_too_large(answer: Callable[..., Any]) -> Callable[[F], F]:
    """Mark an upload view: ``answer(**view_args)`` renders its form for a too-large upload, or returns None."""

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, answer)
        return view

    return mark


def too_large_answer() -> Any:
    """The upload form's own answer to this too-large request, or None."""
    if request.method != "POST" or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    answer = getattr(view, ATTRIBUTE, None)
    return answer(**(request.view_args or {})) if answer is not None else None


def upload_limit(own_limit: int) -> int:
    """The largest file an upload form takes: its own limit, or the whole request's if that is lower."""
    request_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(own_limit, request_limit) if request_limit else own_limit
