"""Certificate PDFs: what they print, in which language, their QR code, and that long text fits."""

from __future__ import annotations

import dataclasses
import datetime
import io
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import uharfbuzz as hb
import zxingcpp
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

from lms.certificates.pdf import CertificateContent, render_bare_page, render_certificate
from tests.helpers.certificates import page_text

REPO = Path(__file__).resolve().parents[2]
PAGE_WIDTH, PAGE_HEIGHT = 792, 612
INNER_BORDER = 31  # the hairline rule inside the page edge; all text stays inside it

SPANISH = {
    "Certificate of Completion": "Certificado de finalización",
    "This certifies that": "Se certifica que",
    "completed the live session": "completó la sesión en vivo",
    "on %(date)s": "el %(date)s",
    "%(hours)s hour": "%(hours)s hora",
    "%(hours)s hours": "%(hours)s horas",
    "Facilitator": "Facilitador/a",
    "Issued by": "Emitido por",
    "Verify at %(url)s": "Verifique en %(url)s",
}


def spanish(message: str) -> str:
    return SPANISH.get(message, message)


def make_content(**changes: Any) -> CertificateContent:
    content = CertificateContent(
        code="K7QD-3MPX-W9TA-HF2C-8RZE",
        learner_name="José Ñúñez",
        course_title="Supporting Students with Disabilities",
        hours=1.5,
        session_date=datetime.date(2020, 7, 23),
        facilitator_name="Dr. Maria Okafor",
        organisation="National Education Association",
        verify_url="https://learn.example.org/learn/verify/K7QD-3MPX-W9TA-HF2C-8RZE",
        locale="en",
    )
    return dataclasses.replace(content, **changes)


def glyph_text(pdf: bytes) -> str:
    """The page's text as pypdf extracts it: from the glyphs drawn (in logical order for
    right-to-left lines), each mapped through its font's ToUnicode table."""
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def normalized(text: str) -> str:
    # Arabic is drawn with its contextual forms (isolated, initial, medial, final), whose code
    # points compatibility normalization folds back to the letters that were typed.
    return unicodedata.normalize("NFKC", text)


def page_fonts(pdf: bytes) -> list[Any]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    resources: Any = page["/Resources"]
    fonts = resources["/Font"]
    return [fonts[key].get_object() for key in fonts]


def embedded_font_names(pdf: bytes) -> set[str]:
    return {str(font["/BaseFont"]) for font in page_fonts(pdf)}


def actual_texts(pdf: bytes) -> list[str]:
    """The /ActualText of each marked line, in the order drawn."""
    reader = PdfReader(io.BytesIO(pdf))
    content = ContentStream(reader.pages[0].get_contents(), reader)
    return [
        str(operands[1]["/ActualText"])
        for operands, operator in content.operations
        if operator == b"BDC"
    ]


def outline(font: TTFont, glyph_name: str) -> tuple[Any, ...]:
    coordinates, end_points, _flags = font["glyf"][glyph_name].getCoordinates(font["glyf"])
    return (tuple(map(tuple, coordinates)), tuple(end_points))


def glyphs_drawn_for(pdf: bytes, text: str) -> list[tuple[Any, ...]]:
    """The outlines of the glyphs drawn in the line marked with ``text``, left to right, read
    from the embedded font subsets (by the byte codes the content stream shows)."""
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    fonts = page["/Resources"]["/Font"]
    subsets: dict[str, tuple[TTFont, dict[int, str]]] = {}
    drawn: list[tuple[Any, ...]] = []
    inside = False
    current = ""
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"BDC":
            inside = str(operands[1]["/ActualText"]) == text
        elif operator == b"EMC":
            inside = False
        elif operator == b"Tf":
            current = str(operands[0])
        elif inside and operator in (b"Tj", b"TJ"):
            if current not in subsets:
                data = fonts[current].get_object()["/FontDescriptor"]["/FontFile2"].get_data()
                subset = TTFont(io.BytesIO(data))
                subsets[current] = (subset, subset["cmap"].tables[0].cmap)
            subset, cmap = subsets[current]
            strings = (
                [operands[0]]
                if operator == b"Tj"
                else [item for item in operands[0] if isinstance(item, (str, bytes))]
            )
            for string in strings:
                codes = string if isinstance(string, bytes) else string.original_bytes
                drawn.extend(outline(subset, cmap[code]) for code in codes)
    return drawn


def harfbuzz_glyphs(text: str, font_file: str) -> list[tuple[Any, ...]]:
    """The outlines of the glyphs HarfBuzz gives for ``text`` in the shipped font, in visual order."""
    path = REPO / "lms" / "certificates" / "fonts" / font_file
    font = hb.Font(hb.Face(hb.Blob.from_file_path(str(path))))
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font, buffer, {"kern": True, "liga": True})
    original = TTFont(path)
    order = original.getGlyphOrder()
    return [outline(original, order[info.codepoint]) for info in buffer.glyph_infos]


