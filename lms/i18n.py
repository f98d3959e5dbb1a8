"""The engine's own translation domain, so a host application's catalog never clashes with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import Domain, get_locale
from markupsafe import Markup

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "lms"

domain = Domain(translation_directories=str(TRANSLATIONS_DIR), domain=DOMAIN)

_ = domain.gettext
ngettext = domain.ngettext
_l = domain.lazy_gettext


def current_locale() -> str:
    """The locale this request renders in (Flask-Babel's choice, see ``lms.web.context.select_locale``)."""
    return str(get_locale() or current_app.config["LMS_DEFAULT_LOCALE"])


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here (it is translated where shown)."""
    return message


LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def template_translations(*, escape: bool = True) -> dict[str, Any]:
    """The templates' ``_``/``gettext`` and ``ngettext``, bound to the current translations once
    (a page calls ``_`` many times, and each unbound call looks them up again through
    Flask-Babel's context-local proxies). With ``escape`` (HTML) translated text is trusted and
    the values put into it are escaped; without it (a mail's plain-text part) they are not.
    ``ngettext`` shows the count as ``%(num)s`` unless a formatted ``num`` is given (not
    ``domain.ngettext``: it formats with ``num`` alone, before the other values are given)."""
    translations = domain.get_translations()
    wrap = Markup if escape else str

    def gettext(message: str, **variables: Any) -> Any:
        translated = wrap(translations.ugettext(message))
        return translated % variables if variables else translated

    def ngettext(singular: str, plural: str, count: float, **variables: Any) -> Any:
        variables.setdefault("num", count)
        return wrap(translations.ungettext(singular, plural, count)) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
