"""The learner's transcript (page, CSV, PDF) and its public verification page."""

from __future__ import annotations

import datetime as dt

from flask import (
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_login import login_required

from lms.certificates.services import MAX_TYPED_CODE
from lms.courses.presentation import path_label
from lms.downloads import as_download
from lms.i18n import _, current_locale
from lms.records import services
from lms.records.presentation import (
    amount_text,
    certificate_status_label,
    credit_text,
    credit_type_name,
)
from lms.records.rendering import render_transcript_pdf
from lms.records.views.common import blueprint
from lms.reports.exports import neutralise
from lms.reports.files import csv_chunks
from lms.security import rate_limit, unindexed, verify_rate_limit
from lms.web.context import signed_in_person


def _today(person) -> dt.date:
    zone = services._zone(person)
    return dt.datetime.now(zone).date()


def _period_or_error(person):
    start_month = services.school_year_start_month()
    try:
        period, key = services.parse_period(request.args, _today(person), start_month)
    except services.PeriodError as error:
        messages = {
            "dates": _("Enter dates as YYYY-MM-DD."),
            "order": _("The first day must not be after the last."),
            "year": _("Choose a school year from the list."),
        }
        return None, None, messages.get(str(error), _("Choose a school year from the list."))
    return period, key, ""


def _period_args() -> dict[str, str]:
    return {name: request.args[name] for name in ("year", "from", "to") if request.args.get(name)}


def _template_helpers() -> dict:
    return {
        "path_label": path_label,
        "credit_text": credit_text,
        "amount_text": amount_text,
        "credit_type_name": credit_type_name,
        "certificate_status_label": certificate_status_label,
        "parse_day": dt.date.fromisoformat,
    }


@blueprint.get("/me/transcript")
@login_required
def transcript():
    person = signed_in_person()
    period, key, error = _period_or_error(person)
    start_month = services.school_year_start_month()
    years = services.school_years_of(person, start_month)
    if error:
        return render_template(
            "lms/records/transcript.html",
            error=error,
            content=None,
            years=years,
            key="",
            start_month=start_month,
            period_args={},
            **_template_helpers(),
        ), 400
    content = services.transcript_for(person, period, current_locale())
    current_year = services.school_year_of(_today(person), start_month)
    if current_year not in years:
        years = sorted({*years, current_year}, reverse=True)
    return render_template(
        "lms/records/transcript.html",
        error="",
        content=content,
        years=years,
        key=key,
        period=period,
        start_month=start_month,
        period_args=_period_args(),
        **_template_helpers(),
    )


def _download_name(person, period: services.Period, suffix: str) -> str:
    when = "all" if period.is_all_time else f"{period.start or ''}_{period.end or ''}"
    return f"transcript-{when}.{suffix}"


@blueprint.get("/me/transcript.csv")
@login_required
def transcript_csv():
    person = signed_in_person()
    period, _key, error = _period_or_error(person)
    if error:
        return Response(error, status=400, mimetype="text/plain")
    content = services.transcript_for(person, period, current_locale())
    headers = [
        _("Course"),
        _("Path"),
        _("Completed on"),
        _("Credit type"),
        _("Credit amount"),
        _("Credit"),
        _("Certificate code"),
        _("Certificate status"),
    ]
    rows = [
        [
            neutralise(entry.course_title),
            path_label(entry.path),
            entry.completed_on,
            credit_type_name(entry.credit_type) if entry.credit_type else "",
            entry.credit_amount,
            credit_text(entry.credit_type, entry.credit_amount, entry.path),
            entry.certificate_code or "",
            certificate_status_label(entry.certificate_status),
        ]
        for entry in content.entries
    ]
    totals = [
        [_("Total"), "", "", credit_type_name(kind), amount, amount_text(kind, amount), "", ""]
        for kind, amount in content.totals.items()
    ]
    body = b"".join(csv_chunks([rows, totals], headers=headers))
    response = Response(body, mimetype="text/csv; charset=utf-8")
    return as_download(response, _download_name(person, period, "csv"))


@blueprint.get("/me/transcript.pdf")
@login_required
def transcript_pdf():
    person = signed_in_person()
    period, _key, error = _period_or_error(person)
    if error:
        return Response(error, status=400, mimetype="text/plain")
    locale = (
        person.locale if person.locale in current_app.config["LMS_LANGUAGES"] else current_locale()
    )
    with force_locale(locale):
        content = services.transcript_for(person, period, locale)
    transcript = services.snapshot(person, period, content)

    response = Response(render_transcript_pdf(transcript, content), mimetype="application/pdf")
    return as_download(response, _download_name(person, period, "pdf"))


@blueprint.get("/verify/transcripts/<code>")
@rate_limit(verify_rate_limit)
def verify_transcript(code: str):
    verification = services.verify_transcript(code)
    if verification is None:
        return render_template("lms/records/verify_unknown.html", code=code[:MAX_TYPED_CODE]), 404
    if code != verification.transcript.code:
        return redirect(
            url_for("lms_records.verify_transcript", code=verification.transcript.code), code=301
        )
    return unindexed(
        Response(
            render_template(
                "lms/records/verify.html",
                verification=verification,
                content=verification.content,
                **_template_helpers(),
            )
        )
    )
