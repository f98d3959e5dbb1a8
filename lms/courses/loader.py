"""Course folders to course definitions. No Flask, no SQLAlchemy: the CLI and tests use it bare.

Every mistake becomes a :class:`Problem` naming the file, the field and, where known, the line
and column; a broken course never stops the others from loading.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lms.courses.captions import Cue, parse_captions
from lms.courses.consistency import consistency_problems, consistency_warnings
from lms.courses.definitions import STEP_KINDS, CourseDefinition, WatchStep, course_file_model

COURSE_FILE = "course.toml"
# Files whose bytes make up a course's content hash. Media files are referenced, not hashed:
# hashing a long recording on every start would make an unchanged sync slow.
HASHED_SUFFIXES = (".toml", ".md", ".vtt")
MAX_COURSE_FILE_BYTES = 1024 * 1024
MAX_TEXT_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    field: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


@dataclass(frozen=True)
class LoadedCourse:
    definition: CourseDefinition
    folder: Path
    content_hash: str
    texts: dict[str, str] = field(default_factory=dict)  # Markdown and caption files by name
    cues: dict[str, tuple[Cue, ...]] = field(default_factory=dict)  # checked caption files by name
    warnings: tuple[Problem, ...] = ()  # what the course check reports without failing the course

    @property
    def slug(self) -> str:
        return self.definition.slug

    def content_language(self, locale: str) -> str:
        """The language the course's own text is shown in for a viewer who reads ``locale``."""
        if locale in self.definition.translations or locale == self.definition.languages[0]:
            return locale
        return self.definition.languages[0]

    def localized(self, name: str, locale: str) -> Any:
        """A course field in ``locale``, falling back field by field to the original."""
        translation = self.definition.translations.get(locale)
        value = getattr(translation, name, None) if translation else None
        if value is None:
            value = getattr(self.definition, name)
        if name == "description":
            return self.texts.get(value, "") if value else ""
        return value

    def is_translated(self, name: str, locale: str) -> bool:
        translation = self.definition.translations.get(locale)
        return locale == self.definition.languages[0] or (
            translation is not None and getattr(translation, name, None) is not None
        )

    def step_text(self, step_id: str, name: str, locale: str) -> Any:
        step = self.definition.step(step_id)
        translation = self.definition.translations.get(locale)
        step_translation = translation.steps.get(step_id) if translation else None
        value = getattr(step_translation, name, None) if step_translation else None
        if value is None:
            value = getattr(step, name, None)
        if name == "body":
            return self.texts.get(value, "") if value else ""
        return value

    def caption_cues(self, step: WatchStep, language: str) -> tuple[Cue, ...]:
        """The cues of ``step``'s captions in ``language`` (none if it has no such captions)."""
        name = step.captions.get(language)
        return self.cues.get(name, ()) if name else ()


@dataclass
class LoadResult:
    courses: dict[str, LoadedCourse] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Folders whose content hash was unchanged and whose earlier definition was reused.
    reused: set[str] = field(default_factory=set)


def content_hash(folder: Path) -> str:
    """A digest of the course's text files' bytes, and of its media files' names and sizes."""
    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        digest.update(path.name.encode() + b"\0")
        if path.suffix in HASHED_SUFFIXES:
            digest.update(path.read_bytes())
        else:
            digest.update(str(path.stat().st_size).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def course_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and (p / COURSE_FILE).exists()
    )


def load_courses(root: Path, previous: dict[str, LoadedCourse] | None = None) -> LoadResult:
    """Load every course folder under ``root``.

    ``previous`` maps folder names to earlier loads: a folder whose content hash has not
    changed is reused as it is, not parsed again.
    """
    result = LoadResult()
    previous = previous or {}
    for folder in course_folders(root):
        digest = content_hash(folder)
        earlier = previous.get(folder.name)
        if earlier is not None and earlier.content_hash == digest:
            course, problems = earlier, []
            result.reused.add(folder.name)
        else:
            course, problems = load_course(folder, digest=digest, display_root=root.parent)
        result.problems.extend(problems)
        if course is None:
            continue
        result.warnings.extend(course.warnings)
        if course.slug in result.courses:
            result.problems.append(
                Problem(
                    _display(folder / COURSE_FILE, root.parent),
                    f"slug {course.slug!r} is already used by another folder",
                    "slug",
                )
            )
            continue
        result.courses[course.slug] = course
    return result


