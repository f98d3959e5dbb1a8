"""Transcript PDF rendering: a pure function from already translated text to PDF bytes.

No Flask, no SQLAlchemy (like :mod:`lms.certificates.pdf`, whose fonts, script shaping,
right-to-left ordering and QR drawing it uses, so a name prints the same on both): a portrait
Letter page per 30-odd completions, as many pages as the transcript needs, with the totals after
the table and the verification QR code and code on the first page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from lms.certificates import pdf as certificate_pdf

PAGE_WIDTH, PAGE_HEIGHT = letter
MARGIN = 54
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN
ROW_SIZE = 9
LEADING = 11.5
INK = certificate_pdf.INK
MUTED = certificate_pdf.MUTED
ACCENT = certificate_pdf.ACCENT
# Column widths as fractions of the body width: date, course, path, credit, certificate.
COLUMNS = (0.14, 0.31, 0.12, 0.19, 0.24)


@dataclass(frozen=True)
class TranscriptDocument:
    """Every string the PDF prints, already in the learner's language."""

    organisation: str
    heading: str
    learner_name: str
    period: str
    issued: str
    headers: tuple[str, str, str, str, str]
    rows: Sequence[tuple[str, str, str, str, str]]
    totals_heading: str
    totals: Sequence[str]
    empty: str
    code: str
    verify_text: str
    verify_url: str
    page_label: str  # "Page %(number)s"
    locale: str = "en"
    notes: Sequence[str] = field(default_factory=tuple)


_draw_text = certificate_pdf.draw_text
_draw_shaped = certificate_pdf.draw_text  # lines that wrap_text or fit_text made


