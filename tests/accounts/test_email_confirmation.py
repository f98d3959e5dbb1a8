"""A person who signs up alone confirms their address before joining a live session: attendance
is matched by email address, and certificates follow attendance."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.learning.models import Enrollment
from tests.helpers.accounts import register
from tests.helpers.cohorts import schedule

PASSWORD = "long enough password"
FLAGSHIP = "/courses/esp-racial-justice-dialogue"


@pytest.fixture
def newcomer(app, client, mail_log):
    """A learner who registered through the form and signed in, and the link they were mailed."""
    assert register(client, "newcomer@example.org", password=PASSWORD).status_code == 303
    welcome = next(message for message in mail_log() if "Your account is ready" in message)
    link = re.search(r"http://lms\.test(/auth/confirm/\S+)", welcome)
    assert link, welcome
    assert (
        client.post(
            "/auth/login", data={"email": "newcomer@example.org", "password": PASSWORD}
        ).status_code
        == 303
    )
    return link.group(1)


def _user(app, email: str = "newcomer@example.org") -> User:
    with app.app_context():
        from lms.db import db_session

        user = db_session.scalar(User.by_email(email))
        db_session.expunge(user)
        return user


def _live_enrollments(app) -> int:
    with app.app_context():
        from lms.db import db_session

        return db_session.scalar(
            select(func.count()).select_from(Enrollment).where(Enrollment.cohort_id.is_not(None))
        )


def test_an_unconfirmed_learner_is_told_why_and_cannot_register(app, client, make_user, newcomer):
    cohort_id = schedule(app, make_user("facilitator"))
    assert _user(app).email_confirmed_at is None

    course_page = client.get(FLAGSHIP).get_data(as_text=True)
    assert "Confirm your email address to register." in course_page
    assert f'action="/cohorts/{cohort_id}/register"' not in course_page
    assert 'action="/auth/confirm"' in course_page
    assert "is not confirmed yet" in client.get("/me").get_data(as_text=True)

    refused = client.post(f"/cohorts/{cohort_id}/register", follow_redirects=True)
    assert "attendance is matched by email" in refused.get_data(as_text=True)
    assert _live_enrollments(app) == 0

    started = client.post(f"{FLAGSHIP}/start", data={"path": "recording"})
    assert started.status_code == 303, "recordings stay open while the address is unconfirmed"


def test_the_mailed_link_confirms_once_and_opens_registration(app, client, make_user, newcomer):
    cohort_id = schedule(app, make_user("facilitator"))
    confirmed = client.get(newcomer)
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith("/me")
    first = _user(app).email_confirmed_at
    assert first is not None
    assert "is confirmed" in client.get("/me").get_data(as_text=True)
    assert client.get(newcomer).status_code == 303, "following the link again is harmless"
    assert _user(app).email_confirmed_at == first

    assert client.post(f"/cohorts/{cohort_id}/register").status_code == 303
    assert _live_enrollments(app) == 1
    assert "is not confirmed yet" not in client.get("/me").get_data(as_text=True)


def test_a_link_that_was_tampered_with_or_expired_is_refused(app, client, newcomer):
    assert client.get(newcomer[:-3] + "xyz").status_code == 400
    app.config["LMS_EMAIL_CONFIRMATION_MAX_AGE"] = -1  # every link is past its age
    refused = client.get(newcomer)
    assert refused.status_code == 400 and "This link no longer works" in refused.get_data(
        as_text=True
    )
    assert _user(app).email_confirmed_at is None


def test_a_link_works_only_for_the_address_it_was_sent_to(app, client, newcomer):
    with app.app_context():
        from lms.db import db_session

        db_session.scalar(User.by_email("newcomer@example.org")).email = "changed@example.org"
        db_session.commit()
    assert client.get(newcomer).status_code == 400
    assert _user(app, "changed@example.org").email_confirmed_at is None


def test_a_new_link_can_be_sent_and_works(app, client, newcomer, mail_log):
    sent = client.post("/auth/confirm", data={"next": FLAGSHIP})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(FLAGSHIP)
    again = [message for message in mail_log() if "Confirm that this address is yours" in message]
    assert len(again) == 1
    link = re.search(r"http://lms\.test(/auth/confirm/\S+)", again[0]).group(1)
    assert client.get(link).status_code == 303
    assert _user(app).email_confirmed_at is not None
    client.post("/auth/confirm")
    assert len([m for m in mail_log() if "Confirm that this address is yours" in m]) == 1, (
        "no mail once confirmed"
    )


def test_people_an_admin_or_a_command_creates_are_confirmed(app, runner):
    result = runner.invoke(
        args=[
            "lms",
            "users",
            "create",
            "--email",
            "staff@example.org",
            "--name",
            "Staff",
            "--password",
            PASSWORD,
        ]
    )
    assert result.exit_code == 0, result.output
    assert _user(app, "staff@example.org").email_confirmed_at is not None
