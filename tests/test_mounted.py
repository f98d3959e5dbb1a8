"""The engine mounted in a host app under a prefix: every URL is the standalone one under the
mount point, and a learner's whole journey works there, with the engine's login or the host's."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_login import LoginManager
from sqlalchemy import select

from lms import LMS
from lms.learning.models import Enrollment, EnrollmentStatus, Reflection, ReflectionStatus
from tests.helpers import COURSES_DIR
from tests.helpers.learning import FLAGSHIP, FORTY_WORDS, text_of

PREFIX = "/learn"
PASSWORD = "a long enough password"


def _host(database_url: str, tmp_path: Path, *, own_login: bool) -> Flask:
    host = Flask("host", instance_path=str(tmp_path / "host-instance"))
    host.config.update(
        SECRET_KEY="host-secret",
        TESTING=True,
        SERVER_NAME="host.test",
        LMS_DATABASE_URL=database_url,
        LMS_COURSES_DIR=str(COURSES_DIR),
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
    )

    @host.get("/")
    def host_home():
        return "the host's own home page"

    if own_login:
        # What docs/interfaces.md asks of a host with its own Flask-Login: its user loader
        # returns the engine's people for their ids, and a sign-in page is named.
        from lms.accounts.services import load_user

        manager = LoginManager(host)
        manager.login_view = "lms_accounts.login"
        host.config["HOST_LOADER_CALLS"] = 0

        @manager.user_loader
        def host_loader(user_id: str):
            host.config["HOST_LOADER_CALLS"] += 1
            return load_user(user_id)

    LMS(host, url_prefix=PREFIX)
    with host.app_context():
        from lms.db import db_session
        from lms.state import lms_state

        lms_state().catalog.sync(db_session)
        db_session.commit()
    return host


@pytest.fixture(params=["engine-login", "host-login"])
def host(request, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = _host(database_url, tmp_path, own_login=request.param == "host-login")
    yield application
    application.extensions["lms"].database.engine.dispose()


def _rules(application: Flask) -> set[tuple[str, str, frozenset[str]]]:
    return {
        (rule.endpoint, rule.rule, frozenset(rule.methods or ()))
        for rule in application.url_map.iter_rules()
        if rule.endpoint.startswith("lms")
    }


def test_every_url_is_the_standalone_one_under_the_mount_point(app, host):
    standalone = _rules(app)
    mounted = _rules(host)
    assert standalone, "the standalone app has routes"
    assert mounted == {(endpoint, PREFIX + rule, methods) for endpoint, rule, methods in standalone}
    with host.test_request_context():
        from flask import url_for

        assert url_for("lms_accounts.login") == "/learn/auth/login"
        assert url_for("lms_accounts.register") == "/learn/auth/register"
        assert url_for("lms_courses.catalog") == "/learn/"


def test_the_learner_journey_through_a_host_app(host, caplog):
    caplog.set_level(logging.INFO, logger="lms")
    client = host.test_client()
    assert client.get("/").get_data(as_text=True) == "the host's own home page"
    assert client.get("/auth/login").status_code == 404, (
        "the engine's pages live under the mount point only"
    )

    # Signing up.
    form = client.get("/learn/auth/register")
    assert form.status_code == 200 and 'href="/learn/auth/login"' in form.get_data(as_text=True)
    response = client.post(
        "/learn/auth/register",
        data={
            "display_name": "Mía Host",
            "email": "mia@example.org",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]

    # The confirmation link in the welcome mail points under the mount point.
    from lms.jobs import wait_for_jobs

    wait_for_jobs(host)  # account mail goes out through a job after the request
    welcome = next(
        record.getMessage()
        for record in caplog.records
        if "Your account is ready" in record.getMessage()
    )
    link = re.search(r"http://host\.test(/learn/auth/confirm/\S+)", welcome)
    assert link, welcome

    # Signing in, then confirming.
    assert client.get("/learn/auth/login").status_code == 200
    response = client.post(
        "/learn/auth/login", data={"email": "mia@example.org", "password": PASSWORD}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/learn/me")
    confirmed = client.get(link.group(1))
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith("/learn/me")
    assert "is confirmed" in client.get("/learn/me").get_data(as_text=True)

    # A recording, played to the end.
    course = client.get(f"/learn/courses/{FLAGSHIP}").get_data(as_text=True)
    assert f'action="/learn/courses/{FLAGSHIP}/start"' in course
    started = client.post(f"/learn/courses/{FLAGSHIP}/start", data={"path": "recording"})
    assert started.status_code == 303
    enrollment_id = int(re.search(r"/learn/learn/(\d+)$", started.headers["Location"]).group(1))
    page = client.get(f"/learn/learn/{enrollment_id}/recording").get_data(as_text=True)
    assert f'data-progress-url="/learn/learn/{enrollment_id}/recording/progress"' in page
    assert f'src="/learn/courses/{FLAGSHIP}/media/recording.mp4"' in page
    for start_at in range(0, 30, 6):
        played = client.post(
            f"/learn/learn/{enrollment_id}/recording/progress",
            json={"segments": [[start_at, start_at + 6]], "duration": 30},
        )
        assert played.status_code == 200, played.get_data(as_text=True)[:300]
    assert played.get_json()["done"]

    # Reflections.
    for prompt in ("outcome-1", "outcome-2", "outcome-3"):
        reflection = client.post(
            f"/learn/learn/{enrollment_id}/{prompt}/reflection",
            data={"body": FORTY_WORDS, "submit": "Submit"},
        )
        assert reflection.status_code == 303, reflection.get_data(as_text=True)[:300]
        assert reflection.headers["Location"].startswith(("/learn/", "http://host.test/learn/"))

    with host.app_context():
        from lms.db import db_session

        enrollment = db_session.get(Enrollment, enrollment_id)
        assert enrollment.status is EnrollmentStatus.completed
        submitted = db_session.scalars(
            select(Reflection).where(Reflection.enrollment_id == enrollment_id)
        ).all()
        assert len(submitted) == 3 and all(
            r.status is ReflectionStatus.submitted for r in submitted
        )

    # My learning.
    dashboard = client.get("/learn/me")
    assert dashboard.status_code == 200
    text = text_of(dashboard.get_data(as_text=True))
    assert "Recordings (informational, ungraded)" in text
    assert f'href="/learn/learn/{enrollment_id}"' in dashboard.get_data(as_text=True)

    # Signing out, and a page that needs a sign-in sends the visitor to the mounted sign-in page.
    assert client.post("/learn/auth/logout").status_code in (302, 303)
    away = client.get("/learn/me")
    assert away.status_code == 302 and "/learn/auth/login" in away.headers["Location"]
    if "HOST_LOADER_CALLS" in host.config:
        assert host.config["HOST_LOADER_CALLS"] > 0, (
            "the host's own user loader signed the learner in"
        )
