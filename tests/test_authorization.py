"""Every route against every kind of visitor (DESIGN.md section 7).

The table below has one row per endpoint. The test reads the app's URL map, so a route added
without a row here fails the suite. Expected answers, one per persona:

    ok     the page or action is allowed (2xx, or a redirect that is not to the login page,
           or 400/422 for a POST that was allowed but sent no data)
    login  redirected to the login page
    403    forbidden (a role the visitor lacks)
    404    not found (someone else's record: we do not confirm it exists)
    429/503 never expected here
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lms.db import utcnow

PERSONAS = ("anonymous", "learner", "other_learner", "other_facilitator", "facilitator", "admin")


@dataclass(frozen=True)
class Route:
    method: str
    url: str  # formatted with the world's ids: {cohort}, {enrollment}, {code}, ...
    expect: str  # six answers, one per persona, in PERSONAS order

    def expected(self, persona: str) -> str:
        return self.expect.split()[PERSONAS.index(persona)]


PUBLIC = "ok ok ok ok ok ok"
SIGNED_IN = "login ok ok ok ok ok"
ADMIN_ONLY = "login 403 403 403 403 ok"

ROUTES: dict[str, Route] = {
    "lms.static": Route("GET", "/static/lms-assets/lms/app.css", PUBLIC),
    "lms_courses.catalog": Route("GET", "/", PUBLIC),
    "lms_courses.course": Route("GET", "/courses/esp-racial-justice-dialogue", PUBLIC),
    "lms_courses.switch_language": Route("POST", "/language", PUBLIC),
    "lms_accounts.login": Route("GET", "/auth/login", PUBLIC),
    "lms_accounts.logout": Route("POST", "/auth/logout", SIGNED_IN),
    "lms_learning.dashboard": Route("GET", "/me", SIGNED_IN),
}


@dataclass
class World:
    users: dict[str, Any]
    ids: dict[str, Any]


@pytest.fixture
def world(app, make_user, db) -> World:
    """Two cohorts of the flagship course, each with its facilitator, and a learner's records."""
    from lms.certificates.models import Certificate
    from lms.cohorts.models import Attendance, AttendanceStatus, Cohort, CohortFacilitator
    from lms.courses.models import Course
    from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath, Reflection, ReflectionStatus

    users = {
        "learner": make_user("learner"),
        "other_learner": make_user("learner"),
        "other_facilitator": make_user("facilitator"),
        "facilitator": make_user("facilitator"),
        "admin": make_user("admin"),
    }
    course = db.scalar(select(Course).where(Course.slug == "esp-racial-justice-dialogue"))
    start = utcnow() + timedelta(days=7)
    cohort = Cohort(course_id=course.id, title="Cohort A", starts_at=start, time_zone="America/New_York", minutes=60, capacity=10)
    other_cohort = Cohort(course_id=course.id, title="Cohort B", starts_at=start, time_zone="America/New_York", minutes=60, capacity=10)
    db.add_all([cohort, other_cohort])
    db.flush()
    db.add_all([
        CohortFacilitator(cohort_id=cohort.id, user_id=users["facilitator"].id),
        CohortFacilitator(cohort_id=other_cohort.id, user_id=users["other_facilitator"].id),
    ])
    live = Enrollment(user_id=users["learner"].id, course_id=course.id, path=LearningPath.live, cohort_id=cohort.id, status=EnrollmentStatus.completed, completed_at=utcnow())
    recording = Enrollment(user_id=users["learner"].id, course_id=course.id, path=LearningPath.recording, status=EnrollmentStatus.in_progress)
    db.add_all([live, recording])
    db.flush()
    db.add(Attendance(enrollment_id=live.id, status=AttendanceStatus.present, minutes=60))
    reflection = Reflection(enrollment_id=live.id, prompt_id="outcome-1", body="shared words " * 30, status=ReflectionStatus.submitted, shared_with_facilitator=True, word_count=60)
    certificate = Certificate(
        code="ABCD-EFGH-JKMN-PQRS", enrollment_id=live.id, learner_name="Learner", course_title=course.title, hours=1.0,
        session_date=date.today(), facilitator_name="Facilitator", organisation="NEA", locale="en",
    )
    db.add_all([reflection, certificate])
    db.commit()
    return World(users=users, ids={
        "cohort": cohort.id, "other_cohort": other_cohort.id, "enrollment": live.id, "live_enrollment": live.id,
        "recording_enrollment": recording.id, "reflection": reflection.id, "code": certificate.code,
        "learner": users["learner"].id, "certificate": certificate.id, "course": "esp-racial-justice-dialogue",
    })


def test_every_route_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    missing = sorted(endpoints - set(ROUTES))
    assert not missing, f"routes without a row in tests/test_authorization.py ROUTES: {missing}"
    stale = sorted(set(ROUTES) - endpoints)
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_row_names_six_answers():
    for endpoint, route in ROUTES.items():
        answers = route.expect.split()
        assert len(answers) == len(PERSONAS), endpoint
        assert set(answers) <= {"ok", "login", "403", "404"}, endpoint


def check(client, route: Route, persona: str, ids: dict[str, Any]) -> None:
    url = route.url.format(**ids)
    response = client.open(url, method=route.method)
    expected = route.expected(persona)
    status = response.status_code
    location = response.headers.get("Location", "")
    to_login = status in (301, 302, 303) and "/auth/login" in location
    if expected == "ok":
        allowed = status < 300 or (300 <= status < 400 and not to_login) or (route.method != "GET" and status in (400, 422))
        assert allowed, f"{persona} {route.method} {url}: expected allowed, got {status} {location}"
    elif expected == "login":
        assert to_login, f"{persona} {route.method} {url}: expected a redirect to login, got {status}"
    else:
        assert status == int(expected), f"{persona} {route.method} {url}: expected {expected}, got {status}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_the_expected_answer_on_every_route(app, world, persona):
    from tests.conftest import login

    failures = []
    for endpoint, route in ROUTES.items():
        client = app.test_client()
        if persona != "anonymous":
            login(client, world.users[persona])
        try:
            check(client, route, persona, world.ids)
        except AssertionError as error:
            failures.append(f"{endpoint}: {error}")
    assert not failures, "\n".join(failures)


def test_every_post_route_refuses_a_missing_csrf_token(app, world):
    from tests.conftest import login

    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, world.users["admin"])
    app.config["WTF_CSRF_ENABLED"] = True
    failures = []
    for endpoint, route in ROUTES.items():
        if route.method != "POST":
            continue
        url = route.url.format(**world.ids)
        for body in ({"data": {"x": "1"}}, {"json": {"x": 1}}):
            response = client.post(url, **body)
            if response.status_code != 400:
                failures.append(f"{endpoint} {url} {list(body)[0]}: {response.status_code}")
    assert not failures, "POST accepted without a CSRF token:\n" + "\n".join(failures)
