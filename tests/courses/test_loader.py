from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lms.courses.definitions import (
    STEP_KINDS,
    StepDefinition,
    course_file_model,
    register_step_kind,
)
from lms.courses.loader import check_courses, load_courses
from tests.helpers.courses import VALID, write_course


def problems_of(root: Path) -> list[str]:
    return [str(problem) for problem in load_courses(root).problems]


def test_the_shipped_courses_load_without_problems():
    result = load_courses(Path(__file__).resolve().parents[2] / "courses")
    assert [str(p) for p in result.problems] == []
    assert {
        "esp-racial-justice-dialogue",
        "social-justice-training",
        "community-partnerships",
    } <= set(result.courses)
    kinds = {step.kind for course in result.courses.values() for step in course.definition.steps}
    assert kinds == set(STEP_KINDS), "the shipped courses exercise every step kind"


def test_a_valid_course_loads(tmp_path):
    write_course(tmp_path, "good")
    result = load_courses(tmp_path)
    assert result.problems == []
    course = result.courses["good"]
    assert course.definition.certificate.minimum_minutes == 45
    assert [s.id for s in course.definition.steps_for("recording")] == ["recording", "reflect-1"]
    assert [s.id for s in course.definition.steps_for("live")] == ["live-session", "reflect-1"]
    assert course.localized("title", "es") == "Un curso válido"
    assert course.localized("summary", "es") == "One paragraph.", "falls back field by field"
    assert course.content_language("fr") == "en"


def test_syntax_error_names_file_line_and_column(tmp_path):
    write_course(tmp_path, "broken", 'slug = "broken"\ntitle = "unterminated\n')
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{tmp_path.name}/broken/course.toml:2:")
    assert "TOML syntax" in problem


def test_field_errors_name_the_field_and_its_line(tmp_path):
    text = (
        VALID.format(slug="bad")
        .replace("minutes = 60", "minutes = -5")
        .replace('kind = "attend"', 'kind = "attend"\nvideo = "x"')
    )
    write_course(tmp_path, "bad", text)
    problems = problems_of(tmp_path)
    minutes = next(p for p in problems if ": minutes:" in p)
    assert minutes.startswith(f"{tmp_path.name}/bad/course.toml:6:1: minutes:")
    assert "greater than 0" in minutes
    extra = next(p for p in problems if "steps[1].video" in p)
    assert "not a known field" in extra
    assert ":30:1:" in extra, extra  # the line of the stray key


def test_missing_fields_and_unknown_step_kind(tmp_path):
    text = (
        VALID.format(slug="gaps")
        .replace('title = "A valid course"\n', "")
        .replace('kind = "reflect"', 'kind = "quiz"')
    )
    write_course(tmp_path, "gaps", text)
    problems = problems_of(tmp_path)
    assert any(p.endswith("title: is required") for p in problems), problems
    assert any(
        "steps[2].kind" in p or "steps[2]" in p and "unknown step kind" in p for p in problems
    ), problems


def test_rules_across_fields(tmp_path):
    text = (
        VALID.format(slug="rules")
        .replace("outcome = 2", "outcome = 7")
        .replace("[certificate]\nhours = 1.0\nminimum_minutes = 45\n", "")
        .replace('id = "live-session"', 'id = "recording"')
    )
    write_course(tmp_path, "rules", text)
    problems = "\n".join(problems_of(tmp_path))
    assert "outcome 7 does not exist" in problems
    assert "needs [certificate]" in problems
    assert "'recording' is used twice" in problems


def test_slug_must_match_folder_and_files_must_exist(tmp_path):
    text = VALID.format(slug="other-name").replace(
        'summary = "One paragraph."', 'summary = "One paragraph."\ndescription = "missing.md"'
    )
    write_course(tmp_path, "folder-name", text)
    problems = "\n".join(problems_of(tmp_path))
    assert "slug: must match the folder name 'folder-name'" in problems
    assert "description: refers to 'missing.md'" in problems


def test_one_broken_course_does_not_stop_the_others(tmp_path):
    write_course(tmp_path, "good")
    write_course(tmp_path, "broken", "not toml at all = = =")
    result = load_courses(tmp_path)
    assert list(result.courses) == ["good"]
    assert len(result.problems) == 1 and "broken/course.toml" in str(result.problems[0])


