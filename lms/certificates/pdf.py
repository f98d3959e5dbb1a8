"""Certificate PDF rendering: a pure function from certificate content to PDF bytes.

This module imports neither Flask nor SQLAlchemy (the ``pure`` import-linter contract in
``pyproject.toml``; ``docs/architecture.md``): only ReportLab (with uharfbuzz), python-bidi, segno,
Babel and the standard library, so it can run in a worker or a benchmark unchanged.

It is one module, longer than the engine's others, on purpose: :func:`render_certificate` is one
pure function, and everything else here is its layout (the fonts and which face covers which
text, bidi and shaping, fitting a line into its width, the QR code, the border), each helper
used only by it and tested only through the PDF it draws (``tests/certificates/test_pdf.py``).
Split into modules, the helpers would be a public surface with one caller.

Text in any script is set in TrueType fonts shipped in ``fonts/`` and embedded as subsets (DejaVu
Sans for Latin, Vietnamese, Greek, Cyrillic, Hebrew and Arabic; Noto Sans Devanagari; Droid Sans
Fallback for Chinese, Japanese and Korean). python-bidi puts each line in visual order (the
Unicode bidi algorithm) and HarfBuzz, through ReportLab's shaping, turns each run into the glyphs
its font asks for: Arabic joining forms and ligatures, Devanagari conjuncts and reordered vowel
signs, marks placed on their letters.
"""

from __future__ import annotations

import datetime
import functools
import io
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal
from bidi import get_display
from bidi.mirror import MIRRORED
from reportlab import rl_config
from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, shapeStr
from reportlab.pdfgen.canvas import Canvas

__all__ = ["N_", "CertificateContent", "render_bare_page", "render_certificate"]


def N_(message: str) -> str:
    """Mark a msgid for extraction (pybabel keyword ``N_``); translation happens at render time."""
    return message


HEADING = N_("Certificate of Completion")
CERTIFIES_THAT = N_("This certifies that")
COMPLETED_LIVE_SESSION = N_("completed the live session")
HELD_ON = N_("on %(date)s")
HOURS_ONE = N_("%(hours)s hour")
HOURS_MANY = N_("%(hours)s hours")
FACILITATOR_LABEL = N_("Facilitator")
ISSUED_BY_LABEL = N_("Issued by")
VERIFY_AT = N_("Verify at %(url)s")

PAGE_WIDTH, PAGE_HEIGHT = landscape(letter)
CENTER_X = PAGE_WIDTH / 2
TEXT_WIDTH = PAGE_WIDTH - 2 * 90

INK = (0.114, 0.153, 0.239)  # deep navy for the main text
MUTED = (0.37, 0.40, 0.45)  # grey for connective phrases and labels
ACCENT = (0.106, 0.310, 0.478)  # blue for the border and the organisation

FONTS_DIR = Path(__file__).with_name("fonts")
DEFAULT_LOCALE = "en"

# Binary (zlib only) streams: ReportLab's default ASCII85 layer makes every stream larger (it
# writes 5 characters for 4 bytes) and costs a pure-Python encoding pass over every font subset.
# PDF readers all accept both.
rl_config.useA85 = 0


@dataclass(frozen=True)
class CertificateContent:
    code: str
    learner_name: str
    course_title: str
    hours: float
    session_date: datetime.date
    facilitator_name: str
    organisation: str
    verify_url: str
    locale: str


# --------------------------------------------------------------------------- fonts


@dataclass(frozen=True)
class _Face:
    name: str  # as registered with ReportLab
    filename: str  # in fonts/


