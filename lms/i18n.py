"""The engine's own translation domain, so a host application's catalog never clashes with it."""

from __future__ import annotations

from pathlib import Path

from flask_babel import Domain

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "lms"

domain = Domain(translation_directories=str(TRANSLATIONS_DIR), domain=DOMAIN)

_ = domain.gettext
ngettext = domain.ngettext
_l = domain.lazy_gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (it is translated where shown)."""
    return message


LANGUAGE_NAMES = {"en": "English", "es": "Español"}