def load_course(
    folder: Path, digest: str | None = None, display_root: Path | None = None
) -> tuple[LoadedCourse | None, list[Problem]]:
    course_file = folder / COURSE_FILE
    shown = _display(course_file, display_root)
    try:
        raw_bytes = course_file.read_bytes()
    except OSError as error:
        return None, [Problem(shown, f"cannot be read: {error.strerror}")]
    if len(raw_bytes) > MAX_COURSE_FILE_BYTES:
        return None, [Problem(shown, f"is larger than {MAX_COURSE_FILE_BYTES // 1024} KiB")]
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return None, [Problem(shown, f"is not UTF-8 (byte {error.start})")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [_toml_problem(shown, error, text)]

    lines = KeyLines(text)
    try:
        definition = course_file_model().model_validate(data)
    except ValidationError as error:
        return None, [
            _validation_problem(shown, err, lines) for err in error.errors(include_url=False)
        ]

    problems = [
        Problem(shown, message, field, *lines.find(field))
        for field, message in consistency_problems(definition)
    ]
    if definition.slug != folder.name:
        problems.append(
            Problem(
                shown, f"must match the folder name {folder.name!r}", "slug", *lines.find("slug")
            )
        )

    texts: dict[str, str] = {}
    for name in dict.fromkeys(definition.referenced_files()):
        path = folder / name
        if not path.is_file():
            problems.append(
                Problem(
                    shown,
                    f"refers to {name!r}, which is not in {_display(folder, display_root)}",
                    _field_for_file(definition, name),
                    *lines.find_value(name),
                )
            )
            continue
        if path.suffix in (".md", ".vtt"):
            try:
                if path.stat().st_size > MAX_TEXT_FILE_BYTES:
                    raise ValueError(f"is larger than {MAX_TEXT_FILE_BYTES // 1024 // 1024} MiB")
                texts[name] = path.read_bytes().decode("utf-8-sig")
            except (UnicodeDecodeError, ValueError) as error:
                reason = "is not UTF-8" if isinstance(error, UnicodeDecodeError) else str(error)
                problems.append(Problem(_display(path, display_root), reason))
    cues: dict[str, tuple[Cue, ...]] = {}
    for index, step in enumerate(definition.steps):
        if not isinstance(step, WatchStep):
            continue
        for language, name in step.captions.items():
            if name not in texts or name in cues:
                continue
            parsed, caption_problems = parse_captions(texts[name], step.duration_seconds)
            cues[name] = tuple(parsed)
            caption_file = _display(folder / name, display_root)
            problems.extend(
                Problem(
                    caption_file,
                    problem.message,
                    f"steps[{index}].captions.{language}",
                    problem.line,
                )
                for problem in caption_problems
            )
    if problems:
        return None, problems
    warnings = tuple(
        Problem(shown, message, field, *lines.find(field))
        for field, message in consistency_warnings(definition)
    )
    return LoadedCourse(
        definition, folder, digest or content_hash(folder), texts, cues, warnings
    ), []


def check_courses(root: Path) -> LoadResult:
    """``load_courses`` for a folder that is either a courses root or one course folder."""
    if (root / COURSE_FILE).exists():
        result = LoadResult()
        course, problems = load_course(root, display_root=root.parent.parent)
        result.problems.extend(problems)
        if course:
            result.courses[course.slug] = course
            result.warnings.extend(course.warnings)
        return result
    return load_courses(root)


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return str(path)


def _toml_problem(shown: str, error: tomllib.TOMLDecodeError, text: str) -> Problem:
    message = str(error)
    match = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if match:
        message = message[: match.start()].strip()
        return Problem(
            shown, f"TOML syntax: {message}", "", int(match.group(1)), int(match.group(2))
        )
    if message.endswith("(at end of document)"):
        lines = text.splitlines() or [""]
        message = message.removesuffix("(at end of document)").strip() + " at the end of the file"
        return Problem(shown, f"TOML syntax: {message}", "", len(lines), len(lines[-1]) + 1)
    return Problem(shown, f"TOML syntax: {message}")


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (check the spelling)",
}


