"""With CSRF on, as in production: JSON POSTs need the X-CSRFToken header."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.learning.models import Reflection
from tests.helpers import TEST_PASSWORD, csrf_token_in
from tests.helpers.learning import FLAGSHIP, FORTY_WORDS


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def sign_in_and_start(client, user) -> int:
    token = csrf_token_in(client.get("/auth/login").get_data(as_text=True))
    assert (
        client.post(
            "/auth/login", data={"email": user.email, "password": TEST_PASSWORD}
        ).status_code
        == 400
    ), "no token: refused"
    assert (
        client.post(
            "/auth/login",
            data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
        ).status_code
        == 303
    )
    token = csrf_token_in(client.get(f"/courses/{FLAGSHIP}").get_data(as_text=True))
    response = client.post(
        f"/courses/{FLAGSHIP}/start", data={"path": "recording", "csrf_token": token}
    )
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_progress_json_needs_the_csrf_header(client, make_user):
    enrollment_id = sign_in_and_start(client, make_user())
    page = client.get(f"/learn/{enrollment_id}/recording").get_data(as_text=True)
    token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
    url = f"/learn/{enrollment_id}/recording/progress"
    payload = {"segments": [[0, 10]], "duration": 30}
    refused = client.post(url, json=payload)
    assert refused.status_code == 400 and refused.get_json()["reason"] == "csrf"
    assert client.post(url, json=payload, headers={"X-CSRFToken": "forged"}).status_code == 400
    accepted = client.post(url, json=payload, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200 and accepted.get_json()["percent"] == 33


def test_draft_json_needs_the_csrf_header(client, make_user, in_db):
    enrollment_id = sign_in_and_start(client, make_user())
    page = client.get(f"/learn/{enrollment_id}/outcome-1").get_data(as_text=True)
    token = re.search(r'data-csrf-token="([^"]+)"', page).group(1)
    url = f"/learn/{enrollment_id}/outcome-1/reflection/draft"
    assert client.post(url, json={"body": "forged"}).status_code == 400
    with in_db() as db:
        assert db.scalar(select(Reflection)) is None
    assert (
        client.post(url, json={"body": "mine"}, headers={"X-CSRFToken": token}).get_json()["saved"]
        is True
    )
    with in_db() as db:
        assert db.scalar(select(Reflection.body)) == "mine"


def test_an_expired_token_on_submit_keeps_everything_typed_and_saves_nothing(
    client, make_user, in_db
):
    enrollment_id = sign_in_and_start(client, make_user())
    url = f"/learn/{enrollment_id}/outcome-1/reflection"
    response = client.post(
        url,
        data={
            "body": FORTY_WORDS + " typed before the session expired",
            "submit": "Submit",
            "csrf_token": "expired",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "typed before the session expired" in html
    assert "Your session expired" in html
    with in_db() as db:
        assert db.scalar(select(Reflection)) is None, (
            "a request that failed its CSRF check changes nothing"
        )
    # The page carries a fresh token: sending again works.
    response = client.post(
        url, data={"body": FORTY_WORDS, "submit": "Submit", "csrf_token": csrf_token_in(html)}
    )
    assert response.status_code == 303


def test_the_reflection_form_refuses_a_cross_site_referer_over_https(app, make_user, in_db):
    """Behind TLS, Flask-WTF also wants a Referer from this site: the reflection form, which runs
    the check itself, wants it as every other form does."""
    https = {"base_url": "https://lms.test"}
    client = app.test_client()
    user = make_user()
    same_site = {"Referer": "https://lms.test/auth/login"}
    token = csrf_token_in(client.get("/auth/login", **https).get_data(as_text=True))
    assert (
        client.post(
            "/auth/login",
            data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
            headers=same_site,
            **https,
        ).status_code
        == 303
    )
    token = csrf_token_in(client.get(f"/courses/{FLAGSHIP}", **https).get_data(as_text=True))
    started = client.post(
        f"/courses/{FLAGSHIP}/start",
        data={"path": "recording", "csrf_token": token},
        headers=same_site,
        **https,
    )
    enrollment_id = int(started.headers["Location"].rsplit("/", 1)[1])
    url = f"/learn/{enrollment_id}/outcome-1/reflection"
    token = csrf_token_in(client.get(url.rsplit("/", 1)[0], **https).get_data(as_text=True))
    form = {"body": FORTY_WORDS, "submit": "Submit", "csrf_token": token}
    for headers in (
        {"Referer": "https://evil.example/learn"},
        {"Referer": "http://lms.test/learn"},
        {},
    ):
        refused = client.post(url, data=form, headers=headers, **https)
        assert refused.status_code == 400, headers
        assert FORTY_WORDS in refused.get_data(as_text=True), "what was typed is kept on the page"
    with in_db() as db:
        assert db.scalar(select(Reflection)) is None, "nothing written with a cross-site Referer"
    accepted = client.post(
        url,
        data=form,
        headers={"Referer": f"https://lms.test/learn/{enrollment_id}/outcome-1"},
        **https,
    )
    assert accepted.status_code == 303
    with in_db() as db:
        assert db.scalar(select(Reflection.body)) == FORTY_WORDS
