"""WebVTT caption files: parsed by webvtt-py, then checked for what it lets through. No Flask.

webvtt-py reads the cues but accepts, or silently drops, what a player then shows wrongly: a cue
that ends before it starts, cues out of order, cues that overlap, cues without text, and timing
lines it cannot read (``00:00:01,000``, a comma as in SRT, is skipped without a word). It also
reports no line numbers. So each timing line is found here first, with its line number, and the
checks below run on webvtt-py's cues matched to those lines.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

# How far a cue may start before the previous one ends: players show both, and a few tenths of
# a second is what caption tools leave when they round times; more is two captions on screen.
OVERLAP_TOLERANCE_SECONDS = 0.5
# A cue may end this much after the video's stated duration (durations are whole seconds).
DURATION_TOLERANCE_SECONDS = 1.0

_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING_LINE = re.compile(rf"^\s*{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t].*)?$")
_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # plain text: cue tags removed, character references decoded
    line: int  # the line of its timing line in the file


@dataclass(frozen=True)
class CaptionProblem:
    message: str
    line: int | None = None


def _seconds(match: re.Match[str], first: int) -> float:
    hours, minutes, seconds, millis = match.group(first, first + 1, first + 2, first + 3)
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def clock(seconds: float) -> str:
    """``75.5`` as ``00:01:15.500``, the way the file writes it."""
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def _timing_lines(lines: list[str]) -> tuple[list[tuple[int, float, float]], list[CaptionProblem]]:
    """Every cue timing line as (line number, start, end), and the ones that cannot be read."""
    timings: list[tuple[int, float, float]] = []
    problems: list[CaptionProblem] = []
    for number, line in enumerate(lines, start=1):
        if "-->" not in line:
            continue
        match = _TIMING_LINE.match(line)
        if match:
            timings.append((number, _seconds(match, 1), _seconds(match, 5)))
            continue
        hint = (
            " (use a dot before the milliseconds, not a comma)" if re.search(r"\d,\d", line) else ""
        )
        problems.append(
            CaptionProblem(
                f"cue timing {line.strip()!r} is not valid: write it as 00:01:02.500 --> 00:01:05.000 "
                f"(hours optional, minutes and seconds below 60, three digits of milliseconds){hint}",
                number,
            )
        )
    return timings, problems


def parse_captions(
    text: str, duration_seconds: float | None = None
) -> tuple[list[Cue], list[CaptionProblem]]:
    """The cues of a WebVTT file and everything wrong with it (an empty list when it is sound)."""
    lines = text.splitlines()
    if not lines or not _HEADER.match(lines[0].lstrip("\ufeff")):
        return [], [
            CaptionProblem("must start with the line WEBVTT (this is not a WebVTT file)", 1)
        ]
    timings, problems = _timing_lines(lines)
    try:
        parsed = webvtt.from_buffer(io.StringIO(text)).captions
    except (MalformedFileError, MalformedCaptionError) as error:
        return [], [*problems, CaptionProblem(f"cannot be read as WebVTT: {error}")]
    if problems:
        return [], problems
    if len(parsed) != len(timings):  # webvtt-py read the blocks differently: no line to point at
        return [], [
            CaptionProblem(
                f"has {len(timings)} cue timing lines but {len(parsed)} readable cues; check the "
                "blank lines between cues"
            )
        ]

    cues: list[Cue] = []
    previous: Cue | None = None
    for caption, (line, start, end) in zip(parsed, timings, strict=True):
        cue = Cue(start, end, html.unescape(caption.text).strip(), line)
        if end <= start:
            problems.append(
                CaptionProblem(
                    f"cue ends at {clock(end)}, which is not after its start {clock(start)}", line
                )
            )
        if not cue.text:
            problems.append(CaptionProblem("cue has no text", line))
        if previous is not None:
            if start < previous.start:
                problems.append(
                    CaptionProblem(
                        f"cue starts at {clock(start)}, before the cue above it (line "
                        f"{previous.line}, {clock(previous.start)}): "
                        "cues must be in order of their start times",
                        line,
                    )
                )
            elif start < previous.end - OVERLAP_TOLERANCE_SECONDS:
                problems.append(
                    CaptionProblem(
                        f"cue starts at {clock(start)}, {previous.end - start:.3g} s before the cue above it "
                        f"(line {previous.line}) ends at {clock(previous.end)}; cues may overlap by at most "
                        f"{OVERLAP_TOLERANCE_SECONDS:g} s",
                        line,
                    )
                )
        if duration_seconds is not None and end > duration_seconds + DURATION_TOLERANCE_SECONDS:
            problems.append(
                CaptionProblem(
                    f"cue ends at {clock(end)}, after the end of the video "
                    f"({clock(duration_seconds)}, its duration_seconds)",
                    line,
                )
            )
        cues.append(cue)
        previous = cue
    if not cues:
        problems.append(
            CaptionProblem(
                "has no cues: a caption file needs at least one timed cue with text", len(lines)
            )
        )
    return (cues if not problems else []), problems