def _validation_problem(shown: str, error: Any, lines: KeyLines) -> Problem:
    loc = _clean_loc(error["loc"])
    field = _format_loc(loc)
    message = _MESSAGES.get(error["type"], error["msg"])
    if error["type"] == "value_error":  # our own validators' sentences, without pydantic's prefix
        message = str(error.get("ctx", {}).get("error", message))
    if error["type"] == "union_tag_invalid":
        message = f"unknown step kind; use one of {', '.join(sorted(STEP_KINDS))}"
    if error["type"] == "union_tag_not_found":
        message = f"needs a kind, one of {', '.join(sorted(STEP_KINDS))}"
    return Problem(shown, message, field, *lines.find_loc(loc))


def _clean_loc(loc: Sequence[Any]) -> tuple[Any, ...]:
    # A discriminated union puts the step kind in the location: steps.2.watch.video.
    cleaned: list[Any] = []
    for index, part in enumerate(loc):
        if (
            index >= 2
            and loc[0] == "steps"
            and isinstance(loc[index - 1], int)
            and part in STEP_KINDS
        ):
            continue
        cleaned.append(part)
    return tuple(cleaned)


def _format_loc(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _field_for_file(definition: CourseDefinition, name: str) -> str:
    if definition.description == name:
        return "description"
    for index, step in enumerate(definition.steps):
        if name in step.referenced_files():
            return f"steps[{index}]"
    return "translations"


_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_ARRAY_TABLE = re.compile(r"^\s*\[\[\s*([^\[\]]+?)\s*\]\]\s*(#.*)?$")
_KEY = re.compile(r'^(\s*)([A-Za-z0-9_\-."]+?)\s*=')


class KeyLines:
    """Where each key of a TOML document stands, for pointing at a field's line (best effort)."""

    def __init__(self, text: str) -> None:
        self.positions: dict[tuple[Any, ...], tuple[int, int]] = {}
        self.lines = text.splitlines()
        current: tuple[Any, ...] = ()
        counts: dict[tuple[str, ...], int] = {}
        for number, line in enumerate(self.lines, start=1):
            if match := _ARRAY_TABLE.match(line):
                name = _split_key(match.group(1))
                counts[name] = counts.get(name, 0) + 1
                current = (*name, counts[name] - 1)
                self.positions.setdefault(current, (number, line.index("[") + 1))
            elif match := _TABLE.match(line):
                current = _split_key(match.group(1))
                self.positions.setdefault(current, (number, line.index("[") + 1))
            elif match := _KEY.match(line):
                self.positions.setdefault(
                    (*current, *_split_key(match.group(2))), (number, len(match.group(1)) + 1)
                )

    def find_loc(self, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.positions:
                return self.positions[loc[:end]]
        return None, None

    def find(self, field: str) -> tuple[int | None, int | None]:
        loc: list[Any] = []
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", field):
            loc.append(int(part[1:-1]) if part.startswith("[") else part)
        return self.find_loc(tuple(loc))

    def find_value(self, value: str) -> tuple[int | None, int | None]:
        needle = f'"{value}"'
        for number, line in enumerate(self.lines, start=1):
            if needle in line:
                return number, line.index(needle) + 1
        return None, None


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip('"') for part in key.split("."))
