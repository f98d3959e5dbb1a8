"""The recording journey through the test client, as a learner lives it."""

from __future__ import annotations

from sqlalchemy import select

from lms.learning.models import (
    Enrollment,
    EnrollmentStatus,
    Reflection,
    ReflectionStatus,
    StepProgress,
)
from tests.helpers.learning import FLAGSHIP, FORTY_WORDS, post_segments, start, text_of

UNGRADED = (
    "Completed — informational, ungraded. Recordings do not earn a certificate of completion."
)


def test_recording_journey_from_registration_to_ungraded_completion(client, in_db):
    response = client.post(
        "/auth/register",
        data={
            "display_name": "Ana Learner",
            "email": "Ana@Example.org",
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert response.status_code == 303
    response = client.post(
        "/auth/login", data={"email": "ana@example.org", "password": "a long enough password"}
    )
    assert response.status_code == 303

    course_page = client.get(f"/courses/{FLAGSHIP}").get_data(as_text=True)
    assert "Start with the recording" in course_page
    assert 'value="live"' not in course_page, "live is the cohorts' panel, not ours"

    enrollment_id = start(client)
    assert start(client) == enrollment_id, "starting twice returns the same enrollment"
    with in_db() as db:
        assert db.get(Enrollment, enrollment_id).path == "recording"

    overview = text_of(client.get(f"/learn/{enrollment_id}").get_data(as_text=True))
    assert "4 steps left" in overview

    page = client.get(f"/learn/{enrollment_id}/recording").get_data(as_text=True)
    assert '<video id="lms-video" controls' in page
    assert f'src="/courses/{FLAGSHIP}/media/recording.mp4"' in page
    assert '<track kind="captions"' in page and 'srclang="en"' in page and "default" in page
    assert f'data-progress-url="/learn/{enrollment_id}/recording/progress"' in page
    assert "at least 90% of the recording, actually played" in text_of(page)
    assert "<progress" in page and 'aria-live="polite"' in page

    # A little watching, then a seek to the end: only what played counts.
    result = post_segments(client, enrollment_id, [[0, 3]]).get_json()
    assert result["percent"] == 10 and not result["done"]
    result = post_segments(client, enrollment_id, [[28.5, 30]]).get_json()
    assert not result["done"] and not result["completed"]
    assert result["fraction"] < 0.9
    # Sending the same range again adds nothing.
    assert (
        post_segments(client, enrollment_id, [[28.5, 30]]).get_json()["fraction"]
        == result["fraction"]
    )

    # Real playing, in pieces the player would send.
    for start_at in range(3, 27, 6):
        assert post_segments(client, enrollment_id, [[start_at, start_at + 6]]).status_code == 200
    result = post_segments(client, enrollment_id, [[27, 28.5]]).get_json()
    assert result["done"] and result["fraction"] == 1.0
    assert not result["completed"], "the reflections are still to do"
    with in_db() as db:
        progress = db.scalar(
            select(StepProgress).where(StepProgress.enrollment_id == enrollment_id)
        )
        assert progress.state == "done" and progress.duration == 30

    # Reflections: one too short first, kept as a draft.
    response = client.post(
        f"/learn/{enrollment_id}/outcome-1/reflection",
        data={"body": "Too short to count.", "submit": "Submit"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Too short to count." in html
    assert "needs at least 40" in text_of(html)
    with in_db() as db:
        draft = db.scalar(
            select(Reflection).where(
                Reflection.enrollment_id == enrollment_id, Reflection.prompt_id == "outcome-1"
            )
        )
        assert draft.status is ReflectionStatus.draft and draft.body == "Too short to count."

    for prompt in ("outcome-1", "outcome-2", "outcome-3"):
        response = client.post(
            f"/learn/{enrollment_id}/{prompt}/reflection",
            data={"body": FORTY_WORDS, "submit": "Submit"},
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]

    with in_db() as db:
        enrollment = db.get(Enrollment, enrollment_id)
        assert (
            enrollment.status is EnrollmentStatus.completed and enrollment.completed_at is not None
        )

    for url in (
        f"/learn/{enrollment_id}",
        f"/learn/{enrollment_id}/outcome-3",
        "/me",
        f"/courses/{FLAGSHIP}",
    ):
        text = text_of(client.get(url).get_data(as_text=True))
        assert UNGRADED in text, url
        assert "Download certificate" not in text and "/certificates/" not in text, url
    dashboard = text_of(client.get("/me").get_data(as_text=True))
    assert "Recordings (informational, ungraded)" in dashboard
    assert "You have no certificates yet" in dashboard


def test_self_paced_course_completes_with_readings_and_reflections(learner_client, in_db):
    enrollment_id = start(learner_client, "community-partnerships", "self_paced")
    for step in ("reading-1", "reading-2", "reading-3"):
        page = learner_client.get(f"/learn/{enrollment_id}/{step}")
        assert page.status_code == 200
    assert "Reading 2" in learner_client.get(f"/learn/{enrollment_id}/reading-2").get_data(
        as_text=True
    )
    for step in ("community-map", "shared-issues", "first-steps"):
        assert (
            learner_client.post(
                f"/learn/{enrollment_id}/{step}/reflection",
                data={"body": FORTY_WORDS, "submit": "1"},
            ).status_code
            == 303
        )
    with in_db() as db:
        assert db.get(Enrollment, enrollment_id).status is EnrollmentStatus.completed
    text = text_of(learner_client.get("/me").get_data(as_text=True))
    assert "Self-paced courses do not earn a certificate of completion" in text


def test_reading_in_spanish(learner_client):
    enrollment_id = start(learner_client, "community-partnerships", "self_paced")
    learner_client.post("/language", data={"locale": "es"})
    html = learner_client.get(f"/learn/{enrollment_id}/reading-1").get_data(as_text=True)
    assert "Lectura 1" in html


def test_live_path_and_unknown_paths_cannot_be_started_here(learner_client):
    assert (
        learner_client.post(f"/courses/{FLAGSHIP}/start", data={"path": "live"}).status_code == 400
    )
    assert (
        learner_client.post(f"/courses/{FLAGSHIP}/start", data={"path": "self_paced"}).status_code
        == 303
    )  # not offered
    assert (
        learner_client.post(
            "/courses/social-justice-training/start", data={"path": "recording"}
        ).status_code
        == 303
    )
    assert (
        learner_client.post("/courses/no-such-course/start", data={"path": "recording"}).status_code
        == 404
    )
    assert "/learn/" not in learner_client.get("/me").get_data(as_text=True)


def test_anonymous_visitors_see_a_sign_in_link_instead_of_the_button(client):
    html = client.get(f"/courses/{FLAGSHIP}").get_data(as_text=True)
    assert "Sign in to start" in html and "Start with the recording" not in html
    assert client.post(f"/courses/{FLAGSHIP}/start", data={"path": "recording"}).status_code == 302
    assert "Take this course on your own" not in client.get(
        "/courses/social-justice-training"
    ).get_data(as_text=True)
