"""What each cohort and certificate message says (``lms.notifications.jobs`` sends it): its
subject, plain-text and HTML bodies from the mail templates, in the person's language and time
zone, with its attachments (the calendar file) and headers (``List-Unsubscribe``). Composing
reads everything again and raises :class:`Skip` when the message no longer applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_timezone_name
from flask import current_app
from flask_babel import force_locale, get_locale

from lms.accounts.models import User
from lms.certificates.models import Certificate
from lms.cohorts.models import Cohort, CohortStatus
from lms.cohorts.services import course_title
from lms.db import db_session, utcnow
from lms.i18n import _, template_translations
from lms.learning.models import Enrollment, EnrollmentStatus
from lms.mail import Attachment
from lms.notifications import links, schedule, services
from lms.notifications.models import CohortMessage, MailDelivery


@dataclass
class Composed:
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


class Skip(Exception):
    """The message no longer applies; the reason is recorded on the delivery."""


def compose(row: MailDelivery, user: User) -> Composed:
    """The message for ``row`` in ``user``'s language and time zone; raises Skip when it no longer applies."""
    setting = services.OPTIONAL_KINDS.get(row.kind)
    if setting is not None and not getattr(services.preference(user.id), setting):
        raise Skip(f"the person turned {setting} off")
    with force_locale(user.locale or current_app.config["LMS_DEFAULT_LOCALE"]):
        if row.kind == "digest":
            return _compose_digest(row, user)
        if row.kind in ("certificate_issued", "certificate_revoked"):
            return _compose_certificate(row, user)
        return _compose_cohort(row, user)


def _base_context(user: User) -> dict[str, Any]:
    config = current_app.config
    return {
        "person": user,
        "site": config["LMS_SITE_NAME"],
        "organisation": config["LMS_ORGANISATION"],
        "locale": (user.locale or config["LMS_DEFAULT_LOCALE"]),
        "zone": user.time_zone or config["LMS_DEFAULT_TIMEZONE"],
        "settings_url": links.cohort_link("lms_notifications.settings"),
        "unsubscribe_url": None,
    }


def _gettext_for(escape: bool) -> dict[str, Any]:
    """The HTML part escapes the values put into a translation; the plain-text part takes them
    as they are."""
    return template_translations(escape=escape)


def _render(template: str, subject: str, context: dict[str, Any]) -> tuple[str, str]:
    """Both parts, from the app's Jinja environment (without request-bound context processors)."""
    env = current_app.jinja_env
    context = {**context, "subject": subject}
    text = env.get_template(f"lms/mail/{template}.txt").render({**context, **_gettext_for(False)})
    html = env.get_template(f"lms/mail/{template}.html").render({**context, **_gettext_for(True)})
    return text, html


def _headers(user: User, locale: str, setting: str | None) -> tuple[dict[str, str], str | None]:
    headers = {"Auto-Submitted": "auto-generated", "Content-Language": locale}
    if setting is None:
        return headers, None
    url = links.cohort_link(
        "lms_notifications.unsubscribe", token=links.unsubscribe_token(user.id, setting)
    )
    headers["List-Unsubscribe"] = f"<{url}>"  # RFC 2369; one click by RFC 8058:
    headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers, url


def when(moment: datetime, zone: str) -> str:
    """A moment as a person reads it in a message: the day in full, the time, the zone named
    ("Tuesday, December 15, 2026, 4:00 PM (Central Standard Time)"), in the forced locale."""

    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    locale = get_locale()
    day = format_date(local.date(), "full", locale=locale)
    hour = format_time(local, "short", tzinfo=tz, locale=locale)
    return f"{day}, {hour} ({get_timezone_name(local, width='long', locale=locale)})"


def _session_facts(cohort: Cohort, zone: str, locale: str) -> dict[str, Any]:
    return {
        "cohort": cohort,
        "course": course_title(cohort, locale),
        "starts": when(cohort.starts_at, zone),
        "url": links.cohort_link("lms_cohorts.cohort", cohort_id=cohort.id),
        "join_url": cohort.join_url,
        "location": cohort.location,
    }


def _describe_change(name: str, value: Any, zone: str, time_zone: str) -> str:
    if value in (None, ""):
        return _("(none)")
    if name == "starts_at":
        return when(datetime.fromisoformat(value), zone)
    if name == "minutes":
        return _("%(num)s minutes", num=value)
    return str(value)


CHANGE_LABELS = {
    "starts_at": lambda: _("Time"),
    "time_zone": lambda: _("Time zone it was scheduled in"),
    "minutes": lambda: _("Length"),
    "join_url": lambda: _("Join link"),
    "location": lambda: _("Location"),
}


