"""Certificate PDF rendering: a pure function from certificate content to PDF bytes.

This module imports neither Flask nor SQLAlchemy (see DESIGN.md section 3): only ReportLab,
segno, Babel and the standard library, so it can run in a worker or a benchmark unchanged.

Text in any script is drawn with TrueType fonts shipped in ``fonts/`` (DejaVu Sans for Latin,
Greek, Cyrillic, Hebrew and Arabic; Noto Sans Devanagari), falling back to ReportLab's built-in
CID fonts for Chinese, Japanese and Korean. ReportLab does no complex-script shaping of its own,
so this module does the minimum a name needs to read correctly: Arabic contextual forms (through
the Unicode presentation-form code points, which DejaVu carries), right-to-left reordering for
Arabic and Hebrew, and moving the Devanagari short-i vowel sign before its consonant cluster.
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
from reportlab import rl_config
from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
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

# Binary (zlib only) streams: ReportLab's default ASCII85 layer makes files a quarter larger and
# costs a pure-Python encoding pass over every font subset. PDF readers all accept both.
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
class _TrueTypeFace:
    name: str
    coverage: frozenset[int]


@dataclass(frozen=True)
class _FontFamily:
    """The fonts tried, in order, for each character of one weight (regular or bold)."""

    primary: _TrueTypeFace
    fallbacks: tuple[_TrueTypeFace, ...]


@dataclass(frozen=True)
class _Fonts:
    regular: _FontFamily
    bold: _FontFamily

    def family(self, bold: bool) -> _FontFamily:
        return self.bold if bold else self.regular


_CJK_FONT_CHINESE = "STSong-Light"
_CJK_FONT_JAPANESE = "HeiseiKakuGo-W5"
_CJK_FONT_KOREAN = "HYGothic-Medium"

_font_lock = threading.Lock()


def _register_truetype(name: str, filename: str) -> _TrueTypeFace:
    # asciiReadable=False numbers glyphs in order of use, so a subset holds only the glyphs drawn
    # (not all of ASCII too): smaller files and about a millisecond less per certificate.
    font = TTFont(name, str(FONTS_DIR / filename), asciiReadable=False)
    pdfmetrics.registerFont(font)
    return _TrueTypeFace(name, frozenset(font.face.charToGlyph))


@functools.cache
def _load_fonts() -> _Fonts:
    dejavu = _register_truetype("LMS-DejaVuSans", "DejaVuSans.ttf")
    dejavu_bold = _register_truetype("LMS-DejaVuSans-Bold", "DejaVuSans-Bold.ttf")
    devanagari = _register_truetype("LMS-NotoSansDevanagari", "NotoSansDevanagari-Regular.ttf")
    devanagari_bold = _register_truetype("LMS-NotoSansDevanagari-Bold", "NotoSansDevanagari-Bold.ttf")
    for cid_font in (_CJK_FONT_CHINESE, _CJK_FONT_JAPANESE, _CJK_FONT_KOREAN):
        pdfmetrics.registerFont(UnicodeCIDFont(cid_font))
    return _Fonts(
        regular=_FontFamily(dejavu, (devanagari,)),
        bold=_FontFamily(dejavu_bold, (devanagari_bold,)),
    )


def _fonts() -> _Fonts:
    """The shipped fonts, registered once per process (parsing them takes tens of milliseconds);
    the lock keeps two threads' first certificates from registering them twice."""
    with _font_lock:
        return _load_fonts()


def _is_kana(char: str) -> bool:
    return "\u3040" <= char <= "\u30ff" or "\u31f0" <= char <= "\u31ff"


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7af" or "\u1100" <= char <= "\u11ff" or "\u3130" <= char <= "\u318f"


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, CJK punctuation, kana, unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0x1100 <= code <= 0x11FF  # Hangul jamo
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x2FA1F  # supplementary ideographs
    )


def _cjk_font_for(text: str) -> str:
    if any(_is_kana(char) for char in text):
        return _CJK_FONT_JAPANESE
    if any(_is_hangul(char) for char in text):
        return _CJK_FONT_KOREAN
    return _CJK_FONT_CHINESE


def _font_for_char(char: str, family: _FontFamily, cjk_font: str) -> str:
    code = ord(char)
    if code in family.primary.coverage:
        return family.primary.name
    for face in family.fallbacks:
        if code in face.coverage:
            return face.name
    if _is_cjk(char):
        return cjk_font
    return family.primary.name  # nothing covers it: the primary font's missing-glyph box


