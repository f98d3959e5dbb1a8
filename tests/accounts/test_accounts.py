"""Registration, sign-in, password reset and the profile."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from lms.accounts.models import User
from tests.helpers import TEST_PASSWORD
from tests.helpers.accounts import register

NEW_PASSWORD = "a brand new passphrase"


def same_page(html: str, email: str) -> str:
    """A page with the address typed and the (time-stamped) CSRF tokens taken out."""
    return re.sub(r'value="[^"]*\.[^"]*\.[^"]*"', 'value="token"', html.replace(email, "EMAIL"))


def test_registration_creates_a_learner_with_a_scrypt_hash(client, in_db, mail_log):
    response = register(client, "New.Person@Example.org")
    assert response.status_code == 303 and response.headers["Location"].endswith("/auth/login")
    with in_db() as db:
        user = db.scalar(User.by_email("new.person@example.org"))
        assert user.email == "new.person@example.org"
        assert user.password_hash.startswith("scrypt:")
        assert user.roles == ["learner"] and not user.is_admin
    assert any("Your account is ready" in m and "new.person@example.org" in m for m in mail_log())
    assert (
        client.post(
            "/auth/login",
            data={"email": "new.person@example.org", "password": "long enough password"},
        ).status_code
        == 303
    )


def test_short_and_mismatched_passwords_are_explained_and_input_kept(client, in_db):
    response = register(client, "short@example.org", password="too short")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Use at least 10 characters for your password." in html
    assert 'value="short@example.org"' in html and "New Learner" in html
    response = register(
        client,
        "short@example.org",
        password="long enough password",
        confirm="another long password",
    )
    assert "The two passwords are not the same." in response.get_data(as_text=True)
    with in_db() as db:
        assert db.scalar(User.by_email("short@example.org")) is None


def test_registering_an_existing_email_reveals_nothing_and_mails_the_owner(
    client, make_user, in_db, mail_log
):
    owner = make_user(email="owner@example.org")
    new = register(client, "fresh@example.org")
    assert new.status_code == 303
    new_page = client.get(new.headers["Location"]).get_data(as_text=True)
    taken = register(client, "OWNER@example.org", password="attacker password here")
    assert taken.status_code == 303 and new.headers["Location"] == taken.headers["Location"]
    taken_page = client.get(taken.headers["Location"]).get_data(as_text=True)
    assert "Check your email" in new_page
    assert same_page(new_page, "fresh@example.org") == same_page(taken_page, "OWNER@example.org")
    owner_mail = [m for m in mail_log() if "To: owner@example.org" in m]
    assert owner_mail and "You already have an account" in owner_mail[0]
    with in_db() as db:
        assert (
            db.scalar(
                select(func.count()).select_from(User).where(User.email == "owner@example.org")
            )
            == 1
        )
        assert db.get(User, owner.id).password_hash == owner.password_hash, (
            "the owner's password is untouched"
        )


def test_sign_in_does_not_tell_unknown_emails_from_wrong_passwords(client, make_user):
    user = make_user()
    wrong_password = client.post(
        "/auth/login", data={"email": user.email, "password": "not the password"}
    )
    unknown = client.post(
        "/auth/login", data={"email": "nobody@example.org", "password": "not the password"}
    )
    assert wrong_password.status_code == unknown.status_code == 422

    def message(response):
        return re.findall(r'class="error-message"[^>]*>([^<]+)<', response.get_data(as_text=True))

    assert message(wrong_password) == message(unknown) != []


def test_login_redirects_only_to_local_paths(client, make_user):
    user = make_user()
    for target, expected in (
        ("https://evil.example/", "/me"),
        ("//evil.example/x", "/me"),
        ("/learn/1", "/learn/1"),
    ):
        response = client.post(
            "/auth/login", data={"email": user.email, "password": TEST_PASSWORD, "next": target}
        )
        assert response.headers["Location"].endswith(expected), target
        client.post("/auth/logout")


def test_password_reset_end_to_end(client, make_user, in_db, mail_log):
    user = make_user(email="forgetful@example.org")
    response = client.post("/auth/reset", data={"email": "Forgetful@example.org"})
    assert response.status_code == 303
    mail = [m for m in mail_log() if "To: forgetful@example.org" in m][-1]
    link = re.search(r"http://lms\.test(/auth/reset/\S+)", mail).group(1)

    form = client.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.get_data(as_text=True)
    assert client.post(link, data={"password": "short", "confirm": "short"}).status_code == 422
    assert (
        client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code
        == 303
    )
    with in_db() as db:
        assert db.get(User, user.id).check_password(NEW_PASSWORD)
    assert (
        client.post(
            "/auth/login", data={"email": user.email, "password": TEST_PASSWORD}
        ).status_code
        == 422
    )
    assert (
        client.post("/auth/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 303
    )

    # A used link dies with the old password hash.
    client.post("/auth/logout")
    used = client.get(link)
    assert used.status_code == 400 and "no longer works" in used.get_data(as_text=True)
    assert (
        client.post(
            link, data={"password": "yet another password", "confirm": "yet another password"}
        ).status_code
        == 400
    )
    with in_db() as db:
        assert db.get(User, user.id).check_password(NEW_PASSWORD)


def test_reset_links_expire_and_cannot_be_forged(client, make_user, app, mail_log):
    make_user(email="late@example.org")
    client.post("/auth/reset", data={"email": "late@example.org"})
    link = re.search(r"(/auth/reset/\S+)", mail_log()[-1]).group(1)
    app.config["LMS_PASSWORD_RESET_MAX_AGE"] = -1
    assert client.get(link).status_code == 400
    app.config["LMS_PASSWORD_RESET_MAX_AGE"] = 3600
    assert client.get(link).status_code == 200
    assert client.get(link[:-3] + "abc").status_code == 400
    assert client.get("/auth/reset/not-a-token").status_code == 400


def test_reset_requests_answer_the_same_for_unknown_addresses(client, make_user, mail_log):
    make_user(email="known@example.org")
    known = client.post("/auth/reset", data={"email": "known@example.org"})
    known_page = client.get(known.headers["Location"]).get_data(as_text=True)
    unknown = client.post("/auth/reset", data={"email": "unknown@example.org"})
    unknown_page = client.get(unknown.headers["Location"]).get_data(as_text=True)
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert same_page(known_page, "known@example.org") == same_page(
        unknown_page, "unknown@example.org"
    )
    assert len([m for m in mail_log() if "unknown@example.org" in m]) == 0


def test_profile_updates_language_zone_affiliate_and_role(client, login_as, make_user, in_db):
    user = make_user()
    client = login_as(user)
    page = client.get("/auth/profile").get_data(as_text=True)
    assert 'value="America/Chicago"' in page and "Education Support Professionals" in page
    response = client.post(
        "/auth/profile",
        data={
            "display_name": "Renamed",
            "locale": "es",
            "time_zone": "America/Chicago",
            "affiliate": "Ohio EA",
            "audience_role": "education-support-professional",
        },
    )
    assert response.status_code == 303
    with in_db() as db:
        saved = db.get(User, user.id)
        assert (
            saved.display_name,
            saved.locale,
            saved.time_zone,
            saved.affiliate,
            saved.audience_role,
        ) == (
            "Renamed",
            "es",
            "America/Chicago",
            "Ohio EA",
            "education-support-professional",
        )
    assert '<html lang="es">' in client.get("/auth/profile").get_data(as_text=True)
    bad = client.post(
        "/auth/profile",
        data={
            "display_name": "X",
            "locale": "es",
            "time_zone": "Mars/Olympus",
            "affiliate": "",
            "audience_role": "wizard",
        },
    )
    assert bad.status_code == 422
    with in_db() as db:
        assert db.get(User, user.id).time_zone == "America/Chicago"


def test_profile_needs_sign_in(client):
    response = client.get("/auth/profile")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_smtp_backend_sends_with_smtplib(app, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, message):
            sent.append(("send", message["To"], message["Subject"], message.get_content()))

    import lms.mail

    monkeypatch.setattr(lms.mail.smtplib, "SMTP", FakeSMTP)
    app.config.update(
        LMS_MAIL_BACKEND="smtp",
        LMS_SMTP_HOST="mail.example.org",
        LMS_SMTP_PORT=587,
        LMS_SMTP_STARTTLS=True,
        LMS_SMTP_USERNAME="robot",
    )
    with app.app_context():  # mail goes out from a job: an app context, no request
        lms.mail.send_message("a@example.org", "Hello", "Body text")
    assert sent[0] == ("connect", "mail.example.org", 587)
    assert ("starttls",) in sent and ("login", "robot") in sent
    assert sent[-1][:3] == ("send", "a@example.org", "Hello") and "Body text" in sent[-1][3]


def test_the_signed_in_person_is_loaded_whole_and_stays_writable(app, make_user, in_db):
    from sqlalchemy import inspect

    from lms.accounts.services import load_user, start_sign_in

    user = make_user(
        display_name="Ada Loaded", affiliate="Ohio EA", locale="es", time_zone="Europe/Madrid"
    )
    with app.test_request_context(), in_db() as db:
        token = start_sign_in(db.get(User, user.id))
        db.commit()
    with in_db() as db:
        loaded = load_user(token)
        state = inspect(loaded)
        assert state.persistent and not state.modified and not db.dirty
        assert load_user(token) is loaded, "the session's own copy, not a second one"
        with app.app_context():  # another session, loaded the ORM's usual way
            from lms.db import db_session as other

            reference = other.get(User, user.id)
            assert {a.key: getattr(loaded, a.key) for a in state.mapper.column_attrs} == {
                a.key: getattr(reference, a.key) for a in state.mapper.column_attrs
            }
        loaded.display_name = "Ada Renamed"
        db.commit()
        # The account's id is not a sign-in: neither is a token one character off.
        assert (
            load_user(str(user.id)) is None
            and load_user("ab") is None
            and load_user(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        )
    with in_db() as db:
        assert db.get(User, user.id).display_name == "Ada Renamed"
