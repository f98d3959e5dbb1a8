"""My learning, the data export and account deletion."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.certificates.models import Certificate
from lms.cohorts.models import Attendance, AttendanceStatus
from lms.courses.models import Course
from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath, Reflection, StepProgress
from tests.helpers import TEST_PASSWORD, login
from tests.helpers.learning import FLAGSHIP, FORTY_WORDS, post_segments, start, text_of


def add_live_completion_with_certificate(in_db, user_id: int) -> str:
    with in_db() as db:
        course = db.scalar(select(Course).where(Course.slug == FLAGSHIP))
        enrollment = Enrollment(
            user_id=user_id,
            course_id=course.id,
            path=LearningPath.live,
            status=EnrollmentStatus.completed,
            completed_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
        )
        db.add(enrollment)
        db.flush()
        db.add(Attendance(enrollment_id=enrollment.id, status=AttendanceStatus.present, minutes=60))
        db.add(
            Certificate(
                code="ABCD-EFGH-JKMN-PQRS",
                enrollment_id=enrollment.id,
                learner_name="Learner",
                course_title=course.title,
                hours=1.0,
                session_date=dt.date(2026, 11, 20),
                facilitator_name="Fa Cilitator",
                organisation="NEA",
                locale="en",
            )
        )
        db.commit()
        return "ABCD-EFGH-JKMN-PQRS"


def test_dashboard_groups_progress_completions_reflections_and_certificates(
    learner_client, learner, in_db
):
    recording = start(learner_client)
    post_segments(learner_client, recording, [[0, 30]])
    learner_client.post(
        f"/learn/{recording}/outcome-1/reflection/draft", json={"body": "Half a thought"}
    )
    self_paced = start(learner_client, "community-partnerships", "self_paced")
    code = add_live_completion_with_certificate(in_db, learner.id)

    html = learner_client.get("/me").get_data(as_text=True)
    text = text_of(html)
    in_progress = text_of(html.split('id="in-progress-title"')[1].split('id="completed-title"')[0])
    assert "A Dialogue with ESPs" in in_progress and "3 steps left" in in_progress
    assert "Community Partnerships" in in_progress and "6 steps left" in in_progress
    assert "Live sessions" in text and "Completed — live session attended." in text
    assert f'href="/learn/{recording}/outcome-1"' in html and "Draft" in text
    assert code in text and "Certificates" in text
    assert f'href="/certificates/{code}.pdf"' in html
    assert f'href="/learn/{self_paced}"' in html


def test_the_dashboard_certificate_link_downloads_the_pdf(app, learner, login_as, in_db):
    code = add_live_completion_with_certificate(in_db, learner.id)
    client = login_as(learner)
    html = client.get("/me").get_data(as_text=True)
    assert f'href="/certificates/{code}.pdf"' in html
    response = client.get(f"/certificates/{code}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_export_holds_everything_but_the_password_hash(learner_client, learner, in_db):
    enrollment_id = start(learner_client)
    post_segments(learner_client, enrollment_id, [[0, 12]])
    learner_client.post(
        f"/learn/{enrollment_id}/outcome-1/reflection", data={"body": FORTY_WORDS, "submit": "1"}
    )
    learner_client.post(
        f"/learn/{enrollment_id}/outcome-2/reflection/draft", json={"body": "a private draft"}
    )
    add_live_completion_with_certificate(in_db, learner.id)

    response = learner_client.get("/me/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    raw = response.get_data(as_text=True)
    with in_db() as db:
        password_hash = db.get(User, learner.id).password_hash
    assert password_hash not in raw and "password" not in raw
    data = json.loads(raw)
    assert data["profile"]["email"] == learner.email
    assert {e["path"] for e in data["enrollments"]} == {"recording", "live"}
    assert data["step_progress"][0]["segments"] == [[0, 12]]
    bodies = {r["prompt_id"]: r["body"] for r in data["reflections"]}
    assert bodies == {"outcome-1": FORTY_WORDS, "outcome-2": "a private draft"}
    assert data["attendance"][0]["minutes"] == 60
    assert data["certificates"][0]["code"] == "ABCD-EFGH-JKMN-PQRS"


def test_deleting_an_account_removes_every_record_of_it(
    learner_client, learner, make_user, login_as, in_db, app
):
    other = make_user()
    other_client = app.test_client()

    login(other_client, other)
    other_enrollment = start(other_client)

    enrollment_id = start(learner_client)
    post_segments(learner_client, enrollment_id, [[0, 12]])
    learner_client.post(f"/learn/{enrollment_id}/outcome-1/reflection/draft", json={"body": "mine"})
    add_live_completion_with_certificate(in_db, learner.id)

    page = learner_client.get("/me/delete").get_data(as_text=True)
    assert "verification pages will no longer find them" in page and "1 certificate" in page
    wrong = learner_client.post("/me/delete", data={"password": "not my password"})
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(as_text=True)
    with in_db() as db:
        assert db.get(User, learner.id) is not None

    response = learner_client.post("/me/delete", data={"password": TEST_PASSWORD})
    assert response.status_code == 303
    assert learner_client.get("/me").status_code == 302, "signed out"
    with in_db() as db:
        assert db.get(User, learner.id) is None
        assert (
            db.scalar(
                select(func.count()).select_from(Enrollment).where(Enrollment.user_id == learner.id)
            )
            == 0
        )
        for model in (
            StepProgress,
            Reflection,
            Attendance,
            Certificate,
        ):  # the other learner has none of these
            assert db.scalar(select(func.count()).select_from(model)) == 0, model
        assert db.get(Enrollment, other_enrollment) is not None, "other people's records stay"
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "account.deleted"))
        assert event.actor_id is None and event.target_id == str(learner.id)
        assert learner.email not in json.dumps(event.details)
    assert (
        learner_client.post(
            "/auth/login", data={"email": learner.email, "password": TEST_PASSWORD}
        ).status_code
        == 422
    )


def test_the_only_admin_cannot_delete_themselves(make_user, login_as, in_db):
    admin = make_user(role="admin")
    client = login_as(admin)
    response = client.post("/me/delete", data={"password": TEST_PASSWORD})
    assert response.status_code == 422 and "only administrator" in response.get_data(as_text=True)
    with in_db() as db:
        assert db.get(User, admin.id) is not None
