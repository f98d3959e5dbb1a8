"""Sessions that can be ended: a copy of a cookie saved before a sign-out, a password reset or
"sign out everywhere" opens nothing afterwards, and a session is new at each sign-in."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.helpers import TEST_PASSWORD, csrf_token_in

REMEMBER = "remember_token"  # Flask-Login's cookie name (REMEMBER_COOKIE_NAME)


def sign_in(client, user, *, remember: bool = True, password: str = TEST_PASSWORD):
    data = {"email": user.email, "password": password}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/login", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response


def saved_cookies(app, client) -> dict[str, str]:
    """The browser's cookies as an attacker would copy them."""
    names = (app.config["SESSION_COOKIE_NAME"], REMEMBER)
    return {
        name: cookie.value
        for name in names
        if (cookie := client.get_cookie(name, domain=app.config["SERVER_NAME"])) is not None
    }


def replay(app, cookies: dict[str, str], only: str | None = None):
    """A new browser holding the copied cookies (or just one of them) opens My learning."""
    browser = app.test_client()
    for name, value in cookies.items():
        if only is None or name == only:
            browser.set_cookie(name, value, domain=app.config["SERVER_NAME"])
    return browser.get("/me")


def signed_in(response) -> bool:
    if response.status_code == 200:
        return True
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]
    return False


@pytest.fixture
def person(make_user):
    return make_user()


def test_copies_of_both_cookies_work_until_sign_out_and_not_after(app, client, person):
    sign_in(client, person)
    cookies = saved_cookies(app, client)
    assert set(cookies) == {app.config["SESSION_COOKIE_NAME"], REMEMBER}
    # Before: either copy opens the account (what makes the test below mean something).
    assert signed_in(replay(app, cookies, only=app.config["SESSION_COOKIE_NAME"]))
    assert signed_in(replay(app, cookies, only=REMEMBER))
    page = client.get("/me")
    signed_out = client.post("/auth/logout")
    assert signed_out.status_code == 303 and page.status_code == 200
    assert any(
        header.startswith(f"{REMEMBER}=;") for header in signed_out.headers.getlist("Set-Cookie")
    ), "the browser drops its remember-me cookie"
    assert not signed_in(client.get("/me"))
    assert not signed_in(replay(app, cookies, only=app.config["SESSION_COOKIE_NAME"])), (
        "saved session cookie"
    )
    assert not signed_in(replay(app, cookies, only=REMEMBER)), "saved remember-me cookie"
    assert not signed_in(replay(app, cookies))


def test_the_remember_me_cookie_is_new_at_each_sign_in_and_sign_ins_are_separate(
    app, person, in_db
):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, person)
    sign_in(phone, person)
    laptop_cookies, phone_cookies = saved_cookies(app, laptop), saved_cookies(app, phone)
    assert laptop_cookies[REMEMBER] != phone_cookies[REMEMBER]
    assert laptop_cookies[REMEMBER].split("|")[0] != str(person.id), (
        "the cookie names a sign-in, not the account"
    )
    laptop.post("/auth/logout")
    assert not signed_in(replay(app, laptop_cookies))
    assert signed_in(phone.get("/me")), "signing out on one device leaves the other signed in"
    sign_in(laptop, person)
    assert saved_cookies(app, laptop)[REMEMBER] != laptop_cookies[REMEMBER]


def test_a_password_reset_ends_every_session_of_the_account(app, client, person):
    from lms.accounts.models import User
    from lms.accounts.tokens import password_reset_token

    sign_in(client, person)
    cookies = saved_cookies(app, client)
    other_device = app.test_client()
    sign_in(other_device, person, remember=False)
    with app.test_request_context():
        from lms.db import db_session

        token = password_reset_token(db_session.get(User, person.id))
    new_password = "a brand new password"
    response = app.test_client().post(
        f"/auth/reset/{token}", data={"password": new_password, "confirm": new_password}
    )
    assert response.status_code == 303
    assert not signed_in(client.get("/me"))
    assert not signed_in(other_device.get("/me"))
    assert not signed_in(replay(app, cookies, only=app.config["SESSION_COOKIE_NAME"]))
    assert not signed_in(replay(app, cookies, only=REMEMBER))
    sign_in(app.test_client(), person, password=new_password)