@functools.lru_cache(maxsize=1024)
def _font_runs(visual_text: str, bold: bool) -> tuple[tuple[str, str], ...]:
    """Split text into (text, font name) runs, keeping a run going while its font covers the next
    character, so spaces and punctuation inside a Devanagari or CJK name don't fragment it."""
    family = _fonts().family(bold)
    cjk_font = _cjk_font_for(visual_text)
    coverage_by_name = {face.name: face.coverage for face in (family.primary, *family.fallbacks)}
    runs: list[tuple[str, str]] = []
    current_font = ""
    current_chars: list[str] = []
    for char in visual_text:
        current_coverage = coverage_by_name.get(current_font)
        keeps_run = bool(current_chars) and (
            ord(char) in current_coverage if current_coverage is not None else _is_cjk(char) or char == " "
        )
        if keeps_run:
            current_chars.append(char)
            continue
        if current_chars:
            runs.append(("".join(current_chars), current_font))
        current_font = _font_for_char(char, family, cjk_font)
        current_chars = [char]
    if current_chars:
        runs.append(("".join(current_chars), current_font))
    return tuple(runs)


def _unit_width(text: str, bold: bool) -> float:
    """Width of text at a font size of 1 point."""
    return float(sum(pdfmetrics.stringWidth(run, font, 1.0) for run, font in _font_runs(text, bold)))


# --------------------------------------------------------------------------- shaping


_ARABIC_FORMS = ("isolated", "final", "initial", "medial")
_LAM = "\u0644"
_ALEFS = frozenset("\u0622\u0623\u0625\u0627")
_TATWEEL = "\u0640"
_ZWJ = "\u200d"


@dataclass(frozen=True)
class _ArabicTables:
    forms: dict[tuple[str, str], str]  # (letter, form) -> presentation-form character
    lam_alef: dict[tuple[str, str], str]  # (alef, form) -> lam-alef ligature
    dual_joining: frozenset[str]
    right_joining: frozenset[str]


@functools.cache
def _arabic_tables() -> _ArabicTables:
    """Derive Arabic joining behaviour from Unicode's presentation forms, limited to glyphs the
    shipped fonts have, so a form is only used where it will not come out as a missing glyph."""
    covered = _fonts().regular.primary.coverage & _fonts().bold.primary.coverage
    forms: dict[tuple[str, str], str] = {}
    lam_alef: dict[tuple[str, str], str] = {}
    for code in (*range(0xFE70, 0xFF00), *range(0xFB50, 0xFE00)):  # forms-B first: the usual letters
        decomposition = unicodedata.decomposition(chr(code)).split()
        if code not in covered or len(decomposition) < 2 or decomposition[0][1:-1] not in _ARABIC_FORMS:
            continue
        form, letters = decomposition[0][1:-1], [chr(int(part, 16)) for part in decomposition[1:]]
        if len(letters) == 1:
            forms.setdefault((letters[0], form), chr(code))
        elif len(letters) == 2 and letters[0] == _LAM and letters[1] in _ALEFS:
            lam_alef.setdefault((letters[1], form), chr(code))
    letters_with_forms = {letter for letter, _ in forms}
    dual = frozenset(
        letter for letter in letters_with_forms if (letter, "initial") in forms and (letter, "medial") in forms
    )
    right = frozenset(letter for letter in letters_with_forms if letter not in dual and (letter, "final") in forms)
    return _ArabicTables(forms, lam_alef, dual, right)


def _joining_type(char: str, tables: _ArabicTables) -> str:
    if char in tables.dual_joining:
        return "D"
    if char in tables.right_joining:
        return "R"
    if char in (_TATWEEL, _ZWJ):
        return "C"
    if unicodedata.category(char) in ("Mn", "Me"):
        return "T"
    return "U"


