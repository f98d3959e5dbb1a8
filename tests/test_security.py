from __future__ import annotations

import os
import re
import socket
from urllib.parse import urlsplit

import pytest

from tests.helpers import TEST_PASSWORD, csrf_token_in
from tests.helpers.learning import FLAGSHIP


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "LMS_LOGIN_RATE_LIMIT": "5 per minute"}


def test_login_is_rate_limited(client, make_user):
    user = make_user()
    statuses = [
        client.post("/auth/login", data={"email": user.email, "password": "wrong"}).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [422] * 5
    assert statuses[5:] == [429, 429]
    page = client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert page.status_code == 429, "the right password does not bypass the limit"
    assert "Too many attempts" in page.get_data(as_text=True)


def test_a_limit_for_every_request_set_by_the_app_still_applies(app_config):
    from lms import create_app

    limited = create_app({**app_config, "RATELIMIT_DEFAULT": "2 per minute"})
    client = limited.test_client()
    assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
    # The default belonged to that app's limiter: a second app in this process has none.
    other = create_app(app_config).test_client()
    assert [other.get("/").status_code for _ in range(3)] == [200, 200, 200]


def test_two_apps_in_one_process_do_not_share_limits(app_config, make_user):
    from lms import create_app
    from lms.security import limiter_of

    user = make_user()
    first, second = create_app(app_config), create_app(app_config)
    assert limiter_of(first) is not limiter_of(second)
    wrong = {"email": user.email, "password": "wrong"}
    assert [first.test_client().post("/auth/login", data=wrong).status_code for _ in range(6)] == [
        422
    ] * 5 + [429]
    assert second.test_client().post("/auth/login", data=wrong).status_code == 422, (
        "the other app counts on its own"
    )


def test_unknown_email_and_wrong_password_answer_alike(client, make_user):
    user = make_user()
    wrong_password = client.post("/auth/login", data={"email": user.email, "password": "nope"})
    unknown_email = client.post(
        "/auth/login", data={"email": "nobody@example.org", "password": "nope"}
    )
    assert wrong_password.status_code == unknown_email.status_code == 422

    def page(response, email: str) -> str:
        # A CSRF token is signed with the second it was made: two pages a tick apart differ there.
        return re.sub(
            r'(name="csrf_token"[^>]*value=")[^"]+', r"\1TOKEN", response.get_data(as_text=True)
        ).replace(email, "X")

    assert page(wrong_password, user.email) == page(unknown_email, "nobody@example.org")


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_no_open_redirect_after_login(client, make_user, target):
    user = make_user()
    response = client.post(
        "/auth/login", data={"email": user.email, "password": TEST_PASSWORD, "next": target}
    )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "evil.example" not in location and "javascript" not in location


def test_local_next_is_followed_after_login(client, make_user):
    user = make_user()
    response = client.post(
        "/auth/login",
        data={
            "email": user.email,
            "password": TEST_PASSWORD,
            "next": "/courses/esp-racial-justice-dialogue",
        },
    )
    assert response.headers["Location"].endswith("/courses/esp-racial-justice-dialogue")


def test_session_cookie_is_httponly_and_samesite(client, make_user, app):
    user = make_user()
    response = client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD})
    cookie = next(
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith(app.config["SESSION_COOKIE_NAME"] + "=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_oversized_request_is_refused_clearly(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/language", data={"locale": "x" * 5000})
    assert response.status_code == 413
    assert "larger than we accept" in response.get_data(as_text=True)


class TestWithCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_a_form_post_without_a_token_is_refused(self, client, make_user):
        user = make_user()
        response = client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 400
        assert "session expired" in response.get_data(as_text=True)

    def test_every_post_route_refuses_a_cross_site_referer_over_https(self, app, make_user):
        """Behind TLS a valid token is not enough: the Referer must be this site (Flask-WTF's
        strict check), on every state-changing route, the ones that run the check themselves
        included. (Signed out, the language switch needs no token: see lms.courses.views.)"""
        https = {"base_url": "https://lms.test"}
        same_site = {"Referer": "https://lms.test/"}
        client = app.test_client()
        admin = make_user("admin")
        token = csrf_token_in(client.get("/auth/login", **https).get_data(as_text=True))
        assert (
            client.post(
                "/auth/login",
                data={"email": admin.email, "password": TEST_PASSWORD, "csrf_token": token},
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
        values = {
            "enrollment_id": started.headers["Location"].rsplit("/", 1)[1],
            "step_id": "outcome-1",
            "slug": FLAGSHIP,
        }
        argument = re.compile(r"<(?:[^:>]+:)?([^>]+)>")
        posts = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]
        assert len(posts) > 20
        for rule in posts:
            path = argument.sub(lambda m: str(values.get(m[1], 1)), rule.rule)
            response = client.post(
                path,
                data={"csrf_token": token, "body": "x", "submit": "Submit"},
                headers={"Referer": "https://evil.example/"},
                **https,
            )
            assert response.status_code == 400, f"{path}: {response.status_code}"
        assert client.get("/me", **https).status_code == 200, (
            "still signed in: the sign-out was refused too"
        )

    def test_a_json_post_without_a_token_is_refused_with_json(self, client):
        response = client.post("/auth/login", json={"email": "a@example.org"})
        assert response.status_code == 400
        assert response.get_json() == {"error": 400, "reason": "csrf"}

    def test_signed_out_pages_set_no_cookie(self, client):
        # Their one form, the language switch, needs no token signed out: no session to keep.
        for path in ("/", "/courses/esp-racial-justice-dialogue", "/verify"):
            response = client.get(path)
            assert response.status_code == 200
            assert not response.headers.getlist("Set-Cookie"), path
            assert 'name="csrf_token"' not in response.get_data(as_text=True), path

    def test_signed_out_language_switch_needs_no_token(self, client):
        response = client.post("/language", data={"locale": "es", "next": "/"})
        assert response.status_code == 303
        assert '<html lang="es">' in client.get("/").get_data(as_text=True)

    def test_signed_in_language_switch_checks_its_token(self, client, make_user, in_db):
        user = make_user(locale="en")
        token = csrf_token_in(client.get("/auth/login").get_data(as_text=True))
        assert (
            client.post(
                "/auth/login",
                data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
            ).status_code
            == 303
        )
        assert client.post("/language", data={"locale": "es"}).status_code == 400
        with in_db() as db:
            assert db.get(type(user), user.id).locale == "en"
        page = client.get("/me").get_data(as_text=True)
        token = csrf_token_in(page)
        assert (
            client.post("/language", data={"locale": "es", "csrf_token": token}).status_code == 303
        )
        with in_db() as db:
            assert db.get(type(user), user.id).locale == "es"


# A Redis database the tests may write to (keys under a random prefix, which expire on their own).
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_available() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=0.3
        ):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_available(), reason=f"no Redis at {REDIS_URL}")
