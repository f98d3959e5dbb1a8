"""A valid course file, its captions, and a course folder written from them."""

from __future__ import annotations

import textwrap
from pathlib import Path

VALID = textwrap.dedent(
    """\
    slug = "{slug}"
    title = "A valid course"
    summary = "One paragraph."
    developed_by = "Somebody"
    last_updated = 2024-01-02
    minutes = 60
    format = "webinar"
    audience_roles = ["education-support-professional"]
    grades = ["elementary"]
    topics = ["Topic A"]
    outcomes = ["First outcome", "Second outcome"]
    paths = ["live", "recording"]
    languages = ["en", "es"]

    [certificate]
    hours = 1.0
    minimum_minutes = 45

    [[steps]]
    id = "recording"
    kind = "watch"
    paths = ["recording"]
    video = "https://example.org/video.mp4"
    captions = {{ en = "captions.en.vtt", es = "captions.es.vtt" }}
    captions_describe_visuals = true

    [[steps]]
    id = "live-session"
    kind = "attend"
    paths = ["live"]

    [[steps]]
    id = "reflect-1"
    kind = "reflect"
    prompt = "What did you learn?"
    outcome = 2
    min_words = 10

    [translations.es]
    title = "Un curso válido"
    """
)

VALID_CAPTIONS = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nWelcome.\n\n00:00:04.000 --> 00:00:09.500\nLet us begin.\n"


def write_course(root: Path, slug: str, text: str | None = None, **files: str) -> Path:
    folder = root / slug
    folder.mkdir(parents=True)
    (folder / "course.toml").write_text(
        text if text is not None else VALID.format(slug=slug), encoding="utf-8"
    )
    for name, content in files.items():
        (folder / name.replace("_", ".")).write_text(content, encoding="utf-8")
    for language in ("en", "es"):  # the captions VALID names, unless the test wrote its own
        captions = folder / f"captions.{language}.vtt"
        if not captions.exists():
            captions.write_text(VALID_CAPTIONS, encoding="utf-8")
    return folder