# Each weight's faces, tried in order for every character. DejaVu Sans: Latin (with Vietnamese),
# Greek, Cyrillic, Hebrew, Arabic; Noto Sans Devanagari; Droid Sans Fallback: Chinese, Japanese
# kana and Korean Hangul (it has one weight, so bold CJK is set in it too).
_CJK_FACE = _Face("LMS-DroidSansFallback", "DroidSansFallback.ttf")
_FAMILIES: dict[bool, tuple[_Face, ...]] = {
    False: (
        _Face("LMS-DejaVuSans", "DejaVuSans.ttf"),
        _Face("LMS-NotoSansDevanagari", "NotoSansDevanagari-Regular.ttf"),
        _CJK_FACE,
    ),
    True: (
        _Face("LMS-DejaVuSans-Bold", "DejaVuSans-Bold.ttf"),
        _Face("LMS-NotoSansDevanagari-Bold", "NotoSansDevanagari-Bold.ttf"),
        _CJK_FACE,
    ),
}

_font_lock = threading.Lock()


@functools.cache
def _load_face(face: _Face) -> frozenset[int]:
    # asciiReadable=False numbers glyphs in order of use, so a subset holds only the glyphs drawn
    # (not all of ASCII too): smaller files, and less to write for every certificate.
    font = TTFont(face.name, str(FONTS_DIR / face.filename), asciiReadable=False)
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def _coverage(face: _Face) -> frozenset[int]:
    """The code points ``face`` has, registering it on first use: parsing a font file is the
    costliest step of a first certificate (the CJK face most of all: it is the largest file), so
    a face is read only once a text needs it; the lock keeps two threads' first certificates from
    registering one twice."""
    with _font_lock:
        return _load_face(face)


def _primary_font() -> str:
    """The page's first font (registered before the canvas needs it)."""
    face = _FAMILIES[False][0]
    _coverage(face)
    return face.name


def _face_for_char(code: int, family: tuple[_Face, ...]) -> _Face:
    for face in family:
        if code in _coverage(face):
            return face
    return family[0]  # nothing covers it: the primary font's missing-glyph box


def _font_runs(text: str, bold: bool) -> list[tuple[str, str]]:
    """Split logical-order text into (text, font name) runs, keeping a run going while its font
    covers the next character, so spaces and marks inside a Devanagari or CJK name stay with it."""
    family = _FAMILIES[bold]
    runs: list[tuple[str, _Face]] = []
    for char in text:
        code = ord(char)
        if runs and code in _coverage(runs[-1][1]):
            runs[-1] = (runs[-1][0] + char, runs[-1][1])
        else:
            runs.append((char, _face_for_char(code, family)))
    return [(run_text, face.name) for run_text, face in runs]


# --------------------------------------------------------------------------- shaping and bidi


@dataclass(frozen=True)
class _GlyphRun:
    """Glyphs of one font in visual order, as HarfBuzz shaped them (through ReportLab)."""

    font: str
    text: str  # a ShapedStr when shaping changed anything, which the canvas then draws as shaped
    unit_width: float  # at a font size of 1 point


_RIGHT_TO_LEFT = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]"
)
# ReportLab keeps private glyph numbers for glyphs without a code point (Devanagari conjuncts,
# Arabic joining forms) on the font it shapes with: one shaping at a time.
_shaping_lock = threading.Lock()


def _shape_run(text: str, font: str) -> _GlyphRun:
    """HarfBuzz's glyphs for one run of one font; the direction comes from the run's script."""
    with _shaping_lock:
        # force: a ShapedStr even where shaping changed nothing, so runs of one font join into one.
        # The size only matters to fonts with optical sizes, which these are not.
        shaped = shapeStr(text, font, 10, force=True)
    return _GlyphRun(font, shaped, _advance(shaped))


def _advance(shaped: str) -> float:
    """The width HarfBuzz gives (thousandths of the font size, as the canvas draws it)."""
    return (
        sum(glyph.x_advance for glyph in shaped.__shapeData__) / 1000
        if isinstance(shaped, ShapedStr)
        else 0.0
    )


_LEVEL = re.compile(r"Level\(\s*(\d+),?\s*\)")


