"""Every route against every kind of visitor (docs/roles.md).

The table (``ROUTES``, in tests/helpers/authorization.py) has one row per endpoint. The test
reads the app's URL map, so a route added without a row there fails the suite. Expected answers,
one per persona:

    ok     the page or action is allowed (2xx, or a redirect that is not to the login page,
           or 400/422 for a POST that was allowed but sent no data)
    login  redirected to the login page
    403    forbidden (a role the visitor lacks)
    404    not found (someone else's record: we do not confirm it exists)
    429/503 never expected here
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import login
from tests.helpers.authorization import PERSONAS, ROUTES, Route


def test_every_route_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    covered = {key.split(":")[0] for key in ROUTES}
    missing = sorted(endpoints - covered)
    assert not missing, (
        f"routes without a row in ROUTES (tests/helpers/authorization.py): {missing}"
    )
    stale = sorted(covered - endpoints)
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_row_names_six_answers():
    for endpoint, route in ROUTES.items():
        answers = route.expect.split()
        assert len(answers) == len(PERSONAS), endpoint
        assert set(answers) <= {"ok", "login", "400", "403", "404"}, endpoint


def check(client, route: Route, persona: str, ids: dict[str, Any]) -> None:
    url = route.url.format(**ids)
    response = client.open(url, method=route.method)
    expected = route.expected(persona)
    status = response.status_code
    location = response.headers.get("Location", "")
    to_login = status in (301, 302, 303) and "/auth/login" in location
    if expected == "ok":
        allowed = (
            status < 300
            or (300 <= status < 400 and not to_login)
            or (route.method != "GET" and status in (400, 422))
        )
        assert allowed, f"{persona} {route.method} {url}: expected allowed, got {status} {location}"
    elif expected == "login":
        assert to_login, (
            f"{persona} {route.method} {url}: expected a redirect to login, got {status}"
        )
    else:
        assert status == int(expected), (
            f"{persona} {route.method} {url}: expected {expected}, got {status}"
        )


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_the_expected_answer_on_every_route(app, world, persona):
    failures = []
    for endpoint, route in ROUTES.items():
        client = app.test_client()
        if persona != "anonymous":
            login(client, world.users[persona])
        try:
            check(client, route, persona, world.ids)
        except AssertionError as error:
            failures.append(f"{endpoint}: {error}")
    assert not failures, "\n".join(failures)


def test_every_post_route_refuses_a_missing_csrf_token(app, world):
    """Posted by someone the route allows, so the refusal can only come from the CSRF check."""
    failures = []
    for endpoint, route in ROUTES.items():
        if route.method != "POST":
            continue
        persona = next((p for p in reversed(PERSONAS) if route.expected(p) == "ok"), "anonymous")
        client = app.test_client()
        if persona != "anonymous":
            login(client, world.users[persona])
        app.config["WTF_CSRF_ENABLED"] = True
        try:
            url = route.url.format(**world.ids)
            for body in ({"data": {"x": "1"}}, {"json": {"x": 1}}):
                response = client.post(url, **body)
                if response.status_code != 400:
                    failures.append(
                        f"{endpoint} as {persona} {url} {list(body)[0]}: {response.status_code}"
                    )
        finally:
            app.config["WTF_CSRF_ENABLED"] = False
    assert not failures, "POST accepted without a CSRF token:\n" + "\n".join(failures)
