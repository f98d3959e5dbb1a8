"""Every page without a parameter in its URL, as the public and as an admin: no server error
and no WCAG A/AA violation. Pages that land later are picked up from the app's URL map."""

from __future__ import annotations

import re

import pytest

from tests.helpers.e2e.flows import sign_in, switch_language
from tests.helpers.e2e.pages import check_page

pytestmark = pytest.mark.e2e

# Files, not pages: exports, calendars, PDFs, archives, JSON.
NOT_PAGES = re.compile(r"\.(csv|xlsx|ics|json|pdf|zip|js|css|png|svg|ico|txt)$")


def page_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if (
            "GET" not in rule.methods
            or rule.arguments
            or rule.endpoint.endswith("static")
            or NOT_PAGES.search(rule.rule)
        ):
            continue
        routes.append((rule.endpoint, rule.rule))
    return sorted(set(routes), key=lambda item: item[1])


@pytest.mark.parametrize("role", ["public", "admin", "admin-es"])
def test_every_page_is_accessible(page, live_server, role):
    routes = page_routes(live_server.app)
    assert ("lms_courses.catalog", "/") in routes
    if role == "admin":
        ann = live_server.people["admin-ann"]
        sign_in(page, ann.email, ann.password)
    elif role == "admin-es":  # the language choice is saved in the profile: a person of its own
        admin = live_server.people.get("admin-es") or live_server.create_person(
            "admin-es", roles=("admin",), name="Ana Administradora"
        )
        sign_in(page, admin.email, admin.password)
    if role.endswith("-es"):
        page.goto("/")
        switch_language(page, "es")
    visited = []
    for endpoint, path in routes:
        response = page.goto(path)
        assert response is not None and response.status < 500, (
            f"{path} answered {response and response.status} to {role}"
        )
        if role.endswith("-es"):
            assert page.evaluate("document.documentElement.lang") == "es", path
        check_page(page, f"every-{role}-{endpoint.replace('.', '-')}")
        visited.append(f"{path} -> {response.status} {page.url.replace(live_server.url, '')}")
    print(f"\n{role}: " + "; ".join(visited))  # noqa: T201 (the pages visited, with -s)