def _bidi_levels(line: str) -> list[int]:
    """Each character's embedding level by the Unicode bidi algorithm (odd: right to left).

    python-bidi's ``get_display(debug=True)`` returns the levels it resolved (its Rust crate's
    report, one level per UTF-8 byte). Its display string alone cannot say which characters sat
    at a right-to-left level, which HarfBuzz must set right to left and rule L4 mirrors.
    """
    report = get_display(line, debug=True)
    byte_levels = [
        int(level)
        for level in _LEVEL.findall(report[report.find("levels:") : report.find("paragraphs:")])
    ]
    if len(byte_levels) != len(line.encode()):
        raise RuntimeError(
            "python-bidi's level report has changed its form; lms needs python-bidi 0.6"
        )
    levels, offset = [], 0
    for char in line:
        levels.append(byte_levels[offset])
        offset += len(char.encode())
    return levels


def _visual_level_runs(line: str) -> list[tuple[str, int]]:
    """The line's runs of one embedding level (logical order within each) in visual order:
    rule L2, every sequence at or above each odd level reversed, highest level first."""
    runs: list[tuple[str, int]] = []
    for char, level in zip(line, _bidi_levels(line), strict=True):
        if runs and runs[-1][1] == level:
            runs[-1] = (runs[-1][0] + char, level)
        else:
            runs.append((char, level))
    odd_levels = [level for _, level in runs if level % 2]
    if not odd_levels:
        return runs
    for level in range(max(level for _, level in runs), min(odd_levels) - 1, -1):
        index = 0
        while index < len(runs):
            if runs[index][1] < level:
                index += 1
                continue
            end = index
            while end < len(runs) and runs[end][1] >= level:
                end += 1
            runs[index:end] = runs[index:end][::-1]
            index = end
    return runs


def _has_strong_right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(char) in ("R", "AL") for char in text)


@functools.lru_cache(maxsize=4096)  # labels and words repeat on every certificate of a locale
def _glyph_runs(line: str, bold: bool) -> tuple[_GlyphRun, ...]:
    """One line of logical-order text as shaped glyph runs in visual order, left to right: the
    Unicode bidi algorithm (python-bidi) orders it, HarfBuzz shapes each run in its font."""
    level_runs = _visual_level_runs(line) if _RIGHT_TO_LEFT.search(line) else [(line, 0)]
    runs: list[_GlyphRun] = []
    for text, level in level_runs:
        font_runs = _font_runs(text, bold)
        if level % 2:
            font_runs.reverse()
        for run_text, font in font_runs:
            if level % 2 and not _has_strong_right_to_left(run_text):
                # Only neutrals (a bracket, a space), which HarfBuzz would set left to right: they
                # go in visual order, mirrored as rule L4 asks.
                run_text = "".join(MIRRORED.get(char, char) for char in reversed(run_text))
            run = _shape_run(
                run_text, font
            )  # Arabic and Hebrew: HarfBuzz sets them right to left, mirrored
            if (
                runs and runs[-1].font == font
            ):  # one text object per font: the words of a name stay one string
                joined = runs.pop().text + run.text
                run = _GlyphRun(font, joined, _advance(joined))
            runs.append(run)
    return tuple(runs)


def _unit_width(text: str, bold: bool) -> float:
    """Width of text at a font size of 1 point."""
    return sum(run.unit_width for run in _glyph_runs(text, bold))


