"""The transcript's PDF in the learner's language: the snapshot's content turned into the strings
:func:`lms.records.pdf.render_transcript` prints."""

from __future__ import annotations

import datetime as dt

from flask import current_app, url_for
from flask_babel import force_locale, format_date

from lms.courses.presentation import path_label
from lms.i18n import _
from lms.records.models import Transcript
from lms.records.pdf import TranscriptDocument, render_transcript
from lms.records.presentation import (
    amount_text,
    certificate_status_label,
    credit_text,
    credit_type_name,
)
from lms.records.services import TranscriptContent


def verify_url(transcript: Transcript) -> str:
    return url_for("lms_records.verify_transcript", code=transcript.code, _external=True)


def period_text(start: str | None, end: str | None) -> str:
    if start and end:
        return _(
            "Period: %(start)s to %(end)s",
            start=format_date(dt.date.fromisoformat(start), "long"),
            end=format_date(dt.date.fromisoformat(end), "long"),
        )
    if start:
        return _("Period: from %(start)s", start=format_date(dt.date.fromisoformat(start), "long"))
    if end:
        return _("Period: until %(end)s", end=format_date(dt.date.fromisoformat(end), "long"))
    return _("Period: all completions")


def certificate_cell(code: str | None, status: str) -> str:
    label = certificate_status_label(status)
    return f"{code} ({label})" if code else label


def render_transcript_pdf(transcript: Transcript, content: TranscriptContent) -> bytes:
    url = verify_url(transcript)
    with force_locale(transcript.locale):
        document = TranscriptDocument(
            organisation=current_app.config["LMS_ORGANISATION"],
            heading=_("Professional learning transcript"),
            learner_name=content.learner_name,
            period=period_text(content.period_start, content.period_end),
            issued=_("Issued %(date)s", date=format_date(transcript.issued_at.date(), "long")),
            headers=(_("Completed on"), _("Course"), _("Path"), _("Credit"), _("Certificate")),
            rows=[
                (
                    format_date(dt.date.fromisoformat(entry.completed_on), "medium"),
                    entry.course_title,
                    path_label(entry.path),
                    credit_text(entry.credit_type, entry.credit_amount, entry.path),
                    certificate_cell(entry.certificate_code, entry.certificate_status),
                )
                for entry in content.entries
            ],
            totals_heading=_("Total credit"),
            totals=[
                f"{credit_type_name(kind)}: {amount_text(kind, amount)}"
                for kind, amount in content.totals.items()
            ]
            or [_("No credit")],
            empty=_("No completed courses in this period."),
            code=transcript.code,
            verify_text=_("Verify at %(url)s", url=url),
            verify_url=url,
            page_label=_("Page %(number)s", number="%(number)s"),
            locale=transcript.locale,
        )
        return render_transcript(document)
