"""The engine's own translation domain, so a host application's catalog never clashes with it."""

from __future__ import annotations

from pathlib import Path

from flask import current_app
from flask_babel import Domain, get_locale

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "lms"

domain = Domain(translation_directories=str(TRANSLATIONS_DIR), domain=DOMAIN)

_ = domain.gettext
ngettext = domain.ngettext
_l = domain.lazy_gettext


def current_locale() -> str:
    """The locale this request renders in (Flask-Babel's choice, see ``extension.select_locale``)."""
    return str(get_locale() or current_app.config["LMS_DEFAULT_LOCALE"])


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (it is translated where shown)."""
    return message


LANGUAGE_NAMES = {"en": "English", "es": "Español"}