def _clean(text: str) -> str:
    """Composed characters, single spaces, and no format controls other than the joiners that
    shaping needs (ZWNJ and ZWJ change how Persian or Devanagari letters join)."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    return "".join(
        char for char in text if unicodedata.category(char) != "Cf" or char in "\u200c\u200d"
    )


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _TextBlock:
    """Lines (logical order) set at one size; the result of fitting text into a width."""

    lines: tuple[str, ...]
    font_size: float
    bold: bool


def _split_long_word(word: str, unit_limit: float, bold: bool) -> list[str]:
    """Break a word wider than the line (a long unspaced name, or CJK) between characters."""
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and _unit_width(current + char, bold) > unit_limit:
            pieces.append(current)
            current = char
        else:
            current += char
    return [*pieces, current] if current else pieces


def _wrap(text: str, bold: bool, unit_limit: float) -> list[str]:
    """Greedy word wrap, measuring each word once (ReportLab does no kerning, so widths add up)."""
    space = _unit_width(" ", bold)
    words: list[str] = []
    for word in text.split(" "):
        words.extend(
            _split_long_word(word, unit_limit, bold)
            if _unit_width(word, bold) > unit_limit
            else [word]
        )
    lines: list[list[str]] = []
    line_width = 0.0
    for word in words:
        width = _unit_width(word, bold)
        if lines and line_width + space + width <= unit_limit:
            lines[-1].append(word)
            line_width += space + width
        else:
            lines.append([word])
            line_width = width
    return [" ".join(line) for line in lines]


def _balanced_wrap(text: str, bold: bool, unit_limit: float) -> list[str]:
    """Wrap into as few lines as greedy wrapping needs, but with lines of even length, which
    reads better centred than a full line over a short one."""
    lines = _wrap(text, bold, unit_limit)
    if len(lines) < 2:
        return lines
    low, high = unit_limit / len(lines), unit_limit
    for _ in range(12):
        middle = (low + high) / 2
        if len(_wrap(text, bold, middle)) <= len(lines):
            high = middle
        else:
            low = middle
    return _wrap(text, bold, high)


def _ellipsize(line: str, bold: bool, unit_limit: float) -> str:
    while line and _unit_width(line + "…", bold) > unit_limit:
        line = line[:-1].rstrip()
    return line + "…"


@functools.lru_cache(maxsize=1024)  # labels repeat on every certificate of a locale
def _fit(
    text: str,
    *,
    bold: bool,
    max_size: float,
    min_size: float,
    max_width: float = TEXT_WIDTH,
    max_lines: int = 1,
) -> _TextBlock:
    """Set text as large as it fits (max_size down to min_size): on one line if that keeps it near
    full size, otherwise wrapped into up to max_lines; text too long even then is cut with an
    ellipsis, so nothing ever runs off the page."""
    shaped = _clean(text)
    one_line_size = min(max_size, max_width / max(_unit_width(shaped, bold), 1e-6))
    if one_line_size >= min_size and (max_lines == 1 or one_line_size >= 0.8 * max_size):
        return _TextBlock((shaped,), one_line_size, bold)
    size = max_size
    while max_lines > 1 and size >= min_size and size > one_line_size:
        lines = _wrap(shaped, bold, max_width / size)
        if len(lines) <= max_lines:
            return _TextBlock(tuple(_balanced_wrap(shaped, bold, max_width / size)), size, bold)
        size -= 1
    if one_line_size >= min_size:
        return _TextBlock((shaped,), one_line_size, bold)
    lines = _wrap(shaped, bold, max_width / min_size)
    last_line = _ellipsize(" ".join(lines[max_lines - 1 :]), bold, max_width / min_size)
    return _TextBlock((*lines[: max_lines - 1], last_line), min_size, bold)


def _actual_text(text: str) -> str:
    """A PDF text string (UTF-16BE with its byte-order mark, in hex) for /ActualText."""
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def _draw_line(
    canvas: Canvas, line: str, *, bold: bool, font_size: float, center_x: float, y: float
) -> None:
    """Draw one line centred on ``center_x``."""
    _draw_runs(
        canvas,
        line,
        _glyph_runs(line, bold),
        font_size=font_size,
        anchor_x=center_x,
        y=y,
        align="center",
    )


def _draw_runs(
    canvas: Canvas,
    line: str,
    runs: tuple[_GlyphRun, ...],
    *,
    font_size: float,
    anchor_x: float,
    y: float,
    align: str,
) -> None:
    """Draw shaped runs of ``line`` whose left edge, centre or right edge (``align``) is at
    ``anchor_x``. The glyphs are in visual order and some (conjuncts, joining forms) stand for
    several letters or none, so the line is marked with its logical text as /ActualText:
    readers copy, search and read aloud the text as it was typed."""
    width = sum(run.unit_width for run in runs) * font_size
    x = anchor_x - {"left": 0.0, "center": width / 2, "right": width}[align]
    canvas.addLiteral(f"/Span <</ActualText {_actual_text(line)}>> BDC")
    for run in runs:
        canvas.setFont(run.font, font_size)
        canvas.drawString(x, y, run.text)
        x += run.unit_width * font_size
    canvas.addLiteral("EMC")


def _draw_block(
    canvas: Canvas,
    block: _TextBlock,
    *,
    top: float,
    center_x: float = CENTER_X,
    leading: float = 1.18,
) -> float:
    """Draw lines whose first cap height sits at ``top``; return the baseline of the last line."""
    baseline = top - block.font_size * 0.76
    for line in block.lines:
        _draw_line(
            canvas, line, bold=block.bold, font_size=block.font_size, center_x=center_x, y=baseline
        )
        baseline -= block.font_size * leading
    return baseline + block.font_size * leading


@dataclass(frozen=True)
class _StackItem:
    block: _TextBlock
    color: tuple[float, float, float]
    gap_before: float


def _block_height(block: _TextBlock, leading: float = 1.18) -> float:
    return block.font_size * (0.76 + leading * (len(block.lines) - 1))


def _draw_stack(
    canvas: Canvas, items: Sequence[_StackItem], *, top: float, bottom: float, rule_after_index: int
) -> None:
    """Centre the column of text blocks vertically between top and bottom (cap height to baseline),
    letting the gaps grow by up to half when there is room, so a short certificate does not look
    cramped in the middle of the page and a long one still clears the signatures and the QR code."""
    gaps = sum(item.gap_before for item in items)
    spare = (top - bottom) - gaps - sum(_block_height(item.block) for item in items)
    gap_scale = 1 + min(0.5, max(0.0, spare / 2) / gaps) if gaps else 1
    y = top - max(0.0, spare - gaps * (gap_scale - 1)) / 2
    for index, item in enumerate(items):
        y -= item.gap_before * gap_scale
        canvas.setFillColorRGB(*item.color)
        y = _draw_block(canvas, item.block, top=y)
        if index == rule_after_index:
            canvas.setStrokeColorRGB(*ACCENT)
            canvas.setLineWidth(1.2)
            canvas.line(CENTER_X - 36, y - 21, CENTER_X + 36, y - 21)


def _draw_border(canvas: Canvas) -> None:
    canvas.setStrokeColorRGB(*ACCENT)
    canvas.setLineWidth(2.2)
    canvas.rect(24, 24, PAGE_WIDTH - 48, PAGE_HEIGHT - 48)
    canvas.setLineWidth(0.6)
    canvas.rect(31, 31, PAGE_WIDTH - 62, PAGE_HEIGHT - 62)


# Scoring all eight QR masks is most of segno's time (it draws and scores the symbol eight
# times); every mask is valid and every reader decodes it, and a certificate prints the code large
# on white, so a fixed one is enough.
_QR_MASK = 1


_DARK_MODULE_RUN = re.compile(b"\x01+")


def _draw_qr(canvas: Canvas, data: str, *, x: float, y: float, size: float) -> None:
    """Draw the QR code as one filled vector path: each row's runs of dark modules become one
    rectangle, written straight into the content stream (thousands of path calls would cost more)."""
    matrix = segno.make(data, error="m", micro=False, mask=_QR_MASK).matrix
    module_count = len(matrix)
    rectangles = [
        f"{run.start()} {module_count - 1 - row_index} {run.end() - run.start()} 1 re"
        for row_index, row in enumerate(matrix)
        for run in _DARK_MODULE_RUN.finditer(bytes(row))
    ]
    scale = size / module_count
    canvas.addLiteral(
        f"q 0 g {scale:.4f} 0 0 {scale:.4f} {x:.2f} {y:.2f} cm\n" + "\n".join(rectangles) + "\nf Q"
    )


def _signature_block(
    canvas: Canvas, value: str, label: str, *, center_x: float, width: float
) -> None:
    line_y = 112
    canvas.setFillColorRGB(*INK)
    name = _fit(value, bold=False, max_size=13, min_size=8, max_width=width, max_lines=2)
    baseline = line_y + 8 + (len(name.lines) - 1) * name.font_size * 1.18
    for text_line in name.lines:
        _draw_line(
            canvas, text_line, bold=False, font_size=name.font_size, center_x=center_x, y=baseline
        )
        baseline -= name.font_size * 1.18
    canvas.setStrokeColorRGB(*MUTED)
    canvas.setLineWidth(0.5)
    canvas.line(center_x - width / 2, line_y, center_x + width / 2, line_y)
    canvas.setFillColorRGB(*MUTED)
    caption = _fit(label, bold=False, max_size=9, min_size=6, max_width=width)
    _draw_line(
        canvas,
        caption.lines[0],
        bold=False,
        font_size=caption.font_size,
        center_x=center_x,
        y=line_y - 13,
    )


# --------------------------------------------------------------------------- formatting


def _babel_locale(locale: str) -> Locale:
    try:
        return _parse_locale(locale)
    except (ValueError, TypeError, UnknownLocaleError):
        return _parse_locale(DEFAULT_LOCALE)


@functools.lru_cache(maxsize=32)
def _parse_locale(locale: str) -> Locale:
    return Locale.parse(locale.replace("-", "_"))


def _hours_text(hours: float, locale: Locale, translate: Callable[[str], str]) -> str:
    msgid = HOURS_ONE if hours == 1 else HOURS_MANY
    return translate(msgid) % {"hours": format_decimal(hours, locale=locale)}


# --------------------------------------------------------------------------- pages


# --------------------------------------------------------------------------- for other documents
# The transcript (lms.records.pdf) sets text in any script exactly as the certificate does.

TextBlock = _TextBlock


def primary_font() -> str:
    """The font a canvas should start with (registered here before the canvas needs it)."""
    return _primary_font()


def text_width(text: str, *, size: float, bold: bool = False) -> float:
    return _unit_width(_clean(text), bold) * size


def draw_text(
    canvas: Canvas,
    text: str,
    *,
    x: float,
    y: float,
    size: float,
    bold: bool = False,
    align: str = "left",
) -> None:
    """One line in any script, shaped, in visual order and marked with its typed text, whose
    left edge (``align="left"``), centre or right edge is at ``x``."""
    line = _clean(text)
    _draw_runs(canvas, line, _glyph_runs(line, bold), font_size=size, anchor_x=x, y=y, align=align)


def wrap_text(text: str, *, width: float, size: float, bold: bool = False) -> list[str]:
    """``text`` broken into lines no wider than ``width`` at ``size`` points."""
    line = _clean(text)
    return _wrap(line, bold, width / size) if line else [""]


def fit_text(
    text: str, *, bold: bool, max_size: float, min_size: float, max_width: float, max_lines: int = 1
) -> TextBlock:
    """As large as it fits, wrapped into up to ``max_lines``, cut with an ellipsis past that."""
    return _fit(
        text,
        bold=bold,
        max_size=max_size,
        min_size=min_size,
        max_width=max_width,
        max_lines=max_lines,
    )


def draw_qr(canvas: Canvas, data: str, *, x: float, y: float, size: float) -> None:
    _draw_qr(canvas, data, x=x, y=y, size=size)


def render_certificate(
    content: CertificateContent, translate: Callable[[str], str] = lambda s: s
) -> bytes:
    """Render one landscape Letter certificate; ``translate`` turns the English msgids above into
    the learner's language (gettext for ``content.locale``)."""
    locale = _babel_locale(content.locale)
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        initialFontName=_primary_font(),  # else ReportLab lists an unused Helvetica
        pageCompression=1,
        invariant=1,
        lang=str(locale).replace("_", "-"),
    )
    canvas.setTitle(f"{translate(HEADING)} {content.code}")
    canvas.setAuthor(content.organisation)
    canvas.setSubject(content.course_title)
    canvas.setCreator("lms")

    _draw_border(canvas)
    date_text = translate(HELD_ON) % {
        "date": format_date(content.session_date, format="long", locale=locale)
    }
    details = f"{date_text}  ·  {_hours_text(content.hours, locale, translate)}"
    _draw_stack(
        canvas,
        [
            _StackItem(
                _fit(content.organisation, bold=True, max_size=13, min_size=8), ACCENT, gap_before=0
            ),
            _StackItem(
                _fit(translate(HEADING), bold=True, max_size=34, min_size=18), INK, gap_before=24
            ),
            _StackItem(
                _fit(translate(CERTIFIES_THAT), bold=False, max_size=14, min_size=9),
                MUTED,
                gap_before=46,
            ),
            _StackItem(
                _fit(content.learner_name, bold=True, max_size=36, min_size=14, max_lines=2),
                INK,
                20,
            ),
            _StackItem(
                _fit(translate(COMPLETED_LIVE_SESSION), bold=False, max_size=14, min_size=9),
                MUTED,
                20,
            ),
            _StackItem(
                _fit(content.course_title, bold=True, max_size=22, min_size=10, max_lines=3),
                INK,
                16,
            ),
            _StackItem(_fit(details, bold=False, max_size=13, min_size=8), MUTED, gap_before=16),
        ],
        top=560,
        bottom=196,
        rule_after_index=1,
    )

    _signature_block(
        canvas, content.facilitator_name, translate(FACILITATOR_LABEL), center_x=190, width=200
    )
    _signature_block(
        canvas, content.organisation, translate(ISSUED_BY_LABEL), center_x=430, width=200
    )

    qr_size, qr_center_x = 88.0, 650.0
    _draw_qr(canvas, content.verify_url, x=qr_center_x - qr_size / 2, y=84, size=qr_size)
    canvas.setFillColorRGB(*INK)
    code = _fit(content.code, bold=False, max_size=9, min_size=6, max_width=150)
    _draw_line(
        canvas, code.lines[0], bold=False, font_size=code.font_size, center_x=qr_center_x, y=72
    )

    canvas.setFillColorRGB(*MUTED)
    verify = _fit(
        translate(VERIFY_AT) % {"url": content.verify_url}, bold=False, max_size=8.5, min_size=5
    )
    _draw_line(
        canvas, verify.lines[0], bold=False, font_size=verify.font_size, center_x=CENTER_X, y=44
    )

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_bare_page(lines: Iterable[str], qr_data: str | None = None) -> bytes:
    """The benchmark's baseline: the same text in the same fonts and the same QR code, drawn with
    ReportLab alone (its own HarfBuzz shaping, one centred line each), without the certificate's
    bidi ordering, fitting, wrapping, layout or caching."""
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        initialFontName=_primary_font(),
        pageCompression=1,
        invariant=1,
    )
    y = PAGE_HEIGHT - 90
    for line in lines:
        runs = [_shape_run(text, font) for text, font in _font_runs(line, False)]
        x = CENTER_X - sum(run.unit_width for run in runs) * 14 / 2
        for run in runs:
            canvas.setFont(run.font, 14)
            canvas.drawString(x, y, run.text)
            x += run.unit_width * 14
        y -= 22
    if qr_data is not None:
        _draw_qr(canvas, qr_data, x=606, y=84, size=88)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
