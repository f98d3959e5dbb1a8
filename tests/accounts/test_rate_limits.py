from __future__ import annotations

import pytest

from tests.helpers import TEST_PASSWORD


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "LMS_ACCOUNT_RATE_LIMIT": "2 per minute"}


def test_registration_and_reset_requests_are_rate_limited(client):
    for _ in range(2):
        assert client.post("/auth/reset", data={"email": "someone@example.org"}).status_code == 303
    assert client.post("/auth/reset", data={"email": "someone@example.org"}).status_code == 429
    for n in range(2):
        response = client.post(
            "/auth/register",
            data={
                "display_name": "X",
                "email": f"x{n}@example.org",
                "password": "long enough password",
                "confirm": "long enough password",
            },
        )
        assert response.status_code == 303
    response = client.post(
        "/auth/register",
        data={
            "display_name": "X",
            "email": "x9@example.org",
            "password": "long enough password",
            "confirm": "long enough password",
        },
    )
    assert response.status_code == 429
    assert client.get("/auth/register").status_code == 200, "only sending is limited"


class TestFailedSignInsPerAccount:
    """Guessing one account's password from many client addresses is slowed all the same."""

    @pytest.fixture
    def app_config(self, app_config):
        # Per address, plenty; per account, three failures in 15 minutes.
        return {
            **app_config,
            "LMS_LOGIN_RATE_LIMIT": "100 per minute",
            "LMS_LOGIN_ACCOUNT_RATE_LIMIT": "3 per 15 minutes",
        }

    @staticmethod
    def sign_in(client, email: str, password: str, address: str):
        return client.post(
            "/auth/login",
            data={"email": email, "password": password},
            environ_base={"REMOTE_ADDR": address},
        )

    def test_failures_from_many_addresses_lock_the_account_for_a_while(self, client, make_user):
        user, other = make_user(), make_user()
        statuses = [
            self.sign_in(client, user.email, "wrong", f"198.51.100.{n}").status_code
            for n in range(1, 6)
        ]
        assert statuses == [422, 422, 422, 429, 429], "every try from a new address"
        locked = self.sign_in(client, user.email, TEST_PASSWORD, "203.0.113.7")
        assert locked.status_code == 429, (
            "the right password waits too: the guesser cannot tell it was right"
        )
        # Not for good: the answer says when to come back, within the limit's window.
        assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
        # Another account from the same addresses is not affected.
        assert self.sign_in(client, other.email, "wrong", "198.51.100.1").status_code == 422
        assert self.sign_in(client, other.email, TEST_PASSWORD, "198.51.100.2").status_code == 303

    def test_an_unknown_address_is_limited_like_an_account(self, client):
        statuses = [
            self.sign_in(client, "Nobody@Example.org ", "wrong", f"198.51.100.{n}").status_code
            for n in range(1, 5)
        ]
        assert statuses == [422, 422, 422, 429], (
            "no difference that would tell whether the account exists"
        )

    def test_signing_in_does_not_use_up_the_limit(self, make_user, app):
        user = make_user()
        for n in range(5):
            fresh = app.test_client()
            assert (
                self.sign_in(fresh, user.email, TEST_PASSWORD, f"198.51.100.{n}").status_code == 303
            )
        assert (
            self.sign_in(app.test_client(), user.email, "wrong", "198.51.100.9").status_code == 422
        )
