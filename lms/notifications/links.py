"""What a message links to and carries (``lms.notifications``): absolute links from the
configured base URL, the signed unsubscribe links, and the cohort's calendar file (a download on
the cohort page and an attachment of the seat, change and cancellation mail).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from lms.accounts.models import User
from lms.cohorts.calendar import Person, cohort_calendar, cohort_uid
from lms.cohorts.models import Cohort
from lms.cohorts.services import course_title
from lms.db import db_session
from lms.i18n import _
from lms.learning.models import Enrollment
from lms.links import base_url, external_url, host_of
from lms.notifications.services import cohort_sequence, learner_sequence

UNSUBSCRIBE_SALT = "lms.notifications.unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT)  # type: ignore[arg-type]


def unsubscribe_token(user_id: int, setting: str) -> str:
    return _serializer().dumps({"u": user_id, "s": setting})


def read_unsubscribe_token(token: str) -> tuple[User, str] | None:
    """The person and the setting a link turns off, or None for a forged or stale link."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(payload, dict)
        or payload.get("s") not in ("reminders", "digest")
        or not isinstance(payload.get("u"), int)
    ):
        return None
    user = db_session.get(User, payload["u"])
    if user is None or not user.active:
        return None
    return user, payload["s"]


# -- the calendar file (download and attachment) ---------------------------------------------


def cohort_link(endpoint: str, **values: Any) -> str:
    """An absolute link from the configured base URL (never from a request's Host)."""
    return external_url(endpoint, **values)


def calendar_host() -> str:
    return host_of(base_url()) or "lms"


def cohort_calendar_file(
    cohort: Cohort,
    *,
    locale: str,
    user: User | None = None,
    method: str = "PUBLISH",
    sequence: int | None = None,
) -> bytes:
    """The cohort's calendar file: a learner's own copy (their UID) when ``user`` is given."""
    title = course_title(cohort, locale)
    url = cohort_link("lms_cohorts.cohort", cohort_id=cohort.id)
    description = _(
        "Live session of %(course)s. Details and the join link: %(url)s", course=title, url=url
    )
    if cohort.join_url:
        description += "\n" + _("Join: %(url)s", url=cohort.join_url)
    enrollment = None
    if user is not None:
        enrollment = db_session.scalar(
            select(Enrollment).where(
                Enrollment.cohort_id == cohort.id, Enrollment.user_id == user.id
            )
        )
    if sequence is None:
        sequence = (
            learner_sequence(enrollment.id, cohort.id)
            if enrollment is not None
            else cohort_sequence(cohort.id)
        )
    config = current_app.config
    return cohort_calendar(
        cohort,
        uid=cohort_uid(cohort.id, calendar_host(), user.id if user is not None else None),
        summary=f"{title}: {cohort.title}",
        description=description,
        url=url,
        method=method,
        sequence=sequence,
        organizer=Person(config["LMS_MAIL_SENDER"], config["LMS_ORGANISATION"]),
        attendee=Person(user.email, user.display_name)
        if user is not None and method != "PUBLISH"
        else None,
    )
