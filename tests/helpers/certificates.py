"""Reading certificate PDFs back, shared by the certificate tests."""

from __future__ import annotations

import pypdfium2


def page_text(pdf: bytes) -> str:
    """The page's text as PDFium extracts it: it reads each line's /ActualText, so a Devanagari
    conjunct or an "fi" ligature comes back as the letters that were typed."""
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 1
    return document[0].get_textpage().get_text_range().replace("\r\n", "\n")


def document_text(pdf: bytes) -> str:
    """Every page's text as PDFium extracts it (each line's /ActualText), pages joined."""
    document = pypdfium2.PdfDocument(pdf)
    return "\n".join(
        page.get_textpage().get_text_range().replace("\r\n", "\n") for page in document
    )