def _compose_cohort(row: MailDelivery, user: User) -> Composed:
    cohort = db_session.get(Cohort, row.cohort_id) if row.cohort_id is not None else None
    enrollment = (
        db_session.get(Enrollment, row.enrollment_id) if row.enrollment_id is not None else None
    )
    if cohort is None or enrollment is None:
        raise Skip("the cohort or the registration is gone")
    context = _base_context(user)
    locale, zone = context["locale"], context["zone"]
    facts = _session_facts(cohort, zone, locale)
    context.update(facts, data=row.data)
    method = None
    kind = row.kind
    seat = enrollment.status in services.SEAT_STATUSES
    if (
        kind in ("confirmed", "promoted", "changed", "reminder", "message", "waitlisted")
        and cohort.status is CohortStatus.cancelled
    ):
        raise Skip("the session was cancelled")
    if kind in ("confirmed", "promoted", "reminder") and not seat:
        raise Skip("the registration no longer holds a seat")
    if kind == "waitlisted" and enrollment.status is not EnrollmentStatus.waitlisted:
        raise Skip("the person is no longer on the waitlist")
    if kind in ("changed", "message") and enrollment.status is EnrollmentStatus.withdrawn:
        raise Skip("the person withdrew")
    if kind == "confirmed":
        subject = _("You are registered: %(title)s", title=facts["course"])
        method = "REQUEST"
    elif kind == "waitlisted":
        subject = _("You are on the waitlist: %(title)s", title=facts["course"])
    elif kind == "promoted":
        subject = _("A seat opened: you are in for %(title)s", title=facts["course"])
        method = "REQUEST"
    elif kind == "changed":
        subject = _("Session changed: %(title)s", title=facts["course"])
        changes = row.data.get("changes", {})
        context["changes"] = [
            (
                CHANGE_LABELS[name](),
                _describe_change(name, old, zone, cohort.time_zone),
                _describe_change(name, new, zone, cohort.time_zone),
            )
            for name, (old, new) in changes.items()
            if name in CHANGE_LABELS
        ]
        method = "REQUEST" if seat else None
    elif kind == "cancelled":
        subject = _("Session cancelled: %(title)s", title=facts["course"])
        context["note"] = cohort.cancellation_note
        method = "CANCEL" if not row.data.get("waitlisted") else None
    elif kind == "withdrawn":
        subject = _("You have withdrawn: %(title)s", title=facts["course"])
        method = "CANCEL" if row.data.get("held_seat") else None
    elif kind == "reminder":
        if row.data.get("starts_at") != cohort.starts_at.isoformat():
            raise Skip("the session moved: a reminder for the new time follows")
        if cohort.starts_at <= utcnow():
            raise Skip("the session has already started")
        minutes = int(row.data.get("minutes", 0))
        context["hours"], context["minutes_left"] = divmod(minutes, 60)
        subject = _(
            "Reminder: %(title)s starts %(when)s", title=facts["course"], when=facts["starts"]
        )
    elif kind == "message":
        message = db_session.get(CohortMessage, row.data.get("message_id"))
        if message is None:
            raise Skip("the message is gone")
        sender = db_session.get(User, message.sender_id) if message.sender_id else None
        context.update(message=message, sender=sender)
        subject = message.subject
    else:
        raise Skip(f"unknown kind {kind!r}")
    headers, context["unsubscribe_url"] = _headers(user, locale, services.OPTIONAL_KINDS.get(kind))
    if kind == "message":
        sender = context["sender"]
        if sender is not None:
            headers["Reply-To"] = sender.email
    text, html = _render(kind, subject, context)
    attachments = []
    if method is not None:
        ics = links.cohort_calendar_file(
            cohort,
            locale=locale,
            user=user,
            method=method,
            sequence=int(row.data.get("sequence", 0)),
        )
        attachments.append(
            Attachment(
                "invite.ics" if method == "REQUEST" else "cancel.ics",
                ics,
                f"text/calendar; method={method}; charset=utf-8",
            )
        )
    return Composed(subject, text, html, attachments, headers)


def _compose_certificate(row: MailDelivery, user: User) -> Composed:
    certificate = db_session.get(Certificate, row.data.get("certificate_id"))
    if certificate is None:
        raise Skip("the certificate is gone")
    context = _base_context(user)
    context.update(
        certificate=certificate,
        pdf_url=links.cohort_link("lms_certificates.certificate_pdf", code=certificate.code),
        verify_url=links.cohort_link("lms_certificates.verify", code=certificate.code),
        replaces=row.data.get("replaces"),
    )
    if row.kind == "certificate_issued":
        if certificate.revoked_at is not None:
            raise Skip("the certificate was revoked before this message went out")
        subject = _("Your certificate is ready: %(title)s", title=certificate.course_title)
    else:
        subject = _("Your certificate was revoked: %(title)s", title=certificate.course_title)
    headers, _url = _headers(user, context["locale"], None)
    text, html = _render(row.kind, subject, context)
    return Composed(subject, text, html, [], headers)


def _compose_digest(row: MailDelivery, user: User) -> Composed:
    since, until = (datetime.fromisoformat(row.data[name]) for name in ("since", "until"))
    items = schedule.digest_contents(user, since, until)
    if not items:
        raise Skip("nothing happened in the day")

    context = _base_context(user)
    context.update(
        items=items,
        since=when(since, context["zone"]),
        until=when(until, context["zone"]),
        course_title=lambda cohort: course_title(cohort, context["locale"]),
        starts=lambda cohort: when(cohort.starts_at, context["zone"]),
        roster_url=lambda cohort: links.cohort_link("lms_cohorts.roster", cohort_id=cohort.id),
    )
    subject = _("Your cohorts today: %(num)s with news", num=len(items))
    headers, context["unsubscribe_url"] = _headers(user, context["locale"], "digest")
    text, html = _render("digest", subject, context)
    return Composed(subject, text, html, [], headers)