def _shape_arabic(text: str) -> str:
    tables = _arabic_tables()
    types = [_joining_type(char, tables) for char in text]

    def neighbour_type(index: int, step: int) -> str:
        index += step
        while 0 <= index < len(text) and types[index] == "T":
            index += step
        return types[index] if 0 <= index < len(text) else "U"

    shaped: list[str] = []
    index = 0
    while index < len(text):
        char, kind = text[index], types[index]
        if kind not in ("D", "R"):
            shaped.append(char)
            index += 1
            continue
        joins_previous = neighbour_type(index, -1) in ("D", "C")
        next_char = text[index + 1] if index + 1 < len(text) else ""
        if char == _LAM and next_char in _ALEFS:
            ligature = tables.lam_alef.get((next_char, "final" if joins_previous else "isolated"))
            if ligature:
                shaped.append(ligature)
                index += 2
                continue
        joins_next = kind == "D" and neighbour_type(index, 1) in ("D", "R", "C")
        form = {(True, True): "medial", (True, False): "final", (False, True): "initial"}.get(
            (joins_previous, joins_next), "isolated"
        )
        shaped.append(tables.forms.get((char, form), char))
        index += 1
    return "".join(shaped)


_DEVANAGARI_CONSONANT = "[\u0915-\u0939\u0958-\u095f\u0978-\u097f]\u093c?"
_DEVANAGARI_PRE_BASE_I = re.compile(f"((?:{_DEVANAGARI_CONSONANT}\u094d)*{_DEVANAGARI_CONSONANT})\u093f")


def _reorder_devanagari(text: str) -> str:
    """The short-i vowel sign is typed after its consonant cluster but drawn before it."""
    return _DEVANAGARI_PRE_BASE_I.sub("\u093f\\1", text)


_ARABIC_LETTERS = re.compile("[\u0600-\u06ff\u0750-\u077f]")
_DEVANAGARI_LETTERS = re.compile("[\u0900-\u097f]")


