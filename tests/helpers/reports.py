"""Report test data, bulk-inserted straight into the tables (no services, no ORM object per row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.cohorts.models import Attendance, Cohort, CohortFacilitator
from lms.courses.models import Course
from lms.learning.models import Enrollment, Reflection
from tests.helpers import TEST_PASSWORD_HASH

UTC = dt.UTC
START = dt.datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
AFFILIATES = ("Ohio", "Texas", "Maine")
AUDIENCE = ("education-support-professional", "teacher", "")
PATHS = ("live", "recording", "self_paced")


@dataclass
class Seeded:
    courses: dict[str, int]
    facilitators: dict[str, int]  # "ana", "zed"
    cohorts: dict[str, int]  # "a" (ESP, Ana + Zed), "b" (social justice, Zed only)
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    learners: list[int] = field(default_factory=list)


def course_ids(db) -> dict[str, int]:
    return dict(db.execute(select(Course.slug, Course.id)).all())


def seed(db, learners: int = 30, names: list[str] | None = None) -> Seeded:
    """``learners`` people, one enrollment each: paths cycle live/recording/self-paced.

    Live enrollments alternate between cohort "a" and "b". Every enrollment whose index is a
    multiple of 2 is completed (the others are in progress); completed live ones have a valid
    certificate. Every enrollment has 2 submitted reflections and 1 draft.
    """
    courses = course_ids(db)
    fac_ids = db.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {
                "email": "ana.facil@example.org",
                "display_name": "Ana Facil",
                "password_hash": TEST_PASSWORD_HASH,
                "is_facilitator": True,
            },
            {
                "email": "zed.facil@example.org",
                "display_name": "Zed Facil",
                "password_hash": TEST_PASSWORD_HASH,
                "is_facilitator": True,
            },
        ],
    ).all()
    facilitators = {"ana": fac_ids[0], "zed": fac_ids[1]}
    cohort_ids = db.scalars(
        insert(Cohort).returning(Cohort.id, sort_by_parameter_order=True),
        [
            {
                "course_id": courses["esp-racial-justice-dialogue"],
                "title": "ESP January",
                "starts_at": START,
                "time_zone": "America/New_York",
                "minutes": 60,
                "capacity": 1000,
            },
            {
                "course_id": courses["social-justice-training"],
                "title": "Justice February",
                "starts_at": START + dt.timedelta(days=31),
                "time_zone": "America/Chicago",
                "minutes": 90,
                "capacity": 1000,
            },
        ],
    ).all()
    cohorts = {"a": cohort_ids[0], "b": cohort_ids[1]}
    db.execute(
        insert(CohortFacilitator),
        [
            {"cohort_id": cohorts["a"], "user_id": facilitators["zed"]},
            {"cohort_id": cohorts["a"], "user_id": facilitators["ana"]},
            {"cohort_id": cohorts["b"], "user_id": facilitators["zed"]},
        ],
    )
    people = [
        {
            "email": f"learner{i:05d}@example.org",
            "display_name": names[i] if names and i < len(names) else f"Learner {i:05d}",
            "password_hash": TEST_PASSWORD_HASH,
            "affiliate": AFFILIATES[i % 3],
            "audience_role": AUDIENCE[i % 3] if i % 2 else AUDIENCE[(i // 2) % 3],
        }
        for i in range(learners)
    ]
    user_ids = (
        db.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), people).all()
        if people
        else []
    )
    rows = []
    for i, user_id in enumerate(user_ids):
        path = PATHS[i % 3]
        if path == "live":
            cohort = cohorts["a"] if (i // 3) % 2 == 0 else cohorts["b"]
            course = (
                courses["esp-racial-justice-dialogue"]
                if cohort == cohorts["a"]
                else courses["social-justice-training"]
            )
        elif path == "recording":
            cohort, course = None, courses["esp-racial-justice-dialogue"]
        else:
            cohort, course = None, courses["community-partnerships"]
        completed = i % 2 == 0
        enrolled = START - dt.timedelta(days=10) + dt.timedelta(hours=i)
        rows.append(
            {
                "user_id": user_id,
                "course_id": course,
                "path": path,
                "cohort_id": cohort,
                "status": "completed" if completed else "in_progress",
                "created_at": enrolled,
                "completed_at": START + dt.timedelta(days=i % 60) if completed else None,
            }
        )
    enrollment_ids = (
        db.scalars(
            insert(Enrollment).returning(Enrollment.id, sort_by_parameter_order=True), rows
        ).all()
        if rows
        else []
    )
    for row, eid in zip(rows, enrollment_ids, strict=True):
        row["id"] = eid
    attendance = [
        {
            "enrollment_id": row["id"],
            "status": "present" if row["status"] == "completed" else "absent",
            "minutes": 60 if row["status"] == "completed" else 0,
        }
        for row in rows
        if row["path"] == "live"
    ]
    if attendance:
        db.execute(insert(Attendance), attendance)
    reflections = [
        {
            "enrollment_id": row["id"],
            "prompt_id": f"p{n}",
            "body": "words",
            "status": "submitted" if n < 2 else "draft",
            "submitted_at": START if n < 2 else None,
            "word_count": 1,
        }
        for row in rows
        for n in range(3)
    ]
    if reflections:
        db.execute(insert(Reflection), reflections)
    certificates = [
        {
            "code": f"CERT-{row['id']:06d}",
            "enrollment_id": row["id"],
            "learner_name": "x",
            "course_title": "x",
            "hours": 1.0,
            "session_date": START.date(),
            "facilitator_name": "Ana Facil",
            "organisation": "NEA",
            "locale": "en",
        }
        for row in rows
        if row["path"] == "live" and row["status"] == "completed"
    ]
    if certificates:
        db.execute(insert(Certificate), certificates)
    db.commit()
    return Seeded(
        courses=courses,
        facilitators=facilitators,
        cohorts=cohorts,
        enrollments=rows,
        learners=list(user_ids),
    )
