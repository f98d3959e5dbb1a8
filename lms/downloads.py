"""File names of downloads: the ``Content-Disposition`` header (RFC 6266), names built from
people's and sessions' names, and a response made a download of one person's data. No Flask:
Werkzeug's responses and header formatting and the standard library's percent-encoding only.

A file name travels twice: whole, as ``filename*=UTF-8''...`` (RFC 8187 encoding), which every
current browser prefers, and transliterated to ASCII in ``filename=`` for the clients that read
only that ("Dolores Ñúñez-Ōkafor" becomes "Dolores Nunez-Okafor", not "Dolores-ez-kafor").
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from werkzeug.http import dump_options_header
from werkzeug.wrappers import Response

# RFC 8187 attr-char: what ``filename*`` may carry unencoded besides letters and digits.
_ATTR_CHARS = "!#$&+-.^_`|~"
# Characters that have no place in a file name on some system (and control characters).
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
MAX_NAME = 150


def name_part(text: str, limit: int = 60) -> str:
    """A person's or a session's name as part of a file name: words joined by ``-``, any script kept."""
    words = re.findall(r"\w+", unicodedata.normalize("NFC", text or ""))
    return "-".join(words)[:limit].strip("-")


def ascii_fallback(filename: str) -> str:
    """The name transliterated to ASCII: accents dropped, letters without an ASCII form left out."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    simple = _UNSAFE.sub(
        "-", unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    )
    simple = re.sub(r"-{2,}", "-", simple).strip(" .-") or "download"
    extension = extension if extension.isascii() and extension.isalnum() else ""
    return f"{simple}.{extension}" if extension else simple


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment`` (or ``inline``) with the name in ASCII (``filename=``) and whole (``filename*=``)."""
    clean = (
        _UNSAFE.sub("-", unicodedata.normalize("NFC", filename)).strip(" .")[:MAX_NAME]
        or "download"
    )
    options = {
        "filename": ascii_fallback(clean),
        "filename*": "UTF-8''" + quote(clean, safe=_ATTR_CHARS),
    }
    return dump_options_header("inline" if inline else "attachment", options)


def as_download(response: Response, filename: str) -> Response:
    """``response`` as a file saved under ``filename`` that no cache keeps: what it holds is one
    person's (their transcript, their data) or a report on people."""
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response
