from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from lms.accounts.models import MIN_PASSWORD_LENGTH, User
from lms.cli import lms_group
from tests.helpers import COURSES_DIR
from tests.helpers.courses import write_course


def invoke(runner, *args: str):
    return runner.invoke(lms_group, list(args), catch_exceptions=False)


def test_courses_check_passes_the_shipped_courses(runner):
    result = invoke(runner, "courses", "check", str(COURSES_DIR))
    assert result.exit_code == 0, result.output
    assert "ok  esp-racial-justice-dialogue" in result.output


def test_courses_check_names_every_broken_file_without_a_traceback(runner, tmp_path):
    write_course(tmp_path, "good")
    write_course(tmp_path, "syntax", 'title = "open')
    write_course(tmp_path, "fields", 'slug = "fields"\ntitle = ""\n')
    result = runner.invoke(lms_group, ["courses", "check", str(tmp_path)])
    assert result.exit_code == 1
    output = result.output
    assert "Traceback" not in output
    assert "syntax/course.toml:1:" in output and "TOML syntax" in output
    assert "fields/course.toml:2:1: title:" in output
    assert "fields/course.toml: summary: is required" in output
    assert "ok  good" in output


def test_courses_schema_is_json_schema(runner):
    result = invoke(runner, "courses", "schema")
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"slug", "title", "steps", "paths"} <= set(schema["properties"])
    assert "watch" in json.dumps(schema)


def test_courses_sync_reports_counts(runner):
    result = invoke(runner, "courses", "sync")
    assert result.exit_code == 0
    assert "unchanged" in result.output


def test_users_create_makes_an_admin(runner, app):
    result = invoke(
        runner,
        "users",
        "create",
        "--email",
        "Boss@Example.org",
        "--name",
        "Boss",
        "--role",
        "admin",
        "--password",
        "a-long-password",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        from lms.db import db_session

        user = db_session.scalar(select(User).where(User.email == "boss@example.org"))
        assert user.is_admin and user.check_password("a-long-password")
    again = runner.invoke(
        lms_group,
        [
            "users",
            "create",
            "--email",
            "boss@example.org",
            "--name",
            "B",
            "--password",
            "a-long-password",
        ],
    )
    assert again.exit_code != 0 and "already exists" in again.output


def test_users_create_takes_the_same_password_length_as_the_site(runner, app):
    def create(email: str, password: str):
        return runner.invoke(
            lms_group,
            ["users", "create", "--email", email, "--name", "N", "--password", password],
        )

    short = create("short@example.org", "p" * (MIN_PASSWORD_LENGTH - 1))
    assert short.exit_code != 0
    assert f"at least {MIN_PASSWORD_LENGTH} characters" in short.output
    enough = create("enough@example.org", "p" * MIN_PASSWORD_LENGTH)
    assert enough.exit_code == 0, enough.output
    with app.app_context():
        from lms.db import db_session

        emails = set(db_session.scalars(select(User.email)))
    assert "enough@example.org" in emails and "short@example.org" not in emails


def test_setup_writes_a_secret_and_creates_the_first_admin_once(runner, app):
    result = invoke(runner, "setup")
    assert result.exit_code == 0, result.output
    config = Path(app.instance_path) / "config.py"
    assert "SECRET_KEY = '" in config.read_text()
    assert "password:" in result.output
    password = result.output.split("password:")[1].split()[0]
    with app.app_context():
        from lms.db import db_session

        admin = db_session.scalar(select(User).where(User.is_admin.is_(True)))
        assert admin.check_password(password)
    second = invoke(runner, "setup")
    assert "password:" not in second.output
    assert config.read_text() == config.read_text()


def test_demo_loads_people_and_cohorts_once(runner, app):
    from lms.cohorts.models import Cohort
    from lms.learning.models import Enrollment, EnrollmentStatus

    result = invoke(runner, "demo")
    assert result.exit_code == 0, result.output
    assert "facilitator@example.org" in result.output
    with app.app_context():
        from lms.db import db_session

        assert len(db_session.scalars(select(Cohort)).all()) == 2
        statuses = sorted(e.status for e in db_session.scalars(select(Enrollment)))
        assert statuses.count(EnrollmentStatus.waitlisted) == 1
    again = invoke(runner, "demo")
    assert "nothing to add" in again.output
