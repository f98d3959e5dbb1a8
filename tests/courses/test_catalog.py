from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from lms.courses.catalog import CourseCatalog
from lms.courses.models import Course, CourseStatus
from lms.learning.models import Enrollment, LearningPath
from tests.helpers.courses import VALID, write_course


@pytest.fixture
def courses_root(tmp_path):
    root = tmp_path / "courses"
    root.mkdir()
    write_course(root, "alpha")
    write_course(root, "beta")
    return root


def rows(db) -> dict[str, Course]:
    return {row.slug: row for row in db.scalars(select(Course))}


def test_sync_adds_then_leaves_unchanged_courses_alone(db, courses_root):
    catalog = CourseCatalog(courses_root)
    first = catalog.sync(db)
    db.commit()
    assert sorted(first.added) == ["alpha", "beta"]
    synced_at = rows(db)["alpha"].synced_at
    second = catalog.sync(db)
    db.commit()
    assert (
        second.added == []
        and second.updated == []
        and sorted(second.unchanged) == ["alpha", "beta"]
    )
    assert rows(db)["alpha"].synced_at == synced_at, "an unchanged course is not re-written"


def test_a_changed_file_bumps_the_version(db, courses_root):
    catalog = CourseCatalog(courses_root)
    catalog.sync(db)
    (courses_root / "alpha" / "course.toml").write_text(
        VALID.format(slug="alpha").replace("A valid course", "Alpha, revised")
    )
    report = catalog.sync(db)
    db.commit()
    assert report.updated == ["alpha"]
    row = rows(db)["alpha"]
    assert (row.title, row.version) == ("Alpha, revised", 2)


def test_a_removed_course_is_retired_and_keeps_its_records(db, courses_root, make_user):
    learner = make_user()
    catalog = CourseCatalog(courses_root)
    catalog.sync(db)
    alpha = rows(db)["alpha"]
    db.add(Enrollment(user_id=learner.id, course_id=alpha.id, path=LearningPath.recording))
    db.commit()

    shutil.rmtree(courses_root / "alpha")
    report = catalog.sync(db)
    db.commit()
    assert report.retired == ["alpha"]
    assert rows(db)["alpha"].status is CourseStatus.retired
    assert db.scalar(select(Enrollment).where(Enrollment.course_id == alpha.id)) is not None
    assert catalog.get("alpha") is None

    write_course(courses_root, "alpha")
    report = catalog.sync(db)
    assert report.reactivated == ["alpha"]
    assert rows(db)["alpha"].status is CourseStatus.active


def test_a_broken_file_keeps_its_last_good_row_active(db, courses_root):
    catalog = CourseCatalog(courses_root)
    catalog.sync(db)
    (courses_root / "beta" / "course.toml").write_text("broken = = toml")
    report = catalog.sync(db)
    assert report.retired == []
    assert len(report.problems) == 1
    assert rows(db)["beta"].status is CourseStatus.active
    assert [c.slug for c in catalog.all()] == ["alpha"]
