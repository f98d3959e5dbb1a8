"""Every integer in a route is bounded: a number no INTEGER column holds matches no route (404)."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from lms.db import MAX_ID
from tests.helpers import login

# <converter(arguments):name> or <name>, as Werkzeug writes rules.
ARGUMENT = re.compile(
    r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
TOO_LARGE = [MAX_ID + 1, 2**63 - 1, 2**63, 2**64, 10**30]


def integer_routes(app):
    """(rule, method, names of its integer arguments) for every rule of the app with one."""
    routes = []
    for rule in app.url_map.iter_rules():
        integers = [
            m["name"]
            for m in ARGUMENT.finditer(rule.rule)
            if issubclass(app.url_map.converters[m["converter"] or "default"], IntegerConverter)
        ]
        if integers:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((rule, method, integers))
    return routes


def path_for(rule, values: dict[str, object]) -> str:
    return ARGUMENT.sub(lambda m: str(values.get(m["name"], "x")), rule.rule)


def test_the_engine_has_integer_routes_and_all_are_bounded(app):
    routes = integer_routes(app)
    assert len({rule.rule for rule, _method, _names in routes}) >= 20, (
        "the test sees the cohort, learning, certificate and admin routes"
    )
    for rule, _method, names in routes:
        for match in ARGUMENT.finditer(rule.rule):
            if match["name"] in names:
                assert match["converter"] == "lms_id", f"{rule.rule}: an unbounded integer"


@pytest.mark.parametrize("number", TOO_LARGE)
def test_a_number_beyond_any_row_id_answers_404_on_every_integer_route(
    app, client, make_user, number
):
    admin = make_user("admin")
    adapter = app.url_map.bind("lms.test")
    login(client, admin)  # signed in as the person who may see most: the answer is still 404
    for rule, method, names in integer_routes(app):
        # Each integer argument in turn is too large, the others are ordinary.
        for name in names:
            values = dict.fromkeys(names, 1) | {name: number}
            path = path_for(rule, values)
            with pytest.raises(NotFound):
                adapter.match(path, method=method)
            response = client.open(path, method=method)
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
            assert "Page not found" in response.get_data(as_text=True)


def test_the_largest_row_id_reaches_the_page_and_finds_nothing(app, client, make_user):
    admin = make_user("admin")
    login(client, admin)
    for rule, method, names in integer_routes(app):
        path = path_for(rule, dict.fromkeys(names, MAX_ID))
        response = client.open(path, method=method)
        assert response.status_code < 500, f"{method} {path}: {response.status_code}"
