"""The request side of the caches (``lms.caching``): the parts of pages a worker keeps
between requests (``kept``), and the HTTP validators that let a browser or a shared cache keep a
public page (``public_page_validators``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, get_flashed_messages, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from lms import caching
from lms.i18n import current_locale
from lms.state import lms_state
from lms.web.context import select_timezone, served_at, signed_in_person

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
    return state.page_cache.kept(kind, _full_key(key), build, versions=versions, until=until)


def kept_page(
    kind: str, key: tuple[Any, ...], render: Callable[[], str], *, versions: Iterable[str] = ()
) -> str:
    """A whole page, header and all, that this worker keeps between requests: ``render()``
    builds it from parts that are themselves kept (``kept``); ``versions`` names what it shows
    beyond them.

    Served while every part's version still has the token it was built under, until the first
    part stops being true; not kept at all when a part could not be kept or is read for each
    request (``caching.built_for_this_request_only``). What differs
    between two requests of one visitor is left out: a page that shows a message once (a flash)
    is built for its request alone, and a signed-in page keeps a hole where its CSRF token was,
    filled with the request's own token each time it is served. A signed-in page is the
    person's own: kept under their id and version, which every write to their account, roles or
    records bumps. A page for signed-out visitors, shared by all of them, holds no token at all.
    """
    if get_flashed_messages():
        return render()  # the page that shows a message once is this request's alone
    state = lms_state()
    key = (*key, request.full_path)  # the language switch returns to the page's own address
    person = signed_in_person()
    if person is None:
        return state.page_cache.kept_whole(
            kind, _full_key((*key, None)), lambda: _without_token(render()), versions=versions
        )
    token = generate_csrf()
    hole = state.page_cache.token_hole
    page = state.page_cache.kept_whole(
        kind,
        _full_key((*key, person.id)),
        lambda: render().replace(token, hole),
        versions=[*versions, caching.person(person.id)],
    )
    return page.replace(hole, token)


def _without_token(page: str) -> str:
    # Signed out, the engine's pages carry no form token (it would set a cookie on a first
    # visit); one that does all the same must not be shared with other visitors.
    if 'name="csrf_token"' in page or "data-csrf-token" in page:
        caching.built_for_this_request_only()
    return page


def _full_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """What every kept part depends on beyond its own key: the catalog's generation, the locale,
    the time zone and where the app is served from."""
    return (*key, lms_state().catalog.generation, current_locale(), select_timezone(), served_at())


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
    # Written as whole header values: no view sets either on these pages, and parsing them into
    # Werkzeug's header objects to add two words cost more than the rest of a kept page.
    response.headers["Cache-Control"] = (
        f"public, max-age={max_age}" if max_age > 0 else "public, no-cache"
    )
    if "Vary" in response.headers:
        response.vary.update(("Cookie", "Accept-Language"))
    else:
        response.headers["Vary"] = "Cookie, Accept-Language"
    response.add_etag()
    return response.make_conditional(request)
