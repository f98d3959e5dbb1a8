"""1,000 generated course folders for the sync benchmark: valid, varied, cached.

The cache key is this file's hash, so editing the measurement (bench/sync.py) keeps the folders.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

from bench.common import CACHE_DIR

COURSE_COUNT = 1000
GENERATOR_VERSION = 1

WORDS = (
    "students",
    "families",
    "equity",
    "restorative",
    "practice",
    "community",
    "classroom",
    "support",
    "literacy",
    "belonging",
    "trauma-informed",
    "leadership",
    "bargaining",
    "safety",
    "inclusion",
    "mentoring",
    "wellness",
    "assessment",
    "language",
    "justice",
    "partnership",
    "culture",
    "voice",
    "advocacy",
    "planning",
)
TOPICS = (
    "Educational Equity",
    "Family Engagement",
    "Social Justice",
    "Positive School Environments",
    "Restorative Practices",
    "Community Partnerships",
    "Student Wellness",
    "Leadership",
)
ROLES = (
    "education-support-professional",
    "teacher",
    "higher-education-faculty",
    "administrator",
    "affiliate-leader",
    "affiliate-member",
)
GRADES = ("early-childhood", "elementary", "middle", "high", "higher-education", "adult")


def _sentence(rng: random.Random, low: int, high: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))
    return text[0].upper() + text[1:] + "."


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_string(v) for v in values) + "]"


def write_course(folder: Path, index: int, rng: random.Random) -> None:
    """One valid, varied course: 1-3 paths, 2-10 steps of every kind, English or English+Spanish."""
    folder.mkdir(parents=True)
    slug = folder.name
    paths = rng.choice(
        (
            ["live"],
            ["recording"],
            ["self_paced"],
            ["live", "recording"],
            ["live", "self_paced"],
            ["recording", "self_paced"],
            ["live", "recording", "self_paced"],
        )
    )
    bilingual = rng.random() < 0.5
    outcomes = [_sentence(rng, 8, 16) for _ in range(rng.randint(1, 5))]
    topics = rng.sample(TOPICS, rng.randint(1, 3))
    minutes = rng.choice((30, 45, 60, 90, 120))
    lines = [
        f"# Generated benchmark course {index}",
        f'slug = "{slug}"',
        f"title = {_toml_string('Course ' + str(index) + ': ' + _sentence(rng, 3, 7)[:-1])}",
        f'summary = """\n{_sentence(rng, 25, 60)}"""',
        'description = "description.md"',
        'developed_by = "National Education Association (NEA)"',
        f"last_updated = 2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
        f"minutes = {minutes}",
        f'format = "{rng.choice(("webinar", "workshop", "training", "microcourse", "course"))}"',
        f"audience_roles = {_toml_list(rng.sample(ROLES, rng.randint(1, 3)))}",
        f"grades = {_toml_list(rng.sample(GRADES, rng.randint(1, 4)))}",
        f"topics = {_toml_list(topics)}",
        f"outcomes = {_toml_list(outcomes)}",
        f"paths = {_toml_list(paths)}",
        f"languages = {_toml_list(['en', 'es'] if bilingual else ['en'])}",
    ]
    if "live" in paths:
        lines += [
            "",
            "[certificate]",
            f"hours = {rng.choice((0.5, 1.0, 1.5, 2.0))}",
            f"minimum_minutes = {minutes * 3 // 4}",
        ]
    (folder / "description.md").write_text(
        f"# About this course\n\n{_sentence(rng, 40, 120)}\n\n{_sentence(rng, 20, 60)}\n",
        encoding="utf-8",
    )
    steps: list[tuple[str, str]] = []  # (id, kind)
    if "recording" in paths:
        lines += [
            "",
            "[[steps]]",
            'id = "recording"',
            'kind = "watch"',
            'title = "Watch the recording"',
            'paths = ["recording"]',
            f'video = "https://media.example.org/{slug}.mp4"',
            f"duration_seconds = {minutes * 60}",
            "required_fraction = 0.9",
        ]
        languages = (
            ["en", "es"] if bilingual else ["en"]
        )  # a recording has captions in every language offered
        lines.append(
            "captions = { "
            + ", ".join(f'{language} = "captions.{language}.vtt"' for language in languages)
            + " }"
        )
        lines.append("captions_describe_visuals = true")
        for language in languages:
            (folder / f"captions.{language}.vtt").write_text(
                "WEBVTT\n\n00:00.000 --> 00:04.000\n" + _sentence(rng, 4, 10) + "\n",
                encoding="utf-8",
            )
        steps.append(("recording", "watch"))
    if "live" in paths:
        lines += [
            "",
            "[[steps]]",
            'id = "live-session"',
            'kind = "attend"',
            'title = "Join the live session"',
            'paths = ["live"]',
        ]
        steps.append(("live-session", "attend"))
    for number in range(1, rng.randint(0, 3) + 1):
        step_id = f"reading-{number}"
        (folder / f"{step_id}.md").write_text(
            f"## Reading {number}\n\n"
            + "\n\n".join(_sentence(rng, 30, 90) for _ in range(rng.randint(2, 6)))
            + "\n",
            encoding="utf-8",
        )
        lines += [
            "",
            "[[steps]]",
            f'id = "{step_id}"',
            'kind = "read"',
            f'title = "Reading {number}"',
            f'body = "{step_id}.md"',
        ]
        steps.append((step_id, "read"))
    for number in range(1, rng.randint(1, 4) + 1):
        step_id = f"reflection-{number}"
        lines += [
            "",
            "[[steps]]",
            f'id = "{step_id}"',
            'kind = "reflect"',
            f'title = "Reflection {number}"',
            f"outcome = {rng.randint(1, len(outcomes))}",
            f"min_words = {rng.choice((0, 20, 40, 60))}",
            f'prompt = """\n{_sentence(rng, 20, 50)}"""',
        ]
        steps.append((step_id, "reflect"))
    if bilingual:
        (folder / "description.es.md").write_text(
            f"# Sobre este curso\n\n{_sentence(rng, 40, 120)}\n", encoding="utf-8"
        )
        lines += [
            "",
            "[translations.es]",
            f"title = {_toml_string('Curso ' + str(index))}",
            f'summary = """\n{_sentence(rng, 25, 60)}"""',
            'description = "description.es.md"',
            f"outcomes = {_toml_list([_sentence(rng, 8, 16) for _ in outcomes])}",
            f"topics = {_toml_list([t + ' (es)' for t in topics])}",
        ]
        for step_id, kind in steps:
            lines += [
                "",
                f"[translations.es.steps.{step_id}]",
                f"title = {_toml_string('Paso ' + step_id)}",
            ]
            if kind == "reflect":
                lines.append(f'prompt = """\n{_sentence(rng, 20, 50)}"""')
    (folder / "course.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def ensure_courses(count: int = COURSE_COUNT) -> Path:
    """The generated course folders, cached in bench/.cache/ by generator version and count."""
    digest = hashlib.sha256(Path(__file__).read_bytes() + f"{count}".encode()).hexdigest()[:12]
    root = CACHE_DIR / f"courses-{count}-{digest}"
    if (root / ".complete").exists():
        return root
    for old in CACHE_DIR.glob(f"courses-{count}-*"):
        shutil.rmtree(old)
    rng = random.Random(1000 + GENERATOR_VERSION)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for index in range(1, count + 1):
        write_course(partial / f"bench-course-{index:04d}", index, rng)
    from lms.courses.loader import load_courses

    result = load_courses(partial)
    if result.problems or len(result.courses) != count:
        problems = "; ".join(map(str, result.problems[:5]))
        raise RuntimeError(
            f"generated courses do not load: {len(result.courses)} of {count}; {problems}"
        )
    partial.rename(root)
    (root / ".complete").write_text("ok\n")
    return root