def _is_right_to_left(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("R", "AL")


def _shape(text: str) -> str:
    """Logical-order text with the glyph substitutions the fonts need, without format controls."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if _ARABIC_LETTERS.search(text):
        text = _shape_arabic(text)
    if _DEVANAGARI_LETTERS.search(text):
        text = _reorder_devanagari(text)
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


# --------------------------------------------------------------------------- bidi

_MIRRORED = dict(zip("()[]{}<>«»\u2039\u203a", ")(][}{><»«\u203a\u2039", strict=True))
_OPENING_BRACKETS = frozenset("([{")
_CLOSING_BRACKETS = {")": "(", "]": "[", "}": "{"}
_NEUTRAL = frozenset(("B", "S", "WS", "ON", "BN", "LRE", "LRO", "RLE", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"))


def _bidi_types(text: str, base_level: int) -> list[str]:
    """Unicode bidi rules W1-W7 on one line without explicit embeddings."""
    types = [unicodedata.bidirectional(char) or "L" for char in text]
    start_type = "R" if base_level else "L"
    previous = start_type
    for index, kind in enumerate(types):  # W1: marks take the type of what they sit on
        if kind == "NSM":
            types[index] = previous
        previous = types[index]
    last_strong = start_type
    for index, kind in enumerate(types):  # W2, W3: Arabic context turns European digits Arabic
        if kind in ("L", "R", "AL"):
            last_strong = kind
        if kind == "EN" and last_strong == "AL":
            types[index] = "AN"
        if kind == "AL":
            types[index] = "R"
    for index in range(1, len(types) - 1):  # W4: one separator between two numbers joins them
        before, kind, after = types[index - 1], types[index], types[index + 1]
        if (kind == "ES" and before == after == "EN") or (kind == "CS" and before == after in ("EN", "AN")):
            types[index] = before
    for index, kind in enumerate(types):  # W5: currency and percent signs next to numbers
        if kind == "ET" and (
            (index > 0 and types[index - 1] == "EN") or (index + 1 < len(types) and types[index + 1] == "EN")
        ):
            types[index] = "EN"
    types = ["ON" if kind in ("ES", "ET", "CS") else kind for kind in types]  # W6
    last_strong = start_type
    for index, kind in enumerate(types):  # W7: European digits in a left-to-right context
        if kind in ("L", "R"):
            last_strong = kind
        if kind == "EN" and last_strong == "L":
            types[index] = "L"
    return types


def _bracket_pairs(text: str) -> list[tuple[int, int]]:
    """Matching bracket pairs as rule BD16 finds them (the stack gives up past 63 levels)."""
    pairs: list[tuple[int, int]] = []
    openers: list[tuple[str, int]] = []
    for index, char in enumerate(text):
        if char in _OPENING_BRACKETS:
            if len(openers) == 63:
                break
            openers.append((char, index))
        elif char in _CLOSING_BRACKETS:
            wanted = _CLOSING_BRACKETS[char]
            for depth in range(len(openers) - 1, -1, -1):
                if openers[depth][0] == wanted:
                    pairs.append((openers[depth][1], index))
                    del openers[depth:]
                    break
    return sorted(pairs)


def _resolve_brackets(text: str, types: list[str], base_level: int) -> None:
    """Rule N0: a bracket pair takes the direction of what it encloses, so "(Parte 2)" in an
    Arabic title keeps its brackets around the right words."""
    embedding = "R" if base_level else "L"
    strong = ["R" if kind in ("EN", "AN") else kind for kind in types]
    for opening, closing in _bracket_pairs(text):
        inside = {kind for kind in strong[opening + 1 : closing] if kind in ("L", "R")}
        if not inside:
            continue
        if embedding in inside:
            direction = embedding
        else:  # only the opposite direction inside: it wins if the text before is of it too
            direction = next((kind for kind in reversed(strong[:opening]) if kind in ("L", "R")), embedding)
        types[opening] = types[closing] = direction
        strong[opening] = strong[closing] = direction


def _resolve_neutrals(types: list[str], base_level: int) -> list[str]:
    """Rules N1-N2: neutrals between two runs of one direction take it, others the paragraph's."""
    start_type = "R" if base_level else "L"
    strong = ["R" if kind in ("EN", "AN") else kind for kind in types]
    resolved = list(types)
    index = 0
    while index < len(types):
        if strong[index] not in _NEUTRAL:
            index += 1
            continue
        end = index
        while end < len(types) and strong[end] in _NEUTRAL:
            end += 1
        before = strong[index - 1] if index > 0 else start_type
        after = strong[end] if end < len(types) else start_type
        direction = before if before == after else start_type
        resolved[index:end] = [direction] * (end - index)
        index = end
    return resolved


_RIGHT_TO_LEFT_BLOCKS = re.compile(
    "[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff\U0001e800-\U0001efff]"
)


def _visual_order(line: str) -> str:
    """Reorder one line from logical to visual order (Unicode bidi, implicit levels only)."""
    if not _RIGHT_TO_LEFT_BLOCKS.search(line):
        return line
    first_strong = next((char for char in line if unicodedata.bidirectional(char) in ("L", "R", "AL")), "")
    base_level = 1 if first_strong and _is_right_to_left(first_strong) else 0
    types = _bidi_types(line, base_level)
    _resolve_brackets(line, types, base_level)
    types = _resolve_neutrals(types, base_level)
    if base_level == 0:  # I1
        levels = [0 if kind == "L" else 1 if kind == "R" else 2 for kind in types]
    else:  # I2
        levels = [2 if kind in ("L", "EN", "AN") else 1 for kind in types]
    characters = [_MIRRORED.get(char, char) if level % 2 else char for char, level in zip(line, levels, strict=True)]
    for level in range(max(levels), 0, -1):  # L2: reverse every run at or above each odd level
        index = 0
        while index < len(levels):
            if levels[index] < level:
                index += 1
                continue
            end = index
            while end < len(levels) and levels[end] >= level:
                end += 1
            characters[index:end] = characters[index:end][::-1]
            levels[index:end] = levels[index:end][::-1]
            index = end
    return "".join(characters)


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
        words.extend(_split_long_word(word, unit_limit, bold) if _unit_width(word, bold) > unit_limit else [word])
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
    shaped = _shape(text)
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


def _draw_line(canvas: Canvas, line: str, *, bold: bool, font_size: float, center_x: float, y: float) -> None:
    visual = _visual_order(line)
    runs = _font_runs(visual, bold)
    x = center_x - sum(pdfmetrics.stringWidth(run, font, font_size) for run, font in runs) / 2
    for run, font in runs:
        canvas.setFont(font, font_size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, font, font_size)


def _draw_block(
    canvas: Canvas, block: _TextBlock, *, top: float, center_x: float = CENTER_X, leading: float = 1.18
) -> float:
    """Draw lines whose first cap height sits at ``top``; return the baseline of the last line."""
    baseline = top - block.font_size * 0.76
    for line in block.lines:
        _draw_line(canvas, line, bold=block.bold, font_size=block.font_size, center_x=center_x, y=baseline)
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


# Scoring all eight QR masks is most of segno's time (about 5 ms); every mask is valid and every
# reader decodes it, and a certificate prints the code large on white, so a fixed one is enough.
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
    canvas.addLiteral(f"q 0 g {scale:.4f} 0 0 {scale:.4f} {x:.2f} {y:.2f} cm\n" + "\n".join(rectangles) + "\nf Q")


def _signature_block(canvas: Canvas, value: str, label: str, *, center_x: float, width: float) -> None:
    line_y = 112
    canvas.setFillColorRGB(*INK)
    name = _fit(value, bold=False, max_size=13, min_size=8, max_width=width, max_lines=2)
    baseline = line_y + 8 + (len(name.lines) - 1) * name.font_size * 1.18
    for text_line in name.lines:
        _draw_line(canvas, text_line, bold=False, font_size=name.font_size, center_x=center_x, y=baseline)
        baseline -= name.font_size * 1.18
    canvas.setStrokeColorRGB(*MUTED)
    canvas.setLineWidth(0.5)
    canvas.line(center_x - width / 2, line_y, center_x + width / 2, line_y)
    canvas.setFillColorRGB(*MUTED)
    caption = _fit(label, bold=False, max_size=9, min_size=6, max_width=width)
    _draw_line(canvas, caption.lines[0], bold=False, font_size=caption.font_size, center_x=center_x, y=line_y - 13)


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


def render_certificate(content: CertificateContent, translate: Callable[[str], str] = lambda s: s) -> bytes:
    """Render one landscape Letter certificate; ``translate`` turns the English msgids above into
    the learner's language (gettext for ``content.locale``)."""
    locale = _babel_locale(content.locale)
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        initialFontName=_fonts().regular.primary.name,  # else ReportLab lists an unused Helvetica
        pageCompression=1,
        invariant=1,
        lang=str(locale).replace("_", "-"),
    )
    canvas.setTitle(f"{translate(HEADING)} {content.code}")
    canvas.setAuthor(content.organisation)
    canvas.setSubject(content.course_title)
    canvas.setCreator("lms")

    _draw_border(canvas)
    date_text = translate(HELD_ON) % {"date": format_date(content.session_date, format="long", locale=locale)}
    details = f"{date_text}  ·  {_hours_text(content.hours, locale, translate)}"
    _draw_stack(
        canvas,
        [
            _StackItem(_fit(content.organisation, bold=True, max_size=13, min_size=8), ACCENT, gap_before=0),
            _StackItem(_fit(translate(HEADING), bold=True, max_size=34, min_size=18), INK, gap_before=24),
            _StackItem(_fit(translate(CERTIFIES_THAT), bold=False, max_size=14, min_size=9), MUTED, gap_before=46),
            _StackItem(_fit(content.learner_name, bold=True, max_size=36, min_size=14, max_lines=2), INK, 20),
            _StackItem(_fit(translate(COMPLETED_LIVE_SESSION), bold=False, max_size=14, min_size=9), MUTED, 20),
            _StackItem(_fit(content.course_title, bold=True, max_size=22, min_size=10, max_lines=3), INK, 16),
            _StackItem(_fit(details, bold=False, max_size=13, min_size=8), MUTED, gap_before=16),
        ],
        top=560,
        bottom=196,
        rule_after_index=1,
    )

    _signature_block(canvas, content.facilitator_name, translate(FACILITATOR_LABEL), center_x=190, width=200)
    _signature_block(canvas, content.organisation, translate(ISSUED_BY_LABEL), center_x=430, width=200)

    qr_size, qr_center_x = 88.0, 650.0
    _draw_qr(canvas, content.verify_url, x=qr_center_x - qr_size / 2, y=84, size=qr_size)
    canvas.setFillColorRGB(*INK)
    code = _fit(content.code, bold=False, max_size=9, min_size=6, max_width=150)
    _draw_line(canvas, code.lines[0], bold=False, font_size=code.font_size, center_x=qr_center_x, y=72)

    canvas.setFillColorRGB(*MUTED)
    verify = _fit(translate(VERIFY_AT) % {"url": content.verify_url}, bold=False, max_size=8.5, min_size=5)
    _draw_line(canvas, verify.lines[0], bold=False, font_size=verify.font_size, center_x=CENTER_X, y=44)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_bare_page(lines: Iterable[str]) -> bytes:
    """The same kind of page with plain Helvetica text and no QR: the benchmark's baseline."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1, invariant=1)
    y = PAGE_HEIGHT - 90
    for line in lines:
        canvas.setFont("Helvetica", 14)
        canvas.drawCentredString(CENTER_X, y, line)
        y -= 22
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