def test_non_utf8_and_oversized_files_are_reported(tmp_path):
    folder = tmp_path / "latin1"
    folder.mkdir()
    (folder / "course.toml").write_bytes('title = "café"'.encode("latin-1"))
    [problem] = problems_of(tmp_path)
    assert "is not UTF-8" in problem


def test_unchanged_folder_is_reused_not_parsed_again(tmp_path):
    write_course(tmp_path, "good")
    first = load_courses(tmp_path)
    by_folder = {c.folder.name: c for c in first.courses.values()}
    second = load_courses(tmp_path, previous=by_folder)
    assert second.reused == {"good"}
    assert second.courses["good"] is first.courses["good"]
    (tmp_path / "good" / "course.toml").write_text(
        VALID.format(slug="good").replace("A valid course", "Renamed")
    )
    third = load_courses(tmp_path, previous=by_folder)
    assert third.reused == set()
    assert third.courses["good"].definition.title == "Renamed"


def test_check_accepts_a_single_course_folder(tmp_path):
    folder = write_course(tmp_path, "good")
    assert list(check_courses(folder).courses) == ["good"]


def test_a_new_step_kind_can_be_registered(tmp_path):
    from typing import Literal

    class PollStep(StepDefinition):
        kind: Literal["poll"]
        question: str

    register_step_kind(PollStep)
    try:
        text = (
            VALID.format(slug="polled")
            + '\n[[steps]]\nid = "poll-1"\nkind = "poll"\nquestion = "Ready?"\n'
        )
        # Steps must come before [translations]: move the poll above it.
        text = (
            text.replace('\n[translations.es]\ntitle = "Un curso válido"\n', "")
            + '\n[translations.es]\ntitle = "Un curso válido"\n'
        )
        write_course(tmp_path, "polled", text)
        result = load_courses(tmp_path)
        assert [str(p) for p in result.problems] == []
        assert result.courses["polled"].definition.step("poll-1").question == "Ready?"
    finally:
        STEP_KINDS.pop("poll")
        course_file_model.cache_clear()


def test_loader_and_definitions_import_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, lms.courses.loader; assert not {'flask', 'sqlalchemy'} & set(sys.modules),"
        " sorted(m for m in sys.modules if m in ('flask','sqlalchemy'))"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2]
    )


@pytest.mark.parametrize("bad_value", ['"sixty"', "true", "[1]"])
def test_wrong_types_are_explained(tmp_path, bad_value):
    write_course(
        tmp_path,
        "typed",
        VALID.format(slug="typed").replace("minutes = 60", f"minutes = {bad_value}"),
    )
    assert any(": minutes: " in p for p in problems_of(tmp_path))


@pytest.mark.parametrize(
    "video, accepted",
    [
        ("recording.mp4", True),
        ("https://example.org/v.mp4", True),
        ("/etc/hostname", False),
        ("../other/recording.mp4", False),
        ("http://example.org/v.mp4", False),
    ],
)
def test_a_local_video_must_be_a_file_in_the_course_folder(tmp_path, video, accepted):
    text = VALID.format(slug="vid").replace(
        'video = "https://example.org/video.mp4"', f'video = "{video}"'
    )
    files = {"recording_mp4": "not really a video"}
    write_course(tmp_path, "vid", text, **files)
    problems = problems_of(tmp_path)
    assert (problems == []) is accepted, problems
    if not accepted:
        assert any("steps[0].video" in p for p in problems)


def test_duplicates_empty_step_paths_and_untranslated_languages_are_refused(tmp_path):
    text = (
        VALID.format(slug="dups")
        .replace('languages = ["en", "es"]', 'languages = ["en", "en", "es", "fr"]')
        .replace('paths = ["recording"]', "paths = []")
    )
    write_course(tmp_path, "dups", text)
    problems = "\n".join(problems_of(tmp_path))
    assert "languages: lists en more than once" in problems
    assert "steps[0].paths" in problems
    text = VALID.format(slug="nofr").replace(
        'languages = ["en", "es"]', 'languages = ["en", "es", "fr"]'
    )
    write_course(tmp_path, "nofr", text)
    assert "there is no [translations.fr] table" in "\n".join(problems_of(tmp_path))


def test_replacing_the_video_file_changes_the_content_hash(tmp_path):
    from lms.courses.loader import content_hash

    folder = write_course(tmp_path, "media", recording_mp4="short")
    before = content_hash(folder)
    (folder / "recording.mp4").write_text("a longer replacement clip")
    assert content_hash(folder) != before