def unshaped_glyphs(text: str, font_file: str) -> list[tuple[Any, ...]]:
    """One glyph per character, from the font's character map: what a PDF without shaping draws."""
    original = TTFont(REPO / "lms" / "certificates" / "fonts" / font_file)
    cmap = original.getBestCmap()
    return [outline(original, cmap[ord(char)]) for char in text]


@pytest.mark.parametrize(
    "learner_name, font_file",
    [
        ("अनिता शर्मा", "NotoSansDevanagari-Bold.ttf"),  # a reordered vowel sign, a reph
        ("क्षत्रिय प्रिया", "NotoSansDevanagari-Bold.ttf"),  # conjuncts
        ("محمد عبد الله", "DejaVuSans-Bold.ttf"),  # joining forms, right to left
        ("فاطمة لأمين", "DejaVuSans-Bold.ttf"),  # a lam-alef ligature
    ],
)
def test_the_glyphs_drawn_are_the_ones_harfbuzz_gives(learner_name: str, font_file: str) -> None:
    pdf = render_certificate(make_content(learner_name=learner_name))

    drawn = glyphs_drawn_for(pdf, learner_name)

    assert drawn == harfbuzz_glyphs(learner_name, font_file)
    assert drawn != unshaped_glyphs(learner_name, font_file)  # shaping changed something


NAMES_BY_SCRIPT = {
    "latin": ("José Ñúñez", "DejaVuSans"),
    "latin-extended": ("Françoise Dupré-Løvås Łukasz Şahin", "DejaVuSans"),
    "vietnamese": ("Nguyễn Thị Minh Khai", "DejaVuSans"),
    "greek": ("Αλέξανδρος Παπαδόπουλος", "DejaVuSans"),
    "cyrillic": ("Анастасия Иванова", "DejaVuSans"),
    "arabic": ("محمد عبد الله", "DejaVuSans"),
    "hebrew": ("דוד כהן", "DejaVuSans"),
    "devanagari": ("अनिता शर्मा", "NotoSansDevanagari"),
    "chinese": ("李小龍", "DroidSansFallback"),
    "japanese": ("山田 さくら", "DroidSansFallback"),
    "korean": ("김민준", "DroidSansFallback"),
}
RIGHT_TO_LEFT = {"arabic", "hebrew"}


@pytest.mark.parametrize("script", NAMES_BY_SCRIPT)
def test_prints_the_learner_name_in_its_own_script(script: str) -> None:
    learner_name, face = NAMES_BY_SCRIPT[script]
    pdf = render_certificate(make_content(learner_name=learner_name))

    if (
        script in RIGHT_TO_LEFT
    ):  # PDFium reorders right-to-left text on its own; pypdf reads it in order
        assert normalized(learner_name) in normalized(glyph_text(pdf))
    else:
        assert learner_name in page_text(pdf).splitlines()
    assert learner_name in actual_texts(pdf)
    assert any(face in name for name in embedded_font_names(pdf))


@pytest.mark.parametrize("script", NAMES_BY_SCRIPT)
def test_every_font_is_embedded(script: str) -> None:
    pdf = render_certificate(make_content(learner_name=NAMES_BY_SCRIPT[script][0]))

    fonts = page_fonts(pdf)
    assert fonts
    for font in fonts:
        assert font["/Subtype"] == "/TrueType", font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"], f"{font['/BaseFont']} is not embedded"


def test_prints_every_field_of_the_certificate() -> None:
    content = make_content()

    text = page_text(render_certificate(content))

    for expected in (
        "Certificate of Completion",
        "This certifies that",
        "completed the live session",
        content.course_title,
        content.code,
        content.facilitator_name,
        content.organisation,
        "July 23, 2020",
        "1.5 hours",
        f"Verify at {content.verify_url}",
    ):
        assert expected in text


def test_dates_and_hours_follow_the_locale_and_labels_are_translated() -> None:
    text = page_text(render_certificate(make_content(locale="es"), translate=spanish))

    for expected in (
        "Certificado de finalización",
        "Se certifica que",
        "completó la sesión en vivo",
        "el 23 de julio de 2020",
        "1,5 horas",
        "Facilitador/a",
        "Emitido por",
        "Verifique en https://learn.example.org/",
    ):
        assert expected in text
    assert "Certificate of Completion" not in text


def test_one_hour_is_singular() -> None:
    assert "1 hora" in page_text(
        render_certificate(make_content(hours=1.0, locale="es"), translate=spanish)
    )
    assert "1 hour" in page_text(render_certificate(make_content(hours=1.0)))
    assert "1 hours" not in page_text(render_certificate(make_content(hours=1.0)))