class TestRedisRateLimitStorage:
    @pytest.fixture
    def app_config(self, app_config):
        import uuid

        pytest.importorskip("redis")
        return {
            **app_config,
            "RATELIMIT_ENABLED": True,
            "LMS_LOGIN_RATE_LIMIT": "3 per minute",
            "LMS_RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex,
        }

    def test_limits_are_shared_through_redis(self, app, make_user):
        user = make_user()
        first, second = app.test_client(), app.test_client()
        for _ in range(3):
            first.post("/auth/login", data={"email": user.email, "password": "wrong"})
        # A second client from the same address (another app server would see the same store).
        assert (
            second.post("/auth/login", data={"email": user.email, "password": "wrong"}).status_code
            == 429
        )
        import redis

        store = redis.Redis.from_url(REDIS_URL)
        assert store.keys("*" + app.config["RATELIMIT_KEY_PREFIX"] + "*"), (
            "the counters live in Redis, not in process memory"
        )

    def test_failed_sign_ins_per_account_are_counted_by_every_server_alike(
        self, app_config, make_user
    ):
        """Two apps standing for two workers (or servers), configured with LMS_REDIS_URL alone:
        the failures each sees for one account add up, whatever addresses they came from."""
        from limits.storage import RedisStorage

        from lms import create_app
        from lms.security import limiter_of

        config = {
            key: value for key, value in app_config.items() if key != "LMS_RATELIMIT_STORAGE_URI"
        }
        config.update(
            {
                "LMS_REDIS_URL": REDIS_URL,
                "LMS_LOGIN_RATE_LIMIT": "100 per minute",
                "LMS_LOGIN_ACCOUNT_RATE_LIMIT": "4 per 15 minutes",
            }
        )
        workers = [create_app(config), create_app(config)]
        assert all(isinstance(limiter_of(worker).storage, RedisStorage) for worker in workers)
        user = make_user()
        statuses = []
        for n in range(6):
            worker = workers[n % 2].test_client()
            response = worker.post(
                "/auth/login",
                data={"email": user.email, "password": "wrong"},
                environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
            )
            statuses.append(response.status_code)
        assert statuses == [422] * 4 + [429, 429], "each worker alone saw only two or three"


def test_an_anonymous_visitor_session_is_set_once(client):
    """A visitor's session (here, a chosen language) is written when it changes, then left alone."""
    chosen = client.post("/language", data={"locale": "es"})
    assert any(cookie.startswith("lms_session=") for cookie in chosen.headers.getlist("Set-Cookie"))
    for path in ("/", "/courses/esp-racial-justice-dialogue"):
        assert client.get(path).headers.getlist("Set-Cookie") == [], path


def test_a_signed_in_session_is_bound_to_its_browser(client, make_user):
    """Flask-Login's strong protection: the same session cookie from another browser is signed out."""
    user = make_user()
    browser = {"User-Agent": "Browser A"}
    client.post(
        "/auth/login", data={"email": user.email, "password": TEST_PASSWORD}, headers=browser
    )
    assert client.get("/me", headers=browser).status_code == 200
    stolen = client.get("/me", headers={"User-Agent": "Browser B"})
    assert stolen.status_code in (302, 303) and "/auth/login" in stolen.headers["Location"]
