"""Caption files: required in every language a course offers, and checked line by line on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.courses.captions import parse_captions
from lms.courses.loader import check_courses, load_courses
from tests.helpers.courses import VALID, write_course

REPO = Path(__file__).resolve().parents[2]

GOOD_CUES = (
    "00:00:00.000 --> 00:00:04.000\nWelcome.\n\n00:00:04.000 --> 00:00:09.500\nLet us begin.\n"
)


def load_with_english_captions(
    tmp_path: Path, captions: str, slug: str = "cap", duration: int | None = None
) -> list[str]:
    text = VALID.format(slug=slug)
    if duration is not None:
        text = text.replace(
            'video = "https://example.org/video.mp4"',
            f'video = "https://example.org/video.mp4"\nduration_seconds = {duration}',
        )
    write_course(tmp_path, slug, text, captions_en_vtt=captions)
    return [str(problem) for problem in load_courses(tmp_path).problems]


@pytest.mark.parametrize(
    "captions, line, message",
    [
        ("Hello\n\n" + GOOD_CUES, 1, "must start with the line WEBVTT"),
        (
            "WEBVTT\n\n00:00:00,000 --> 00:00:04,000\nWelcome.\n",
            3,
            "use a dot before the milliseconds, not a comma",
        ),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:04.0\nWelcome.\n", 3, "three digits of milliseconds"),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:75.000\nWelcome.\n", 3, "minutes and seconds below 60"),
        (
            "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nBackwards.\n",
            3,
            "cue ends at 00:00:04.000, which is not after its start 00:00:05.000",
        ),
        (
            "WEBVTT\n\n00:00:04.000 --> 00:00:04.000\nNo time at all.\n",
            3,
            "which is not after its start",
        ),
        (
            "WEBVTT\n\n" + GOOD_CUES + "\n00:00:02.000 --> 00:00:03.000\nLate entry.\n",
            9,
            "cue starts at 00:00:02.000, before the cue above it (line 6, 00:00:04.000): cues must be in order",
        ),
        (
            "WEBVTT\n\n00:00:00.000 --> 00:00:06.000\nOne.\n\n00:00:04.000 --> 00:00:08.000\nTwo.\n",
            6,
            "2 s before the cue above it (line 3) ends at 00:00:06.000; cues may overlap by at most 0.5 s",
        ),
        (
            "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\n<b> </b>\n\n00:00:04.000 --> 00:00:06.000\nText.\n",
            3,
            "cue has no text",
        ),
        ("WEBVTT\n\nNOTE nothing timed here\n", 3, "has no cues"),
    ],
    ids=[
        "header",
        "comma-decimals",
        "short-milliseconds",
        "seconds-past-59",
        "end-before-start",
        "zero-length",
        "out-of-order",
        "overlap",
        "empty-text",
        "no-cues",
    ],
)
def test_each_caption_defect_is_reported_with_its_file_line_and_field(
    tmp_path, captions, line, message
):
    problems = load_with_english_captions(tmp_path, captions)

    expected_start = f"{tmp_path.name}/cap/captions.en.vtt:{line}: steps[0].captions.en: "
    matching = [
        problem for problem in problems if problem.startswith(expected_start) and message in problem
    ]
    assert matching, problems


def test_a_cue_past_the_end_of_the_video_is_reported_when_the_duration_is_known(tmp_path):
    captions = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nStart.\n\n00:00:20.000 --> 00:00:35.000\nAfter the end.\n"

    assert load_with_english_captions(tmp_path / "unknown", captions) == []
    [problem] = load_with_english_captions(tmp_path / "known", captions, duration=30)

    assert problem.startswith("known/cap/captions.en.vtt:6: steps[0].captions.en: ")
    assert (
        "cue ends at 00:00:35.000, after the end of the video (00:00:30.000, its duration_seconds)"
        in problem
    )


def test_a_small_overlap_and_touching_cues_are_accepted():
    cues, problems = parse_captions(
        "WEBVTT\n\n00:00.000 --> 00:04.300\nOne.\n\n00:04.000 --> 00:06.000\nTwo.\n\n00:06.000 --> 00:07.000\nThree.\n"
    )

    assert problems == []
    assert [(cue.start, cue.end, cue.text, cue.line) for cue in cues] == [
        (0.0, 4.3, "One.", 3),
        (4.0, 6.0, "Two.", 6),
        (6.0, 7.0, "Three.", 9),
    ]


def test_cue_text_loses_its_tags_and_decodes_character_references():
    [cue], problems = parse_captions(
        "\ufeffWEBVTT - title\n\nintro\n01:02:03.250 --> 01:02:05.000 align:start\n<v Ana>Salt &amp; <i>pepper</i>\n"
    )

    assert problems == []
    assert (cue.start, cue.end, cue.text) == (3723.25, 3725.0, "Salt & pepper")


def test_a_recording_without_captions_fails_with_a_clear_message(tmp_path):
    text = VALID.format(slug="silent").replace(
        'captions = { en = "captions.en.vtt", es = "captions.es.vtt" }\n', ""
    )
    write_course(tmp_path, "silent", text)

    [problem] = [str(p) for p in load_courses(tmp_path).problems]

    assert problem.startswith(
        f"{tmp_path.name}/silent/course.toml:19:1:"
    )  # the step's [[steps]] line
    assert (
        ": steps[0].captions: has no captions in en, es: a recording needs a WebVTT caption file for every language"
        in problem
    )


def test_captions_missing_in_one_offered_language_name_that_language(tmp_path):
    text = VALID.format(slug="half").replace(
        'captions = { en = "captions.en.vtt", es = "captions.es.vtt" }',
        'captions = { en = "captions.en.vtt" }',
    )
    write_course(tmp_path, "half", text)

    [problem] = [str(p) for p in load_courses(tmp_path).problems]

    assert problem.startswith(f"{tmp_path.name}/half/course.toml:24:1:")  # the captions line
    assert "steps[0].captions: has no captions in es:" in problem
    assert 'es = "captions.es.vtt"' in problem  # says what to write


def test_one_broken_caption_file_fails_its_course_only(tmp_path):
    write_course(tmp_path, "fine")
    write_course(
        tmp_path,
        "broken",
        VALID.format(slug="broken"),
        captions_es_vtt="WEBVTT\n\n00:00:03.000 --> 00:00:01.000\nx\n",
    )

    result = load_courses(tmp_path)

    assert set(result.courses) == {"fine"}
    assert [p.path for p in result.problems] == [f"{tmp_path.name}/broken/captions.es.vtt"]


def test_the_shipped_captions_pass_and_their_cues_are_loaded():
    result = check_courses(REPO / "courses")

    assert [str(p) for p in result.problems] == []
    assert [str(w) for w in result.warnings] == []
    course = result.courses["esp-racial-justice-dialogue"]
    step = course.definition.step("recording")
    for language in course.definition.languages:
        cues = course.caption_cues(step, language)
        assert cues and cues[0].start == 0 and cues[-1].end <= step.duration_seconds


def test_a_recording_without_audio_description_or_text_alternative_is_a_warning(tmp_path):
    text = VALID.format(slug="undescribed").replace("captions_describe_visuals = true\n", "")
    write_course(tmp_path, "undescribed", text)

    result = load_courses(tmp_path)

    assert "undescribed" in result.courses and result.problems == []
    [warning] = [str(w) for w in result.warnings]
    assert (
        warning.startswith(f"{tmp_path.name}/undescribed/course.toml:19:1:")
        and ": steps[0]: has no audio description" in warning
    )

    described = VALID.format(slug="described").replace(
        "captions_describe_visuals = true\n",
        'described_video = "https://example.org/described.mp4"\n',
    )
    write_course(tmp_path / "other", "described", described)
    assert load_courses(tmp_path / "other").warnings == []


def test_a_transcript_document_must_exist_and_counts_as_the_text_alternative(tmp_path):
    text = VALID.format(slug="doc").replace(
        "captions_describe_visuals = true\n", 'transcript = { en = "transcript.md" }\n'
    )
    write_course(tmp_path, "doc", text)
    assert any("refers to 'transcript.md'" in str(p) for p in load_courses(tmp_path).problems)

    (tmp_path / "doc" / "transcript.md").write_text(
        "# Transcript\n\nEverything said and shown.\n", encoding="utf-8"
    )
    result = load_courses(tmp_path)
    assert result.problems == [] and result.warnings == []
    assert "Everything said and shown." in result.courses["doc"].texts["transcript.md"]


def test_the_check_command_prints_caption_problems_and_warnings(tmp_path):
    from click.testing import CliRunner

    from lms.cli import courses_check

    write_course(
        tmp_path,
        "warned",
        VALID.format(slug="warned").replace("captions_describe_visuals = true\n", ""),
    )
    result = CliRunner().invoke(courses_check, [str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "has no audio description" in result.output

    write_course(
        tmp_path,
        "bad",
        VALID.format(slug="bad"),
        captions_en_vtt="WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nx\n",
    )
    result = CliRunner().invoke(courses_check, [str(tmp_path)])
    assert result.exit_code == 1
    assert "bad/captions.en.vtt:3: steps[0].captions.en: cue timing" in result.output
