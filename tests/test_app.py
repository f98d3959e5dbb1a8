from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from lms import LMS, create_app
from tests.helpers import COURSES_DIR, login


def test_catalog_lists_the_shipped_courses(client):
    page = client.get("/").get_data(as_text=True)
    assert "A Dialogue with ESPs about Racial Justice in Education" in page
    assert "Social Justice Training Program" in page
    assert "Community Partnerships for Student Success" in page


def test_security_headers_forbid_inline_script(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)


def test_extension_refuses_a_second_registration(app):
    with pytest.raises(RuntimeError, match="already registered"):
        LMS(app)


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/courses/no-such-course")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_addresses_follow_where_the_app_is_served_from(client):
    # Kept HTML holds addresses (lms.web.served_at): the same app behind two mount points
    # (SCRIPT_NAME) must never serve one's links to the other.
    for root in ("", "/one", "/two", ""):
        page = client.get("/", base_url=f"http://lms.test{root}").get_data(as_text=True)
        assert f'href="{root}/static/lms-assets/lms/app.css"' in page
        assert f'href="{root}/courses/esp-racial-justice-dialogue"' in page
        assert f'action="{root}/language"' in page


def test_mounted_under_a_prefix_in_a_host_app(database_url, tmp_path):
    host = Flask("host", instance_path=str(tmp_path / "host-instance"))
    host.config.update(
        SECRET_KEY="host-secret",
        TESTING=True,
        SERVER_NAME="host.test",
        LMS_DATABASE_URL=database_url,
        LMS_COURSES_DIR=str(COURSES_DIR),
        WTF_CSRF_ENABLED=False,
    )

    @host.get("/")
    def host_home():
        return "the host's own home page"

    LMS().init_app(host, url_prefix="/learn")
    client = host.test_client()
    assert client.get("/").get_data(as_text=True) == "the host's own home page"
    catalog = client.get("/learn/")
    assert catalog.status_code == 200
    page = catalog.get_data(as_text=True)
    assert 'href="/learn/courses/esp-racial-justice-dialogue"' in page
    assert 'href="/learn/static/lms-assets/lms/app.css"' in page
    course = client.get("/learn/courses/esp-racial-justice-dialogue")
    assert course.status_code == 200
    assert client.get("/learn/static/lms-assets/lms/app.css").status_code == 200
    # The host's own responses are not given the engine's headers.
    assert "Content-Security-Policy" not in client.get("/").headers
    host.extensions["lms"].database.engine.dispose()


def test_an_app_without_a_secret_key_refuses_to_serve(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(
        {"LMS_DATABASE_URL": database_url, "LMS_COURSES_DIR": str(COURSES_DIR)}
    )
    response = application.test_client().get("/")
    assert response.status_code == 503
    assert "SECRET_KEY" in response.get_data(as_text=True)
    application.extensions["lms"].database.engine.dispose()


def test_instance_config_and_environment_override_defaults(tmp_path, monkeypatch, database_url):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        "SECRET_KEY = 'from-instance'\nLMS_SITE_NAME = 'From instance'\n"
    )
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("LMS_PAGE_SIZE", "17")
    monkeypatch.setenv("LMS_DATABASE_URL", database_url)
    application = create_app()
    assert application.config["SECRET_KEY"] == "from-instance"
    assert application.config["LMS_SITE_NAME"] == "From instance"
    assert application.config["LMS_PAGE_SIZE"] == 17
    application.extensions["lms"].database.engine.dispose()


def test_a_failing_request_leaves_nothing_written(app, client):
    from sqlalchemy import func, select

    from lms.accounts.models import User
    from lms.db import db_session

    @app.get("/boom-after-write")
    def boom():
        db_session.add(User(email="half@example.org", display_name="Half written"))
        db_session.flush()
        raise RuntimeError("fails mid-way")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom-after-write")
    assert response.status_code == 500
    assert "Nothing was saved" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db_session.scalar(
                select(func.count()).select_from(User).where(User.email == "half@example.org")
            )
            == 0
        )


def test_a_failed_flush_still_gets_the_error_page_when_signed_in(app, make_user, login_as):
    """A database error leaves the session needing a rollback; the error page loads the signed-in
    person (their language), so it must roll back first or fail itself (found by bench/load.py)."""
    from flask_login import current_user

    from lms.accounts.models import User
    from lms.db import db_session

    @app.get("/boom-on-flush")
    def boom():
        db_session.add(User(email=current_user.email, display_name="The same address again"))
        db_session.flush()  # IntegrityError: the address is taken

    client = login_as(make_user())
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom-on-flush")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "<html" in body and "Something went wrong" in body and "Nothing was saved" in body


def test_package_data_includes_templates_and_migrations():
    package = Path(__file__).resolve().parent.parent / "lms"
    assert (package / "templates" / "lms" / "base.html").exists()
    assert any((package / "migrations" / "versions").glob("*.py"))


def test_the_header_links_each_person_to_what_they_may_open(app, make_user):
    anonymous = app.test_client().get("/").get_data(as_text=True)
    assert (
        'href="/auth/login"' in anonymous
        and 'href="/auth/register"' in anonymous
        and 'href="/me"' not in anonymous
    )
    for role, expected, hidden in (
        ("learner", ['href="/me"'], ['href="/facilitate/"', 'href="/admin/"']),
        ("facilitator", ['href="/me"', 'href="/facilitate/"'], ['href="/admin/"']),
        ("admin", ['href="/me"', 'href="/facilitate/"', 'href="/admin/"'], []),
    ):
        client = app.test_client()
        login(client, make_user(role))
        header = client.get("/").get_data(as_text=True).split("</header>")[0]
        assert all(link in header for link in expected), role
        assert not any(link in header for link in hidden), role
        assert 'action="/auth/logout"' in header and 'href="/auth/login"' not in header
