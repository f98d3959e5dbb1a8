"""Whatever bytes a course file holds, the loader answers with a course or clear problems."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.courses.loader import COURSE_FILE, Problem, load_course
from tests.helpers.courses import VALID, VALID_CAPTIONS

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def load_bytes(folder: Path, data: bytes):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / COURSE_FILE).write_bytes(data)
    for language in ("en", "es"):  # the caption files VALID refers to
        (folder / f"captions.{language}.vtt").write_text(VALID_CAPTIONS, encoding="utf-8")
    return load_course(folder)


def assert_clear(course, problems: list[Problem]) -> None:
    assert (course is None) == bool(problems)
    for problem in problems:
        text = str(problem)
        assert text.startswith(str(problem.path)) and problem.message
        assert "Traceback" not in text


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_random_bytes_never_raise(tmp_path_factory, data):
    assert_clear(*load_bytes(tmp_path_factory.mktemp("c") / "xx", data))


@SETTINGS
@given(line=st.integers(min_value=0, max_value=40), junk=st.text(max_size=40))
def test_a_corrupted_valid_file_never_raises(tmp_path_factory, line, junk):
    lines = VALID.format(slug="xx").splitlines()
    lines.insert(min(line, len(lines)), junk)
    assert_clear(
        *load_bytes(
            tmp_path_factory.mktemp("c") / "xx", "\n".join(lines).encode("utf-8", "surrogatepass")
        )
    )


toml_values = st.recursive(
    st.none().map(lambda _: "")
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "kind", "paths", "video", "prompt", "hours", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def to_toml(value) -> str:
    """Any value as TOML, with tables inline, so a whole course can be written on key lines."""
    import datetime as dt
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, int) or value == value else "nan"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        # TOML forbids raw control characters (DEL included) in strings: escape them.
        text = json.dumps(value, ensure_ascii=False)
        return "".join(
            f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch for ch in text
        )
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{json.dumps(str(k))} = {to_toml(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(value)


@SETTINGS
@given(
    field=st.sampled_from(
        [
            "title",
            "minutes",
            "paths",
            "steps",
            "certificate",
            "translations",
            "outcomes",
            "grades",
            "last_updated",
            "unknown",
        ]
    ),
    value=toml_values,
)
def test_any_value_in_any_field_is_explained(tmp_path_factory, field, value):
    data = tomllib.loads(VALID.format(slug="xx"))
    data[field] = value
    text = "\n".join(f"{key} = {to_toml(item)}" for key, item in data.items())
    folder = tmp_path_factory.mktemp("c") / "xx"
    course, problems = load_bytes(folder, text.encode())
    assert_clear(course, problems)
    if field == "unknown":
        assert any(p.field == "unknown" for p in problems)


def test_the_inline_writer_round_trips_a_valid_course(tmp_path):
    data = tomllib.loads(VALID.format(slug="xx"))
    text = "\n".join(f"{key} = {to_toml(item)}" for key, item in data.items())
    course, problems = load_bytes(tmp_path / "xx", text.encode())
    assert problems == [] and course.definition.title == "A valid course"
