"""Every route of the cohorts and certificates areas, for each of the six people in docs/roles.md.

Anonymous people are sent to sign in (302); a learner lacking the facilitator or admin role gets
403; a facilitator of another cohort gets 404 for this cohort's pages (its existence is not
theirs to know); the cohort's facilitator and admins get the page (200) or, for a POST, a
redirect after the change (303). The lead can lift ROUTES into the project-wide matrix.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from lms.jobs import wait_for_jobs
from tests.helpers.cohorts import (
    client_for,
    cohort_form,
    completed_enrollment,
    future_date,
    schedule,
)

ROLES = ("anonymous", "owner", "other_learner", "other_facilitator", "cohort_facilitator", "admin")
CSV = b"Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\nOwner,,,,50,Yes\n"


@dataclass
class World:
    cohort: int
    enrollment: int
    code: str
    facilitator_email: str
    job: int  # the cohort's certificate ZIP, built


# (method, url template, request kwargs factory, expected statuses in ROLES order)
ROUTES: list[tuple[str, str, Any, tuple[int, ...]]] = [
    ("GET", "/facilitate/", None, (302, 403, 403, 200, 200, 200)),
    ("GET", "/facilitate/cohorts/new", None, (302, 403, 403, 200, 200, 200)),
    (
        "POST",
        "/facilitate/cohorts/new",
        lambda w: {"data": cohort_form(w.facilitator_email)},
        (302, 403, 403, 303, 303, 303),
    ),
    ("GET", "/facilitate/cohorts/{cohort}", None, (302, 403, 403, 404, 200, 200)),
    ("GET", "/facilitate/cohorts/{cohort}/edit", None, (302, 403, 403, 404, 200, 200)),
    (
        "POST",
        "/facilitate/cohorts/{cohort}/edit",
        lambda w: {
            "data": cohort_form(
                w.facilitator_email, capacity=5, start_date=future_date().isoformat()
            )
        },
        (302, 403, 403, 404, 303, 303),
    ),
    (
        "POST",
        "/facilitate/cohorts/{cohort}/cancel",
        lambda w: {"data": {"note": "Sorry"}},
        (302, 403, 403, 404, 303, 303),
    ),
    ("POST", "/facilitate/cohorts/{cohort}/close", None, (302, 403, 403, 404, 303, 303)),
    (
        "POST",
        "/facilitate/cohorts/{cohort}/attendance",
        lambda w: {"data": {f"status_{w.enrollment}": "present"}},
        (302, 403, 403, 404, 303, 303),
    ),
    ("GET", "/facilitate/cohorts/{cohort}/attendance/import", None, (302, 403, 403, 404, 200, 200)),
    (
        "POST",
        "/facilitate/cohorts/{cohort}/attendance/import",
        lambda w: {
            "data": {"report": (io.BytesIO(CSV), "r.csv")},
            "content_type": "multipart/form-data",
        },
        (302, 403, 403, 404, 200, 200),
    ),
    (
        "POST",
        "/facilitate/cohorts/{cohort}/attendance/import/apply",
        lambda w: {"data": {"token": "not-a-token"}},
        (302, 403, 403, 404, 303, 303),
    ),
    (
        "GET",
        "/facilitate/cohorts/{cohort}/learners/{enrollment}/reflections",
        None,
        (302, 403, 403, 404, 200, 200),
    ),
    ("POST", "/facilitate/cohorts/{cohort}/certificates", None, (302, 403, 403, 404, 303, 303)),
    (
        "POST",
        "/facilitate/cohorts/{cohort}/certificates/issue",
        lambda w: {"data": {"enrollment_id": w.enrollment}},
        (302, 403, 403, 404, 303, 303),
    ),
    ("GET", "/facilitate/cohorts/{cohort}/certificates/zip", None, (302, 403, 403, 404, 200, 200)),
    ("POST", "/facilitate/cohorts/{cohort}/certificates/zip", None, (302, 403, 403, 404, 303, 303)),
    (
        "GET",
        "/facilitate/cohorts/{cohort}/certificates/jobs/{job}",
        None,
        (302, 403, 403, 404, 200, 200),
    ),
    (
        "GET",
        "/facilitate/cohorts/{cohort}/certificates/jobs/{job}.zip",
        None,
        (302, 403, 403, 404, 200, 200),
    ),
    ("GET", "/cohorts/{cohort}", None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/cohorts/{cohort}.ics", None, (200, 200, 200, 200, 200, 200)),
    ("POST", "/cohorts/{cohort}/register", None, (302, 303, 303, 303, 303, 303)),
    ("POST", "/cohorts/{cohort}/withdraw", None, (302, 303, 303, 303, 303, 303)),
    ("GET", "/certificates/{code}.pdf", None, (302, 200, 404, 404, 200, 200)),
    ("GET", "/certificates/{code}/manage", None, (302, 403, 403, 403, 403, 200)),
    (
        "POST",
        "/certificates/{code}/revoke",
        lambda w: {"data": {"reason": "Wrong person"}},
        (302, 403, 403, 403, 403, 303),
    ),
    ("POST", "/certificates/{code}/reissue", None, (302, 403, 403, 403, 403, 303)),
    # The world's certificate is valid: the admin is told to reissue it instead (the form again).
    (
        "POST",
        "/certificates/{code}/reissue-after-revocation",
        lambda w: {"data": {"reason": "Appeal upheld"}},
        (302, 403, 403, 403, 403, 422),
    ),
    ("GET", "/verify", None, (200, 200, 200, 200, 200, 200)),
    ("GET", "/verify/{code}", None, (200, 200, 200, 200, 200, 200)),
]


# A route whose first success changes what the next person gets: each role gets a fresh world.
FRESH_WORLD_PER_ROLE = {"/facilitate/cohorts/{cohort}/cancel"}


def make_world(app, make_user):
    from lms.certificates.models import Certificate
    from lms.db import db_session
    from lms.learning.models import Reflection

    people = {
        "owner": make_user(display_name="Owner"),
        "other_learner": make_user(),
        "other_facilitator": make_user("facilitator"),
        "cohort_facilitator": make_user("facilitator"),
        "admin": make_user("admin"),
    }
    schedule(app, people["other_facilitator"])  # they run a cohort of their own
    cohort_id, enrollment_id = completed_enrollment(
        app, people["cohort_facilitator"], people["owner"]
    )
    with app.app_context():
        for reflection in db_session.scalars(
            select(Reflection).where(Reflection.enrollment_id == enrollment_id)
        ):
            reflection.shared_with_facilitator = True
        db_session.commit()
    facilitating = client_for(app, people["cohort_facilitator"])
    facilitating.post(f"/facilitate/cohorts/{cohort_id}/certificates")
    wait_for_jobs(app)
    with app.app_context():
        code = db_session.scalar(
            select(Certificate.code).where(Certificate.enrollment_id == enrollment_id)
        )
    assert code
    built = facilitating.post(f"/facilitate/cohorts/{cohort_id}/certificates/zip")
    wait_for_jobs(app)
    zip_job = int(built.headers["Location"].split("/jobs/")[1].split("?")[0])
    return World(
        cohort_id, enrollment_id, code, people["cohort_facilitator"].email, zip_job
    ), people


def test_every_route_of_the_area_is_in_the_table(app):
    ours = {
        rule.rule.replace("<lms_id:cohort_id>", "{cohort}")
        .replace("<lms_id:enrollment_id>", "{enrollment}")
        .replace("<code>", "{code}")
        .replace("<lms_id:job_id>", "{job}")
        + " "
        + method
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("lms_cohorts", "lms_certificates")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    listed = {f"{url} {method}" for method, url, _, _ in ROUTES}
    assert ours == listed


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "expected"), ROUTES, ids=[f"{m} {u}" for m, u, _, _ in ROUTES]
)
def test_route_authorization(app, make_user, method, url, kwargs, expected):
    """The roles in order, those who are refused first; each is checked against the table."""
    w, people = make_world(app, make_user)
    for role, want in zip(ROLES, expected, strict=True):
        if url in FRESH_WORLD_PER_ROLE and role != ROLES[0]:
            w, people = make_world(app, make_user)
        client = app.test_client() if role == "anonymous" else client_for(app, people[role])
        response = client.open(
            url.format(cohort=w.cohort, enrollment=w.enrollment, code=w.code, job=w.job),
            method=method,
            **(kwargs(w) if kwargs else {}),
        )
        assert response.status_code == want, (role, response.get_data(as_text=True)[:1500])
        if want == 302:
            assert "/auth/login" in response.headers["Location"]
