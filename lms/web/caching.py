"""The request side of the caches (``lms.caching``): the parts of pages a worker keeps
between requests (``kept``), and the HTTP validators that let a browser or a shared cache keep a
public page (``public_page_validators``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, request, session
from flask_login import current_user

from lms.i18n import current_locale
from lms.state import lms_state
from lms.web.context import select_timezone, served_at

V = TypeVar("V")


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
    state = lms_state()
    full_key = (*key, state.catalog.generation, current_locale(), select_timezone(), served_at())
    return state.page_cache.kept(kind, full_key, build, versions=versions, until=until)


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