def test_arabic_letters_are_joined() -> None:
    text = glyph_text(render_certificate(make_content(learner_name="محمد")))

    # meem at the start of a word takes its initial form, dal at the end its final form
    assert "\ufee3" in text and "\ufeaa" in text


def test_brackets_and_numbers_in_right_to_left_text_follow_the_bidi_algorithm() -> None:
    pdf = render_certificate(make_content(learner_name="علي (Ali) 2024"))

    # An Arabic line: the number and the Latin word keep their own order, the brackets around it
    # are mirrored back to read "(Ali)", and all of it stands left of the Arabic name.
    expected = unshaped_glyphs("2024 (Ali) ", "DejaVuSans-Bold.ttf") + harfbuzz_glyphs(
        "علي", "DejaVuSans-Bold.ttf"
    )
    assert glyphs_drawn_for(pdf, "علي (Ali) 2024") == expected


def test_latin_text_is_embedded_in_a_unicode_truetype_font() -> None:
    names = embedded_font_names(render_certificate(make_content()))

    assert any("DejaVuSans" in name for name in names)
    assert not any("Helvetica" in name for name in names)


def decode_qr_codes(pdf: bytes) -> list[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=3).to_pil()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize(
    "verify_url",
    [
        "https://learn.example.org/learn/verify/K7QD-3MPX-W9TA-HF2C-8RZE",
        "http://localhost:5000/verify/ABCD-EFGH-JKMN-PQRS-TVWX",
        "https://certificates.national-education-association.example.org/professional-learning/verify/"
        "Z9Y8-X7W6-V5T4-S3R2-Q1P0?lang=es",
    ],
)
def test_qr_code_leads_to_the_verification_page(verify_url: str) -> None:
    assert decode_qr_codes(render_certificate(make_content(verify_url=verify_url))) == [verify_url]


def char_boxes_outside_the_border(pdf: bytes) -> list[str]:
    page = pypdfium2.PdfDocument(pdf)[0]
    text_page = page.get_textpage()
    outside = []
    for index in range(text_page.count_chars()):
        left, bottom, right, top = text_page.get_charbox(index)
        if right <= left:  # spaces and line breaks have no box
            continue
        if (
            left < INNER_BORDER
            or right > PAGE_WIDTH - INNER_BORDER
            or bottom < INNER_BORDER
            or top > PAGE_HEIGHT - INNER_BORDER
        ):
            outside.append(text_page.get_text_range(index, 1))
    return outside


def test_long_names_and_titles_shrink_or_wrap_to_stay_on_one_page() -> None:
    long_title = (
        "Trauma-Informed Practices for Paraeducators and Education Support Professionals: "
        "Building Safe, Supportive and Inclusive Learning Environments in Every School Setting"
    )
    long_title = (long_title + " " + long_title)[:200]
    long_name = "Maria de los Ángeles Fernández-Villaverde y Castellanos de la Torre Montenegro Ruiz-Tagle Echeverría"
    long_name = (long_name + " Sánchez-Albornoz")[:120]
    content = make_content(
        learner_name=long_name,
        course_title=long_title,
        facilitator_name="Dr. Bartholomew Konstantinopoulos-Vanderbilt de la Fuente",
        organisation="National Education Association of the United States of America, Professional Learning Division",
    )

    pdf = render_certificate(content)

    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert char_boxes_outside_the_border(pdf) == []
    assert "Ángeles" in page_text(pdf)


def test_text_without_spaces_is_broken_rather_than_overflowing() -> None:
    pdf = render_certificate(
        make_content(learner_name="X" * 150, course_title="Y" * 300, locale="es")
    )

    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert char_boxes_outside_the_border(pdf) == []


def test_an_unknown_locale_falls_back_to_english_formats() -> None:
    assert "July 23, 2020" in page_text(render_certificate(make_content(locale="xx-nowhere")))


def test_the_same_content_renders_the_same_bytes() -> None:
    assert render_certificate(make_content()) == render_certificate(make_content())


def test_bare_page_is_a_one_page_pdf_with_the_lines() -> None:
    url = "https://learn.example.org/verify/K7QD-3MPX-W9TA-HF2C-8RZE"
    pdf = render_bare_page(["Certificate of Completion", "José Ñúñez", "अनिता शर्मा"], qr_data=url)

    assert "Certificate of Completion" in normalized(
        glyph_text(pdf)
    ) and "José Ñúñez" in glyph_text(pdf)
    assert any("NotoSansDevanagari" in name for name in embedded_font_names(pdf))
    assert decode_qr_codes(pdf) == [url]


def test_pdf_module_imports_neither_flask_nor_sqlalchemy() -> None:
    check = "import lms.certificates.pdf, sys; assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules"
    environment = {**os.environ, "PYTHONPATH": str(REPO)}

    result = subprocess.run(
        [sys.executable, "-c", check], env=environment, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
