"""Defaults for every setting the engine reads. Every key starts with ``LMS_``.

A host application (or ``instance/config.py``, or an ``LMS_*`` environment variable) overrides
any of them; :meth:`lms.extension.LMS.init_app` only fills in what is missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Where the engine keeps its tables. A host may point this at its own database: every table
    # is prefixed with ``lms_`` and Alembic keeps its own version table.
    "LMS_DATABASE_URL": None,  # None: SQLite file in the instance folder
    "LMS_DATABASE_ECHO": False,
    "LMS_COURSES_DIR": None,  # None: ``courses/`` next to the instance folder
    # How often a worker looks for a catalog sync made by another process (seconds).
    "LMS_CATALOG_CHECK_SECONDS": 5,
    "LMS_URL_PREFIX": "",
    "LMS_ORGANISATION": "National Education Association",
    "LMS_SITE_NAME": "Microcourses",
    "LMS_LANGUAGES": ("en", "es"),
    "LMS_DEFAULT_LOCALE": "en",
    "LMS_DEFAULT_TIMEZONE": "America/New_York",
    "LMS_MAIL_SENDER": "no-reply@localhost",
    # "log" writes outgoing mail to the application log (development); "smtp" sends it.
    "LMS_MAIL_BACKEND": "log",
    "LMS_SMTP_HOST": "localhost",
    "LMS_SMTP_PORT": 25,
    "LMS_SMTP_USERNAME": "",
    "LMS_SMTP_PASSWORD": "",
    "LMS_SMTP_STARTTLS": False,
    "LMS_SMTP_TIMEOUT": 10,
    "LMS_RATELIMIT_STORAGE_URI": "memory://",
    "LMS_LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    # Registration and password-reset requests (both send mail), per client address.
    "LMS_ACCOUNT_RATE_LIMIT": "5 per minute;30 per hour",
    # Public certificate verification (/verify/<code>): enough for people, too few to guess codes.
    "LMS_VERIFY_RATE_LIMIT": "30 per minute;300 per hour",
    "LMS_PASSWORD_RESET_MAX_AGE": 3600,
    "LMS_EMAIL_CONFIRMATION_MAX_AGE": 7 * 24 * 3600,
    "LMS_PAGE_SIZE": 50,
    "LMS_ATTENDANCE_UPLOAD_MAX_BYTES": 2 * 1024 * 1024,
    "LMS_ATTENDANCE_UPLOAD_MAX_ROWS": 5000,
    "LMS_REFLECTION_MAX_CHARS": 20_000,
    "LMS_CREATE_FIRST_ADMIN": True,
    # Records (lms/records): the month a school year starts (July: July to June), a deployment's
    # own credit units ({"pd_points": "PD points"}), and the fewest evaluation answers for which
    # results are shown (fewer could identify people).
    "LMS_SCHOOL_YEAR_START_MONTH": 7,
    "LMS_CREDIT_TYPES": {},
    "LMS_EVALUATION_MIN_ANSWERS": 5,
}

# Flask's own keys that the standalone host sets; a host app that mounts the extension keeps
# whatever it chose.
STANDALONE_DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_NAME": "lms_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # set True behind HTTPS; instance config does in production
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
}


def apply_defaults(config: MutableMapping[str, Any]) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def load_environment(config: MutableMapping[str, Any], environ: Mapping[str, str] = os.environ) -> None:
    """Copy ``LMS_*`` (and ``SECRET_KEY``) environment variables into the config.

    Values are parsed as JSON when they look like JSON (numbers, booleans, lists), so
    ``LMS_PAGE_SIZE=100`` becomes an int; anything else stays a string.
    """
    for key, raw in environ.items():
        if not (key.startswith("LMS_") or key == "SECRET_KEY") or key.startswith("LMS_TEST_"):
            continue
        try:
            config[key] = json.loads(raw)
        except ValueError:
            config[key] = raw
