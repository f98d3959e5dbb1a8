"""Progress validation, media serving, reflections and drafts, and who may see what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.learning.models import (
    Enrollment,
    EnrollmentStatus,
    Reflection,
    ReflectionStatus,
    StepProgress,
)
from tests.helpers import login
from tests.helpers.learning import FLAGSHIP, FORTY_WORDS, post_segments, start, text_of


@pytest.mark.parametrize(
    "payload",
    [
        {"segments": [[5, 3]], "duration": 30},  # end before start
        {"segments": [[3, 3]], "duration": 30},  # empty
        {"segments": [[-1, 3]], "duration": 30},
        {"segments": [[0, 40]], "duration": 30},  # beyond the end
        {"segments": [[0, "10"]], "duration": 30},
        {"segments": [[0, True]], "duration": 30},
        {"segments": [[0, 1, 2]], "duration": 30},
        {"segments": "0-30", "duration": 30},
        {"segments": [[0, 1]] * 201, "duration": 30},
        {"segments": [[0, 10]], "duration": 60},  # not the course's recording (30 s)
        {"segments": [[0, 10]], "duration": 0},
        {"segments": [[0, 10]]},
        {"segments": [[0, 10]], "duration": "30"},
    ],
)
def test_implausible_progress_is_refused_and_records_nothing(learner_client, in_db, payload):
    enrollment_id = start(learner_client)
    response = learner_client.post(f"/learn/{enrollment_id}/recording/progress", json=payload)
    assert response.status_code == 400
    assert response.get_json()["message"]
    with in_db() as db:
        assert (
            db.scalar(
                select(StepProgress).where(
                    StepProgress.enrollment_id == enrollment_id, StepProgress.fraction > 0
                )
            )
            is None
        )


def test_non_finite_numbers_are_refused(learner_client):
    enrollment_id = start(learner_client)
    response = learner_client.post(
        f"/learn/{enrollment_id}/recording/progress",
        data='{"segments": [[0, Infinity]], "duration": 30}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_the_course_files_duration_is_used_not_the_players(learner_client, in_db):
    enrollment_id = start(learner_client)
    # The player says 31 s (within 5%): the fraction is still over the file's 30 s.
    result = post_segments(learner_client, enrollment_id, [[0, 15]], duration=31).get_json()
    assert result["fraction"] == 0.5
    with in_db() as db:
        assert (
            db.scalar(
                select(StepProgress.duration).where(StepProgress.enrollment_id == enrollment_id)
            )
            == 30
        )


def test_progress_posts_are_size_limited(learner_client):
    enrollment_id = start(learner_client)
    big = {"segments": [[0, 1]], "duration": 30, "padding": "x" * 40_000}
    assert (
        learner_client.post(f"/learn/{enrollment_id}/recording/progress", json=big).status_code
        == 413
    )


def test_progress_on_a_step_that_is_not_a_recording_is_404(learner_client):
    enrollment_id = start(learner_client)
    assert (
        post_segments(learner_client, enrollment_id, [[0, 1]], step="outcome-1").status_code == 404
    )
    assert (
        post_segments(learner_client, enrollment_id, [[0, 1]], step="live-session").status_code
        == 404
    )
    assert post_segments(learner_client, enrollment_id, [[0, 1]], step="nope").status_code == 404


def test_media_is_served_with_ranges_and_only_referenced_files(client):
    video = client.get(f"/courses/{FLAGSHIP}/media/recording.mp4", headers={"Range": "bytes=0-99"})
    assert video.status_code == 206
    assert video.mimetype == "video/mp4"
    assert len(video.data) == 100
    assert video.headers["Content-Range"].startswith("bytes 0-99/")
    captions = client.get(f"/courses/{FLAGSHIP}/media/captions.es.vtt")
    assert captions.status_code == 200 and captions.mimetype == "text/vtt"
    assert captions.get_data(as_text=True).startswith("WEBVTT")
    for name in ("course.toml", "description.md", "..%2Fcourse.toml", "missing.mp4"):
        assert client.get(f"/courses/{FLAGSHIP}/media/{name}").status_code == 404, name
    assert client.get("/courses/community-partnerships/media/reading-1.md").status_code == 404
    assert client.get("/courses/nope/media/recording.mp4").status_code == 404


def test_spanish_viewers_get_spanish_captions_by_default(learner_client):
    enrollment_id = start(learner_client)
    learner_client.post("/language", data={"locale": "es"})
    html = learner_client.get(f"/learn/{enrollment_id}/recording").get_data(as_text=True)
    tracks = re.findall(r"<track [^>]+>", html)
    assert len(tracks) == 2
    assert [t for t in tracks if "default" in t] == [t for t in tracks if 'srclang="es"' in t]


def test_external_video_urls_are_used_as_they_are(learner_client, app, monkeypatch):
    from lms.courses.definitions import WatchStep

    loaded = app.extensions["lms"].catalog.get(FLAGSHIP)
    step = loaded.definition.step("recording")
    external = step.model_copy(update={"video": "https://media.example.org/webinar.mp4"})
    assert isinstance(external, WatchStep)
    steps = tuple(external if s.id == "recording" else s for s in loaded.definition.steps)
    definition = loaded.definition.model_copy(update={"steps": steps})
    from dataclasses import replace

    monkeypatch.setitem(
        app.extensions["lms"].catalog._courses, FLAGSHIP, replace(loaded, definition=definition)
    )
    enrollment_id = start(learner_client)
    html = learner_client.get(f"/learn/{enrollment_id}/recording").get_data(as_text=True)
    assert 'src="https://media.example.org/webinar.mp4"' in html
    assert learner_client.get(f"/courses/{FLAGSHIP}/media/recording.mp4").status_code == 404


def test_drafts_autosave_and_a_submitted_reflection_is_revised_only_by_submitting(
    learner_client, in_db
):
    enrollment_id = start(learner_client)
    url = f"/learn/{enrollment_id}/outcome-2/reflection"
    result = learner_client.post(
        url + "/draft", json={"body": "First thoughts, not finished"}
    ).get_json()
    assert result["saved"] and result["words"] == 4 and result["status"] == "draft"
    page = learner_client.get(f"/learn/{enrollment_id}/outcome-2").get_data(as_text=True)
    assert "First thoughts, not finished" in page
    assert f'data-draft-url="{url}/draft"' in page
    assert "Let my facilitator read this reflection" in page
    assert (
        'name="shared" type="checkbox" value="y"' in page
        and "checked" not in page.split('name="shared"')[1][:40]
    )

    assert (
        learner_client.post(
            url, data={"body": FORTY_WORDS, "shared": "y", "submit": "Submit"}
        ).status_code
        == 303
    )
    with in_db() as db:
        reflection = db.scalar(select(Reflection).where(Reflection.enrollment_id == enrollment_id))
        first_submitted = reflection.submitted_at
        assert (
            reflection.status is ReflectionStatus.submitted and reflection.shared_with_facilitator
        )
    # Autosave does not touch what was submitted.
    result = learner_client.post(url + "/draft", json={"body": "half an edit"}).get_json()
    assert result == {**result, "saved": False, "status": "submitted"}
    # Too short a revision: refused, the submitted text stays, what was typed is shown again.
    response = learner_client.post(url, data={"body": "half an edit", "submit": "Submit"})
    assert response.status_code == 422 and "half an edit" in response.get_data(as_text=True)
    assert "stays as it was" in text_of(response.get_data(as_text=True))
    revised = FORTY_WORDS + " Revised after a week of conversations."
    assert learner_client.post(url, data={"body": revised, "submit": "Submit"}).status_code == 303
    with in_db() as db:
        reflection = db.scalar(select(Reflection).where(Reflection.enrollment_id == enrollment_id))
        assert reflection.body == revised and reflection.submitted_at > first_submitted
        assert not reflection.shared_with_facilitator, "unticked on the re-submit"


def test_save_draft_button_without_javascript(learner_client, in_db):
    enrollment_id = start(learner_client)
    response = learner_client.post(
        f"/learn/{enrollment_id}/outcome-1/reflection",
        data={"body": "A start.", "save_draft": "Save draft"},
    )
    assert response.status_code == 303
    assert "A start." in learner_client.get(response.headers["Location"]).get_data(as_text=True)
    with in_db() as db:
        assert (
            db.scalar(select(Reflection.status).where(Reflection.enrollment_id == enrollment_id))
            is ReflectionStatus.draft
        )


def test_reflections_are_size_limited(learner_client, app):
    app.config["LMS_REFLECTION_MAX_CHARS"] = 100
    enrollment_id = start(learner_client)
    url = f"/learn/{enrollment_id}/outcome-1/reflection"
    assert learner_client.post(url + "/draft", json={"body": "x" * 101}).status_code == 400
    response = learner_client.post(url, data={"body": "word " * 30, "submit": "Submit"})
    assert response.status_code == 422 and "at most 100 characters" in response.get_data(
        as_text=True
    )


def test_another_learner_gets_404_on_every_page_and_endpoint(app, make_user, in_db):
    owner, other, admin = make_user(), make_user(), make_user(role="admin")
    owner_client = app.test_client()
    login(owner_client, owner)
    enrollment_id = start(owner_client)
    owner_client.post(
        f"/learn/{enrollment_id}/outcome-1/reflection/draft", json={"body": "private words"}
    )
    for intruder in (other, admin):
        client = app.test_client()
        login(client, intruder)
        for url in (
            f"/learn/{enrollment_id}",
            f"/learn/{enrollment_id}/recording",
            f"/learn/{enrollment_id}/outcome-1",
        ):
            assert client.get(url).status_code == 404, url
        assert post_segments(client, enrollment_id, [[0, 30]]).status_code == 404
        assert (
            client.post(
                f"/learn/{enrollment_id}/outcome-1/reflection/draft", json={"body": "overwritten"}
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/learn/{enrollment_id}/outcome-1/reflection",
                data={"body": FORTY_WORDS, "submit": "1"},
            ).status_code
            == 404
        )
        assert "private words" not in client.get("/me").get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.get(f"/learn/{enrollment_id}").status_code == 302
    assert post_segments(anonymous, enrollment_id, [[0, 30]]).status_code in (302, 401)
    with in_db() as db:
        assert db.scalar(select(Reflection.body)) == "private words"
        assert db.get(Enrollment, enrollment_id).status is EnrollmentStatus.in_progress
    assert app.test_client().get("/learn/999999").status_code == 302


def test_overview_lists_steps_and_what_is_left(learner_client):
    enrollment_id = start(learner_client)
    text = text_of(learner_client.get(f"/learn/{enrollment_id}").get_data(as_text=True))
    assert "Watch the webinar recording" in text and "Reflection: starting the conversation" in text
    assert "Join the live session" not in text, "the live step is not on the recording path"
    assert "4 steps left" in text
    assert "does not earn a certificate of completion" in text
    post_segments(learner_client, enrollment_id, [[0, 30]])
    assert "3 steps left" in text_of(
        learner_client.get(f"/learn/{enrollment_id}").get_data(as_text=True)
    )
    assert "3 steps left" in text_of(learner_client.get("/me").get_data(as_text=True))


def test_live_enrollments_show_their_steps_and_take_reflections(learner_client, learner, in_db):
    from lms.courses.models import Course
    from lms.learning.models import LearningPath

    with in_db() as db:
        course = db.scalar(select(Course).where(Course.slug == FLAGSHIP))
        enrollment = Enrollment(
            user_id=learner.id,
            course_id=course.id,
            path=LearningPath.live,
            status=EnrollmentStatus.registered,
        )
        db.add(enrollment)
        db.commit()
        enrollment_id = enrollment.id
    text = text_of(learner_client.get(f"/learn/{enrollment_id}").get_data(as_text=True))
    assert "Join the live session" in text and "Watch the webinar recording" not in text
    page = learner_client.get(f"/learn/{enrollment_id}/live-session")
    assert (
        page.status_code == 200
        and "your facilitator records that you attended" in page.get_data(as_text=True)
    )
    assert learner_client.get(f"/learn/{enrollment_id}/recording").status_code == 404, (
        "not a step of the live path"
    )
    assert (
        learner_client.post(
            f"/learn/{enrollment_id}/outcome-1/reflection",
            data={"body": FORTY_WORDS, "submit": "1"},
        ).status_code
        == 303
    )
    with in_db() as db:
        assert db.get(Enrollment, enrollment_id).status is EnrollmentStatus.registered, (
            "attendance is still missing"
        )
