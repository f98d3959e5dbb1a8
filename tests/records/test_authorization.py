"""The records area's routes against each kind of visitor, with answers specific to this area:
a learner's transcript and evaluation are theirs alone, results belong to the cohort's staff."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select

from lms.cohorts.models import Cohort, CohortFacilitator
from lms.courses.models import Course
from lms.learning.models import Enrollment
from tests.helpers import login

ROLES = ("anonymous", "learner", "other_learner", "other_facilitator", "facilitator", "admin")
# (method, url, answers in ROLES order); 302 = to sign-in
ROUTES = [
    ("GET", "/me/transcript", (302, 200, 200, 200, 200, 200)),
    ("GET", "/me/transcript.csv", (302, 200, 200, 200, 200, 200)),
    ("GET", "/me/transcript.pdf", (302, 200, 200, 200, 200, 200)),
    ("GET", "/verify/transcripts/{transcript}", (200, 200, 200, 200, 200, 200)),
    ("GET", "/learn/{enrollment}/evaluation", (302, 200, 404, 404, 404, 404)),
    ("POST", "/learn/{enrollment}/evaluation", (302, 422, 404, 404, 404, 404)),
    ("GET", "/facilitate/cohorts/{cohort}/evaluation", (302, 403, 403, 404, 200, 200)),
    ("GET", "/admin/evaluations", (302, 403, 403, 403, 403, 200)),
    ("GET", "/admin/reports/credits.csv", (302, 403, 403, 403, 403, 200)),
    ("GET", "/admin/reports/credits.xlsx", (302, 403, 403, 403, 403, 200)),
    ("GET", "/facilitate/reports/credits.csv", (302, 403, 403, 200, 200, 200)),
    ("GET", "/facilitate/reports/credits.xlsx", (302, 403, 403, 200, 200, 200)),
]


@pytest.fixture
def world(app, make_user):
    from lms.db import db_session
    from lms.records.models import Transcript
    from lms.records.services import TranscriptContent

    people = {
        role: make_user(
            {
                "anonymous": "learner",
                "other_learner": "learner",
                "other_facilitator": "facilitator",
            }.get(role, role)
        )
        for role in ROLES[1:]
    }
    with app.app_context():
        course_id = db_session.scalar(
            select(Course.id).where(Course.slug == "esp-racial-justice-dialogue")
        )
        cohort_id = db_session.scalar(
            insert(Cohort).returning(Cohort.id),
            {
                "course_id": course_id,
                "title": "A",
                "starts_at": dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                "time_zone": "UTC",
                "minutes": 60,
                "capacity": 5,
            },
        )
        other_cohort = db_session.scalar(
            insert(Cohort).returning(Cohort.id),
            {
                "course_id": course_id,
                "title": "B",
                "starts_at": dt.datetime.now(dt.UTC),
                "time_zone": "UTC",
                "minutes": 60,
                "capacity": 5,
            },
        )
        db_session.execute(
            insert(CohortFacilitator),
            [
                {"cohort_id": cohort_id, "user_id": people["facilitator"].id},
                {"cohort_id": other_cohort, "user_id": people["other_facilitator"].id},
            ],
        )
        enrollment_id = db_session.scalar(
            insert(Enrollment).returning(Enrollment.id),
            {
                "user_id": people["learner"].id,
                "course_id": course_id,
                "path": "live",
                "cohort_id": cohort_id,
                "status": "completed",
                "completed_at": dt.datetime.now(dt.UTC),
            },
        )
        content = TranscriptContent(
            learner_name="L", locale="en", period_start=None, period_end=None
        )
        db_session.add(
            Transcript(
                code="TRNS-CRPT-0000-0002",
                user_id=people["learner"].id,
                locale="en",
                content=content.to_json(),
                content_hash=content.content_hash,
            )
        )
        db_session.commit()
    return people, {
        "cohort": cohort_id,
        "enrollment": enrollment_id,
        "transcript": "TRNS-CRPT-0000-0002",
    }


def test_every_route_of_the_area_is_in_the_table(app):
    ours = {
        rule.rule.replace("<lms_id:cohort_id>", "{cohort}")
        .replace("<lms_id:enrollment_id>", "{enrollment}")
        .replace("<code>", "{transcript}")
        + " "
        + method
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("lms_records.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert ours == {f"{url} {method}" for method, url, _ in ROUTES}


@pytest.mark.parametrize(
    ("method", "url", "expected"), ROUTES, ids=[f"{m} {u}" for m, u, _ in ROUTES]
)
def test_route_authorization(app, world, method, url, expected):
    people, ids = world
    for role, want in zip(ROLES, expected, strict=True):
        client = app.test_client()
        if role != "anonymous":
            login(client, people[role])
        response = client.open(url.format(**ids), method=method)
        response.get_data()  # read a streamed download to its end
        response.close()
        assert response.status_code == want, (
            f"{role} {method} {url}: {response.status_code}, expected {want}"
        )
        if want == 302:
            assert "/auth/login" in response.headers["Location"]
