"""Each worker keeps a signed-in person between requests (``lms.accounts.services.load_user``
under the person's version, ``lms.caching``): a page built from kept parts reads nothing from
the database, and whatever ends or changes the sign-in, in any worker, shows on the next
request there."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.helpers import TEST_PASSWORD, login
from tests.helpers.cohorts import client_for


def statements_during(app, request: Callable[[], Any]) -> tuple[Any, int]:
    """``request()``'s response and how many SQL statements the app sent while it ran."""
    engine = app.extensions["lms"].database.engine
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = request()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return response, len(sent)


def signed_in(response) -> bool:
    if response.status_code == 200:
        return True
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]
    return False


def same_browser(worker, browser, app) -> Any:
    """A client of ``worker`` holding ``browser``'s cookies: the same browser, whose next request
    the load balancer sends to another worker."""
    other = worker.test_client()
    for name in (app.config["SESSION_COOKIE_NAME"], "remember_token"):
        cookie = browser.get_cookie(name, domain=app.config["SERVER_NAME"])
        if cookie is not None:
            other.set_cookie(name, cookie.value, domain=app.config["SERVER_NAME"])
    return other


def kept(app, browser) -> None:
    """Visit My learning until this worker serves it from what it keeps; fail if it never does."""
    counts = [statements_during(app, lambda: browser.get("/me"))[1] for _ in range(3)]
    assert counts[-1] == 0, f"statements per visit: {counts}"


def test_a_kept_sign_in_reads_nothing_from_the_database(app, make_user):
    person = make_user(display_name="Kept Person")
    browser = client_for(app, person)
    visits = [statements_during(app, lambda: browser.get("/me")) for _ in range(3)]
    assert all(response.status_code == 200 for response, _ in visits)
    assert "Kept Person" in visits[-1][0].get_data(as_text=True)
    # The first visit builds the page and learns whose sign-in it is; the second reads the
    # sign-in again, after that person's version (the order every kept part keeps); the third
    # is served from what the worker keeps.
    assert visits[1][1] >= 1 and visits[2][1] == 0, [count for _, count in visits]


def _sign_out(worker, app, browser, person, make_user) -> None:
    assert same_browser(worker, browser, app).post("/auth/logout").status_code == 303


def _sign_out_everywhere(worker, app, browser, person, make_user) -> None:
    elsewhere = worker.test_client()
    login(elsewhere, person)
    assert elsewhere.post("/auth/sign-out-everywhere").status_code == 303


def _deactivate(worker, app, browser, person, make_user) -> None:
    admin = worker.test_client()
    login(admin, make_user("admin"))
    assert admin.post(f"/admin/people/{person.id}/active", data={"active": "0"}).status_code == 303


def _reset_password(worker, app, browser, person, make_user) -> None:
    from lms.accounts.models import User
    from lms.accounts.tokens import password_reset_token
    from lms.db import db_session

    with worker.test_request_context():
        token = password_reset_token(db_session.get(User, person.id))
    new = "a brand new password"
    answer = worker.test_client().post(
        f"/auth/reset/{token}", data={"password": new, "confirm": new}
    )
    assert answer.status_code == 303


@pytest.mark.parametrize(
    "ending",
    [_sign_out, _sign_out_everywhere, _deactivate, _reset_password],
    ids=lambda f: f.__name__[1:],
)
def test_a_sign_in_ended_in_another_worker_is_refused_at_once(
    app, store, other_worker, make_user, ending
):
    person = make_user()
    browser = client_for(app, person)
    kept(app, browser)
    ending(other_worker, app, browser, person, make_user)
    assert not signed_in(browser.get("/me"))
    assert not signed_in(browser.get("/me")), "and stays refused"


def test_a_new_name_given_in_another_worker_shows_on_the_next_page(
    app, store, other_worker, make_user
):
    person = make_user(display_name="Old Name")
    browser = client_for(app, person)
    kept(app, browser)
    profile = {
        "display_name": "New Name",
        "locale": "en",
        "time_zone": "America/New_York",
        "affiliate": "",
        "audience_role": "",
    }
    elsewhere = client_for(other_worker, person)
    assert elsewhere.post("/auth/profile", data=profile).status_code == 303
    page = browser.get("/me").get_data(as_text=True)
    assert "Signed in as New Name." in page and "Old Name" not in page


def test_a_role_taken_away_in_another_worker_is_gone_on_the_next_request(
    app, store, other_worker, make_user
):
    person = make_user("admin")
    browser = client_for(app, person)
    kept(app, browser)
    assert browser.get("/admin/").status_code == 200
    admin = client_for(other_worker, make_user("admin"))
    answer = admin.post(f"/admin/people/{person.id}/roles", data={"role": "admin", "grant": "0"})
    assert answer.status_code == 303
    assert browser.get("/admin/").status_code == 403
    assert 'href="/admin/"' not in browser.get("/me").get_data(as_text=True)


def test_a_kept_sign_in_ends_when_the_sign_in_does(app, make_user, in_db, time_machine):
    from lms.accounts.models import SignIn

    person = make_user()
    browser = app.test_client()
    answer = browser.post("/auth/login", data={"email": person.email, "password": TEST_PASSWORD})
    assert answer.status_code == 303
    with in_db() as db:
        expires_at = db.scalar(select(SignIn.expires_at).where(SignIn.user_id == person.id))
    kept(app, browser)
    time_machine.move_to(expires_at - timedelta(seconds=5), tick=False)
    assert signed_in(browser.get("/me"))
    time_machine.move_to(expires_at + timedelta(seconds=1), tick=False)
    assert not signed_in(browser.get("/me"))


def test_a_kept_person_is_each_requests_own_object(app, make_user):
    """What one request does to the signed-in person stays in that request: the kept copy is
    merged into each request's session, never handed out itself."""
    from flask import template_rendered

    from lms.db import db_session

    person = make_user(display_name="Only Mine")
    browser = client_for(app, person)
    kept(app, browser)
    seen = []

    def record(_app, template, context, **_extra) -> None:
        if template.name == "lms/accounts/profile.html":  # a page built on every request
            user = context["current_user"]  # the object, as the page saw it
            seen.append((user, user in db_session))

    with template_rendered.connected_to(record, app):
        for _ in range(2):
            assert browser.get("/auth/profile").status_code == 200
    (first, first_attached), (second, second_attached) = seen
    assert first.id == second.id == person.id and first_attached and second_attached
    assert first is not second
