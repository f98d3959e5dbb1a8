"""The transcript under the player: timed passages from the captions in the page's language, or
the course's own transcript document, and the described version of the recording."""

from __future__ import annotations

import re
from dataclasses import replace

from tests.helpers.learning import FLAGSHIP, start


def transcript_of(html: str) -> str:
    match = re.search(r'<section class="transcript".*?</section>', html, re.S)
    assert match, "no transcript on the page"
    return match.group(0)


def passages(section: str) -> list[tuple[str, str, str]]:
    """(start seconds, time shown, text) of each passage."""
    return [
        (start, clock, re.sub(r"\s+", " ", text).strip())
        for start, clock, text in re.findall(
            r'<li class="transcript-cue" data-start="([\d.]+)".*?<time[^>]*>([^<]+)</time></a>'
            r'\s*<span class="transcript-text">(.*?)</span>',
            section,
            re.S,
        )
    ]


def test_the_transcript_lists_the_timed_passages_of_the_english_captions(learner_client, app):
    enrollment_id = start(learner_client)

    section = transcript_of(
        learner_client.get(f"/learn/{enrollment_id}/recording").get_data(as_text=True)
    )

    course = app.extensions["lms"].catalog.get(FLAGSHIP)
    cues = course.caption_cues(course.definition.step("recording"), "en")
    assert passages(section) == [
        (f"{cue.start}", f"0:{int(cue.start):02d}", cue.text.replace("\n", " ")) for cue in cues
    ]
    assert 'aria-labelledby="transcript-heading"' in section and 'lang="en"' in section
    assert '<h2 id="transcript-heading">Transcript</h2>' in section
    # Without JavaScript each time links to the recording at that point.
    assert f'href="/courses/{FLAGSHIP}/media/recording.mp4#t=6"' in section
    assert "Play from" in section
    assert 'id="transcript-search" hidden' in section  # the search needs the script
    assert (
        "aria-live" not in section.split('id="transcript-matches"')[0]
    )  # no live region on the passages


def test_spanish_viewers_get_the_transcript_of_the_spanish_captions(learner_client, app):
    enrollment_id = start(learner_client)
    learner_client.post("/language", data={"locale": "es"})

    section = transcript_of(
        learner_client.get(f"/learn/{enrollment_id}/recording").get_data(as_text=True)
    )

    course = app.extensions["lms"].catalog.get(FLAGSHIP)
    spanish = course.caption_cues(course.definition.step("recording"), "es")
    assert [text for _, _, text in passages(section)] == [
        cue.text.replace("\n", " ") for cue in spanish
    ]
    assert spanish != course.caption_cues(course.definition.step("recording"), "en")
    assert 'lang="es"' in section and "Transcripción" in section and "Reproducir desde" in section
    # The search's count, filled in by the script, is in Spanish too (singular and plural).
    assert (
        'data-msg-one="{n} pasaje coincide."' in section
        and 'data-msg-many="{n} pasajes coinciden."' in section
    )


def _with_recording_step(app, monkeypatch, **changes):
    catalog = app.extensions["lms"].catalog
    loaded = catalog.get(FLAGSHIP)
    step = loaded.definition.step("recording").model_copy(update=changes)
    steps = tuple(step if s.id == "recording" else s for s in loaded.definition.steps)
    course = replace(
        loaded,
        definition=loaded.definition.model_copy(update={"steps": steps}),
        texts={
            **loaded.texts,
            "transcript.md": "# What is said and shown\n\nA title card reads *Welcome*.",
        },
    )
    monkeypatch.setitem(catalog._courses, FLAGSHIP, course)


def test_a_transcript_document_is_shown_instead_of_the_passages(learner_client, app, monkeypatch):
    _with_recording_step(app, monkeypatch, transcript={"en": "transcript.md"})
    enrollment_id = start(learner_client)

    section = transcript_of(
        learner_client.get(f"/learn/{enrollment_id}/recording").get_data(as_text=True)
    )

    assert "<em>Welcome</em>" in section and "What is said and shown" in section
    assert passages(section) == [] and "transcript-query" not in section


def test_a_described_version_is_offered_and_served(learner_client, app, monkeypatch):
    _with_recording_step(app, monkeypatch, described_video="recording.mp4")
    enrollment_id = start(learner_client)

    html = learner_client.get(f"/learn/{enrollment_id}/recording").get_data(as_text=True)

    assert (
        f'<a href="/courses/{FLAGSHIP}/media/recording.mp4">Watch the version with audio description</a>'
        in html
    )
    assert learner_client.get(f"/courses/{FLAGSHIP}/media/recording.mp4").status_code == 200


def test_the_transcript_script_is_a_file_under_the_content_security_policy(learner_client):
    enrollment_id = start(learner_client)
    response = learner_client.get(f"/learn/{enrollment_id}/recording")
    html = response.get_data(as_text=True)

    assert re.search(r'<script src="[^"]*/lms/transcript\.js" defer></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert (
        learner_client.get(
            re.search(r'src="([^"]*/lms/transcript\.js)"', html).group(1)
        ).status_code
        == 200
    )