def _lines(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    return certificate_pdf.wrap_text(text, width=width, size=size, bold=bold)


class _Pages:
    def __init__(self, canvas: Canvas, document: TranscriptDocument) -> None:
        self.canvas = canvas
        self.document = document
        self.number = 1
        self.y = PAGE_HEIGHT - MARGIN

    def footer(self) -> None:
        canvas = self.canvas
        canvas.setFillColorRGB(*MUTED)
        footer = (
            f"{self.document.learner_name} · {self.document.code} · {self.document.verify_text}"
        )
        block = certificate_pdf.fit_text(
            footer, bold=False, max_size=7.5, min_size=5, max_width=BODY_WIDTH - 60
        )
        _draw_shaped(canvas, block.lines[0], x=MARGIN, y=30, size=block.font_size)
        _draw_text(
            canvas,
            self.document.page_label % {"number": self.number},
            x=PAGE_WIDTH - MARGIN,
            y=30,
            size=7.5,
            align="right",
        )

    def new_page(self) -> None:
        self.footer()
        self.canvas.showPage()
        self.number += 1
        self.y = PAGE_HEIGHT - MARGIN

    def need(self, height: float, then_header: bool = False) -> bool:
        if self.y - height < MARGIN + 12:
            self.new_page()
            return True
        return False


def _column_x() -> list[float]:
    xs, x = [], float(MARGIN)
    for fraction in COLUMNS:
        xs.append(x)
        x += fraction * BODY_WIDTH
    return xs


def _draw_header_row(pages: _Pages, headers: Sequence[str]) -> None:
    canvas = pages.canvas
    xs = _column_x()
    canvas.setFillColorRGB(*INK)
    cells = [
        _lines(text, COLUMNS[i] * BODY_WIDTH - 6, ROW_SIZE, bold=True)
        for i, text in enumerate(headers)
    ]
    height = max(len(c) for c in cells) * LEADING
    for i, lines in enumerate(cells):
        for n, line in enumerate(lines):
            _draw_shaped(
                canvas, line, x=xs[i], y=pages.y - ROW_SIZE - n * LEADING, size=ROW_SIZE, bold=True
            )
    pages.y -= height + 3
    canvas.setStrokeColorRGB(*ACCENT)
    canvas.setLineWidth(0.8)
    canvas.line(MARGIN, pages.y, PAGE_WIDTH - MARGIN, pages.y)
    pages.y -= 4


def render_transcript(document: TranscriptDocument) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=letter,
        initialFontName=certificate_pdf.primary_font(),
        pageCompression=1,
        invariant=1,
        lang=document.locale.replace("_", "-"),
    )
    canvas.setTitle(f"{document.heading} {document.code}")
    canvas.setAuthor(document.organisation)
    canvas.setSubject(document.learner_name)
    canvas.setCreator("lms")
    pages = _Pages(canvas, document)

    qr_size = 84.0
    certificate_pdf.draw_qr(
        canvas,
        document.verify_url,
        x=PAGE_WIDTH - MARGIN - qr_size,
        y=PAGE_HEIGHT - MARGIN - qr_size,
        size=qr_size,
    )
    canvas.setFillColorRGB(*INK)
    _draw_text(
        canvas,
        document.code,
        x=PAGE_WIDTH - MARGIN - qr_size / 2,
        align="center",
        y=PAGE_HEIGHT - MARGIN - qr_size - 10,
        size=8,
    )

    header_width = BODY_WIDTH - qr_size - 18
    canvas.setFillColorRGB(*ACCENT)
    organisation = certificate_pdf.fit_text(
        document.organisation, bold=True, max_size=11, min_size=7, max_width=header_width
    )
    _draw_shaped(
        canvas,
        organisation.lines[0],
        x=MARGIN,
        y=pages.y - 11,
        size=organisation.font_size,
        bold=True,
    )
    pages.y -= 34
    canvas.setFillColorRGB(*INK)
    heading = certificate_pdf.fit_text(
        document.heading, bold=True, max_size=20, min_size=12, max_width=header_width
    )
    _draw_shaped(canvas, heading.lines[0], x=MARGIN, y=pages.y, size=heading.font_size, bold=True)
    pages.y -= 26
    name = certificate_pdf.fit_text(
        document.learner_name,
        bold=True,
        max_size=15,
        min_size=8,
        max_width=header_width,
        max_lines=2,
    )
    for line in name.lines:
        _draw_shaped(canvas, line, x=MARGIN, y=pages.y, size=name.font_size, bold=True)
        pages.y -= name.font_size * 1.2
    canvas.setFillColorRGB(*MUTED)
    for text in (document.period, document.issued, *document.notes):
        for line in _lines(text, header_width, 9.5):
            _draw_shaped(canvas, line, x=MARGIN, y=pages.y - 4, size=9.5)
            pages.y -= 13
    pages.y = min(pages.y, PAGE_HEIGHT - MARGIN - qr_size - 24) - 10

    _draw_header_row(pages, document.headers)
    xs = _column_x()
    if not document.rows:
        canvas.setFillColorRGB(*MUTED)
        _draw_text(canvas, document.empty, x=MARGIN, y=pages.y - ROW_SIZE, size=ROW_SIZE)
        pages.y -= LEADING * 2
    for row in document.rows:
        cells = [_lines(text, COLUMNS[i] * BODY_WIDTH - 6, ROW_SIZE) for i, text in enumerate(row)]
        height = max(len(c) for c in cells) * LEADING + 3
        if pages.need(height):
            _draw_header_row(pages, document.headers)
        canvas.setFillColorRGB(*INK)
        for i, lines in enumerate(cells):
            for n, line in enumerate(lines):
                _draw_shaped(
                    canvas, line, x=xs[i], y=pages.y - ROW_SIZE - n * LEADING, size=ROW_SIZE
                )
        pages.y -= height
        canvas.setStrokeColorRGB(0.85, 0.86, 0.88)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN, pages.y + 1, PAGE_WIDTH - MARGIN, pages.y + 1)

    pages.need(LEADING * (len(document.totals) + 3))
    pages.y -= 12
    canvas.setFillColorRGB(*INK)
    _draw_text(canvas, document.totals_heading, x=MARGIN, y=pages.y - 10, size=10.5, bold=True)
    pages.y -= 16
    for total in document.totals:
        pages.need(LEADING)
        _draw_text(canvas, total, x=MARGIN, y=pages.y - ROW_SIZE, size=ROW_SIZE + 0.5)
        pages.y -= LEADING + 1

    pages.footer()
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
