"""Defaults for every setting the engine reads. Every key starts with ``LMS_``.

A host application (or ``instance/config.py``, or an ``LMS_*`` environment variable) overrides
any of them; :meth:`lms.extension.LMS.init_app` only fills in what is missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from datetime import timedelta
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
    # Redis, shared by every process of a deployment: the job queue, rate limits, the page
    # versions and the report's totals (lms.caching). Unset: jobs run in a thread pool of the
    # process, rate limits are counted in memory (each gunicorn worker on its own), and versions
    # live in files under LMS_CACHE_DIR, shared by the processes of one machine only: a
    # deployment on several machines must set it.
    "LMS_REDIS_URL": None,
    "LMS_CACHE_DIR": None,  # None: ``cache/`` in the instance folder
    # How long the completion report's totals may be reused (seconds); the page says so.
    "LMS_REPORT_TOTALS_SECONDS": 30,
    # Cache-Control max-age of the pages signed-out visitors see (0: a cache asks each time,
    # and gets a 304 Not Modified when the page's ETag still matches).
    "LMS_PUBLIC_PAGE_MAX_AGE": 0,
    # Where rate limits are counted; None: LMS_REDIS_URL, else in memory.
    "LMS_RATELIMIT_STORAGE_URI": None,
    # Sign-in attempts per client address.
    "LMS_LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    # Failed sign-ins per account, from any address: guessing spread over many addresses is
    # slowed too. The lockout ends with its window: someone who fails on purpose to lock an
    # account out keeps it out 15 minutes at most after they stop (signing in still works from
    # then on), never for good.
    "LMS_LOGIN_ACCOUNT_RATE_LIMIT": "10 per 15 minutes",
    # Registration and password-reset requests (both send mail), per client address.
    "LMS_ACCOUNT_RATE_LIMIT": "5 per minute;30 per hour",
    # Public certificate verification (/verify/<code>): enough for people, too few to guess codes.
    "LMS_VERIFY_RATE_LIMIT": "30 per minute;300 per hour",
    "LMS_PASSWORD_RESET_MAX_AGE": 3600,
    # How long a sign-in without "Keep me signed in" lasts at most (seconds), even if the browser
    # keeps its session cookie (many restore them). A remembered one lasts as long as its cookie
    # (REMEMBER_COOKIE_DURATION).
    "LMS_SIGN_IN_MAX_AGE": 24 * 3600,
    "LMS_EMAIL_CONFIRMATION_MAX_AGE": 7 * 24 * 3600,
    "LMS_PAGE_SIZE": 50,
    "LMS_ATTENDANCE_UPLOAD_MAX_BYTES": 2 * 1024 * 1024,
    "LMS_ATTENDANCE_UPLOAD_MAX_ROWS": 5000,
    # Minutes of attendance allowed beyond the clock, for people who join before the start and
    # sessions that run late: nobody attends more than the minutes since the start, nor more than
    # the session's length, each plus this.
    "LMS_ATTENDANCE_TOLERANCE_MINUTES": 15,
    "LMS_REFLECTION_MAX_CHARS": 20_000,
    "LMS_CREATE_FIRST_ADMIN": True,
    # Where links that leave the server point (mail, certificate QR codes, calendar files):
    # "https://courses.example.org". None: PREFERRED_URL_SCHEME + SERVER_NAME (lms.links).
    "LMS_BASE_URL": None,
    # The Host names the standalone app answers (Flask's TRUSTED_HOSTS, which wins when set);
    # any other gets 400. `flask lms setup` writes TRUSTED_HOSTS from the base URL.
    "LMS_TRUSTED_HOSTS": None,
    # The job queue (RQ) is on LMS_REDIS_URL; without it jobs run in this process, right after
    # each commit.
    "LMS_JOB_QUEUE": "lms",
    "LMS_JOB_THREADS": 2,  # in-process jobs (no Redis) run on this many threads
    # Seconds before the 2nd, 3rd, ... attempt of a failed job (the last one repeats).
    "LMS_JOB_RETRY_DELAYS": (10, 60, 300, 1800),
    # How often `flask lms worker` looks for jobs left waiting (a crash between commit and
    # hand-over, a worker stopped mid-job), and how old such a job must be.
    "LMS_JOB_SWEEP_SECONDS": 30,
    "LMS_JOB_SWEEP_AFTER_SECONDS": 60,
    # Reminders before a live session, in minutes before its start (a cohort may set its own).
    "LMS_REMINDER_MINUTES": (24 * 60, 60),
    # The facilitators' daily digest goes after this hour (UTC) and covers the 24 hours before it.
    "LMS_DIGEST_HOUR": 7,
    # How often `flask lms mail scheduler` looks for due reminders and digests.
    "LMS_SCHEDULER_SECONDS": 60,
    # Files jobs build for people to download (cohort certificate ZIPs). Shared by the web
    # servers and the workers in production. None: instance/exports.
    "LMS_EXPORTS_DIR": None,
    # Open Badges credentials (lms.credentials): where the signing key is kept (None:
    # instance/credential-keys; every machine that runs jobs needs the same folder), and how
    # long the link a learner gives a wallet works (seconds).
    "LMS_CREDENTIAL_KEYS_DIR": None,
    "LMS_CREDENTIAL_LINK_MAX_AGE": 7 * 24 * 3600,
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
    "REMEMBER_COOKIE_DURATION": timedelta(days=30),  # Flask-Login's default is a year
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
}


def apply_defaults(config: MutableMapping[str, Any]) -> None:
    for key, value in DEFAULTS.items():
        config.setdefault(key, value)


def load_environment(
    config: MutableMapping[str, Any], environ: Mapping[str, str] = os.environ
) -> None:
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
