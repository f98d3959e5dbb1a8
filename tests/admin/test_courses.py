from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEvent
from lms.courses.models import Course, CourseStatus
from tests.helpers.courses import VALID, write_course


@pytest.fixture
def courses_dir(tmp_path: Path) -> Path:
    root = tmp_path / "courses"
    write_course(root, "good-course")
    write_course(
        root,
        "broken-course",
        VALID.format(slug="broken-course").replace('title = "A valid course"', 'title = ""'),
    )
    write_course(root, "syntax-course", 'slug = "syntax-course"\ntitle = "open')
    return root


@pytest.fixture
def app_config(app_config, courses_dir):
    return {**app_config, "LMS_COURSES_DIR": str(courses_dir)}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_course_page_shows_rows_and_every_file_error(make_user, login_as):
    html = login_as(make_user("admin")).get("/admin/courses").get_data(as_text=True)
    text = text_of(html)
    assert "good-course" in text and "A valid course" in text
    assert re.search(r"broken-course/course\.toml:\d+:\d+: title: ", text), text
    assert re.search(r"syntax-course/course\.toml:\d+:\d+: ", text)
    assert "2 problems" in text
    assert "Sync now" in text and 'action="/admin/courses/sync"' in html


def test_sync_now_runs_the_catalog_sync(make_user, login_as, db, courses_dir):
    admin = make_user("admin")
    client = login_as(admin)
    write_course(courses_dir, "new-course")
    shutil.rmtree(courses_dir / "good-course")
    response = client.post("/admin/courses/sync", follow_redirects=True)
    text = text_of(response.get_data(as_text=True))
    assert "1 added" in text and "1 retired" in text and "2 problem(s)" in text
    rows = {row.slug: row for row in db.scalars(select(Course))}
    assert rows["new-course"].status is CourseStatus.active
    assert rows["good-course"].status is CourseStatus.retired
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "courses.synced"))
    assert (
        event.actor_id == admin.id
        and event.target_type == "catalog"
        and event.details["added"] == ["new-course"]
    )
    assert "Retired" in text