def test_sign_out_everywhere_ends_every_session_this_one_included(app, client, person, in_db):
    from lms.accounts.models import SignIn

    sign_in(client, person)
    cookies = saved_cookies(app, client)
    others = [app.test_client(), app.test_client()]
    for other in others:
        sign_in(other, person)
    other_cookies = saved_cookies(app, others[0])
    profile = client.get("/auth/profile").get_data(as_text=True)
    assert 'action="/auth/sign-out-everywhere"' in profile and "Sign out everywhere" in profile
    response = client.post("/auth/sign-out-everywhere")
    assert response.status_code == 303
    assert "You are signed out in every browser" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert not signed_in(client.get("/me"))
    assert all(not signed_in(other.get("/me")) for other in others)
    for saved in (cookies, other_cookies):
        assert not signed_in(replay(app, saved, only=app.config["SESSION_COOKIE_NAME"]))
        assert not signed_in(replay(app, saved, only=REMEMBER))
    with in_db() as db:
        assert db.scalar(select(func.count()).select_from(SignIn)) == 0
    assert app.test_client().post("/auth/sign-out-everywhere").status_code in (302, 303), (
        "signed out: to the sign-in page"
    )


def test_deactivation_signs_the_person_out(app, client, person, make_user):
    sign_in(client, person)
    admin = app.test_client()
    sign_in(admin, make_user("admin"))
    assert admin.post(f"/admin/people/{person.id}/active", data={"active": "0"}).status_code == 303
    assert not signed_in(client.get("/me"))


def test_a_sign_in_ends_by_itself_when_its_time_is_up(app, client, person, in_db):
    from lms.accounts.models import SignIn
    from lms.db import utcnow

    sign_in(client, person, remember=False)
    with in_db() as db:
        row = db.scalar(select(SignIn))
        lifetime = row.expires_at - row.created_at
        assert lifetime.total_seconds() == app.config["LMS_SIGN_IN_MAX_AGE"]
        row.expires_at = utcnow()
        db.commit()
    assert not signed_in(client.get("/me"))
    sign_in(client, person, remember=True)
    with in_db() as db:
        (row,) = db.scalars(select(SignIn)).all()  # the expired one went with the new sign-in
        assert row.expires_at - row.created_at == app.config["REMEMBER_COOKIE_DURATION"]


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_a_token_taken_before_sign_in_is_refused_after(self, app, client, person, in_db):
        from lms.accounts.models import User

        before = csrf_token_in(client.get("/auth/login").get_data(as_text=True))
        session_before = client.get_cookie(
            app.config["SESSION_COOKIE_NAME"], domain="lms.test"
        ).value
        signed = client.post(
            "/auth/login",
            data={"email": person.email, "password": TEST_PASSWORD, "csrf_token": before},
        )
        assert signed.status_code == 303
        assert (
            client.get_cookie(app.config["SESSION_COOKIE_NAME"], domain="lms.test").value
            != session_before
        )
        profile = {
            "display_name": "Changed By Someone",
            "locale": "en",
            "time_zone": "America/New_York",
            "affiliate": "",
            "audience_role": "",
        }
        assert (
            client.post("/auth/profile", data={**profile, "csrf_token": before}).status_code == 400
        )
        with in_db() as db:
            assert db.get(User, person.id).display_name == person.display_name
        after = csrf_token_in(client.get("/auth/profile").get_data(as_text=True))
        assert (
            client.post("/auth/profile", data={**profile, "csrf_token": after}).status_code == 303
        )
        with in_db() as db:
            assert db.get(User, person.id).display_name == "Changed By Someone"

    def test_sign_out_everywhere_needs_the_token(self, app, client, person):
        token = csrf_token_in(client.get("/auth/login").get_data(as_text=True))
        client.post(
            "/auth/login",
            data={"email": person.email, "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert client.post("/auth/sign-out-everywhere").status_code == 400
        assert signed_in(client.get("/me"))
        token = csrf_token_in(client.get("/auth/profile").get_data(as_text=True))
        assert (
            client.post("/auth/sign-out-everywhere", data={"csrf_token": token}).status_code == 303
        )
        assert not signed_in(client.get("/me"))


def test_two_copies_of_one_account_are_the_same_person_whatever_their_sign_in():
    from lms.accounts.models import User

    laptop, phone, someone_else = User(id=7), User(id=7), User(id=8)
    laptop.sign_in_token = "a" * 43
    assert laptop == phone and not laptop != phone, (
        "compared by account, without asking for a token"
    )
    assert laptop != someone_else and User() != User()
    with pytest.raises(RuntimeError):
        phone.get_id()  # no sign-in made: nothing Flask-Login could keep
