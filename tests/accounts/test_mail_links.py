"""Links that leave the server come from the configured base URL, never from the request's Host
(docs/architecture.md, "Jobs"); an unknown Host is refused where TRUSTED_HOSTS is set; setup
writes both."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers.cohorts import completed_enrollment

BASE = "https://courses.example.org"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LMS_BASE_URL": BASE}


def _links(message: str) -> list[str]:
    return re.findall(r"https?://\S+", message)


def test_a_reset_requested_with_a_forged_host_mails_a_link_to_the_configured_site(
    client, make_user, mail_log
):
    make_user(email="victim@example.org")
    response = client.post(
        "/auth/reset", data={"email": "victim@example.org"}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 303
    [mail] = [m for m in mail_log() if "To: victim@example.org" in m]
    [link] = _links(mail)
    assert urlsplit(link).netloc == "courses.example.org" and urlsplit(link).scheme == "https"
    assert urlsplit(link).path.startswith("/auth/reset/")
    assert "evil.example" not in mail
    # The link works on the real site.
    assert client.get(urlsplit(link).path).status_code == 200


def test_welcome_and_existing_account_mail_link_to_the_configured_site(client, make_user, mail_log):
    make_user(email="owner@example.org")
    for email in ("newcomer@example.org", "owner@example.org"):
        response = client.post(
            "/auth/register",
            headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
            data={
                "display_name": "Someone",
                "email": email,
                "password": "a long enough password",
                "confirm": "a long enough password",
            },
        )
        assert response.status_code == 303
    mails = mail_log()
    links = [link for mail in mails for link in _links(mail)]
    assert (
        len([m for m in mails if "To: newcomer@example.org" in m]) == 1
        and len([m for m in mails if "To: owner@example.org" in m]) == 1
    )
    assert len(links) >= 4 and {urlsplit(link).netloc for link in links} == {"courses.example.org"}


def test_certificate_and_calendar_links_use_the_configured_site(app, make_user):
    from lms.accounts.models import User
    from lms.certificates import services
    from lms.db import db_session
    from lms.learning.models import Enrollment

    facilitator = make_user("facilitator")
    cohort_id, enrollment_id = completed_enrollment(app, facilitator, make_user())
    with app.test_request_context(headers={"Host": "evil.example"}):
        certificate = services.issue_certificate(
            db_session.get(Enrollment, enrollment_id), db_session.get(User, facilitator.id)
        ).certificate
        assert services.verify_url(certificate) == f"{BASE}/verify/{certificate.code}"
        db_session.rollback()
    calendar = (
        app.test_client()
        .get(f"/cohorts/{cohort_id}.ics", headers={"Host": "evil.example"})
        .get_data(as_text=True)
    )
    assert (
        f"{BASE}/cohorts/{cohort_id}" in calendar.replace("\r\n ", "")
        and "evil.example" not in calendar
    )


def test_without_a_base_url_links_follow_server_name_not_the_host(app, client, make_user, mail_log):
    app.config["LMS_BASE_URL"] = None  # the standalone fallback: PREFERRED_URL_SCHEME + SERVER_NAME
    make_user(email="victim@example.org")
    client.post(
        "/auth/reset", data={"email": "victim@example.org"}, headers={"Host": "evil.example"}
    )
    [link] = _links(next(m for m in mail_log() if "To: victim@example.org" in m))
    assert urlsplit(link).netloc == app.config["SERVER_NAME"] == "lms.test"


def test_a_base_url_under_a_path_keeps_the_path(app):
    from lms.links import external_url

    app.config["LMS_BASE_URL"] = "https://example.org/learning/"
    with app.app_context():
        assert external_url("lms_accounts.login") == "https://example.org/learning/auth/login"


def test_an_unknown_host_is_refused_where_trusted_hosts_are_set(app_config, tmp_path):
    import os

    from lms import create_app

    os.environ["LMS_INSTANCE_PATH"] = str(tmp_path / "trusted")
    try:
        guarded = create_app(
            {**app_config, "SERVER_NAME": None, "LMS_TRUSTED_HOSTS": ["courses.example.org"]}
        )
    finally:
        os.environ.pop("LMS_INSTANCE_PATH", None)
    assert guarded.config["TRUSTED_HOSTS"] == ["courses.example.org"]
    client = guarded.test_client()
    assert client.get("/auth/login", headers={"Host": "evil.example"}).status_code == 400
    assert (
        client.post(
            "/auth/reset", data={"email": "a@example.org"}, headers={"Host": "evil.example"}
        ).status_code
        == 400
    )
    assert client.get("/auth/login", headers={"Host": "courses.example.org"}).status_code == 200
    guarded.extensions["lms"].database.engine.dispose()


def test_setup_writes_the_base_url_and_trusted_hosts(runner, app):
    result = runner.invoke(args=["lms", "setup", "--base-url", "https://learn.example.org/"])
    assert result.exit_code == 0, result.output
    written: dict = {}
    exec((Path(app.instance_path) / "config.py").read_text(), written)
    assert written["LMS_BASE_URL"] == "https://learn.example.org"
    assert written["TRUSTED_HOSTS"] == ["learn.example.org"]
    assert written["SECRET_KEY"]
    # Served over HTTPS: both cookies go over HTTPS only.
    assert written["SESSION_COOKIE_SECURE"] is True and written["REMEMBER_COOKIE_SECURE"] is True


def test_setup_refuses_a_base_url_that_is_not_one(runner, app):
    result = runner.invoke(args=["lms", "setup", "--base-url", "learn.example.org"])
    assert result.exit_code != 0 and "not a base URL" in result.output
    assert not (Path(app.instance_path) / "config.py").exists()


def test_setup_adds_the_settings_to_an_older_config(runner, app):
    config = Path(app.instance_path) / "config.py"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("SECRET_KEY = 'kept'\n")
    app.config["LMS_BASE_URL"] = None
    result = runner.invoke(args=["lms", "setup"])
    assert result.exit_code == 0, result.output
    written: dict = {}
    exec(config.read_text(), written)
    assert written["SECRET_KEY"] == "kept" and written["LMS_BASE_URL"] == "http://127.0.0.1:5000"
    assert written["TRUSTED_HOSTS"] == ["127.0.0.1", "localhost"]
    # Plain HTTP on this machine (make run): secure cookies would never be sent back, so not set.
    assert "SESSION_COOKIE_SECURE" not in written and "REMEMBER_COOKIE_SECURE" not in written
