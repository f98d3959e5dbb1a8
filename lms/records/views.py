"""Records pages: the learner's transcript (page, CSV, PDF) and its public verification page, the
session evaluation and its results, and the PD credit downloads."""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from lms.cohorts.services import managed_cohort
from lms.courses.credit import register_credit_type
from lms.courses.models import Course
from lms.courses.presentation import path_label
from lms.db import db_session
from lms.downloads import content_disposition
from lms.extension import select_timezone, signed_in_person
from lms.i18n import _, current_locale
from lms.learning.models import Enrollment, EnrollmentStatus
from lms.records import credits, evaluations, services
from lms.records.presentation import (
    amount_text,
    certificate_status_label,
    course_credit_text,
    credit_text,
    credit_type_name,
)
from lms.records.rendering import render_transcript_pdf
from lms.reports import exports
from lms.reports.charts import COLOURS, horizontal_bars
from lms.reports.exports import csv_chunks, neutralise
from lms.reports.filters import ARG_NAMES, CompletionFilters, FilterError
from lms.reports.queries import ReportScope
from lms.routing import AreaBlueprint
from lms.security import rate_limit
from lms.state import lms_state
from lms.web import roles_required

blueprint = AreaBlueprint("lms_records", __name__)


@blueprint.record_once
def _set_up(state) -> None:
    # A deployment's own units of credit (LMS_CREDIT_TYPES = {"pd_points": "PD points"}).
    for type_id, label in (state.app.config.get("LMS_CREDIT_TYPES") or {}).items():
        register_credit_type(str(type_id), str(label))
    state.app.add_template_global(course_credit_text, "course_credit_text")
    state.app.add_template_global(certificate_credit_text, "certificate_credit_text")


def certificate_credit_text(certificate) -> str:
    """The credit the certified (live) completion earned, from the course file; empty if none."""
    loaded = lms_state().catalog.get(certificate.enrollment.course.slug)
    if loaded is None or loaded.definition.credit is None:
        return ""
    return course_credit_text(loaded.definition.credit, "live")


def _verify_rate_limit() -> str:
    return current_app.config["LMS_VERIFY_RATE_LIMIT"]


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
    response.headers["Content-Disposition"] = content_disposition(
        _download_name(person, period, "csv")
    )
    response.headers["Cache-Control"] = "no-store"
    return response


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
    response.headers["Content-Disposition"] = content_disposition(
        _download_name(person, period, "pdf")
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/verify/transcripts/<code>")
@rate_limit(_verify_rate_limit)
def verify_transcript(code: str):
    verification = services.verify_transcript(code)
    if verification is None:
        return render_template("lms/records/verify_unknown.html", code=code[:64]), 404
    if code != verification.transcript.code:
        return redirect(
            url_for("lms_records.verify_transcript", code=verification.transcript.code), code=301
        )
    response = Response(
        render_template(
            "lms/records/verify.html",
            verification=verification,
            content=verification.content,
            **_template_helpers(),
        )
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# -- session evaluations -------------------------------------------------------------------------

LIKERT_LABELS = (
    lambda: _("Strongly disagree"),
    lambda: _("Disagree"),
    lambda: _("Neither agree nor disagree"),
    lambda: _("Agree"),
    lambda: _("Strongly agree"),
)


class EvaluationForm(FlaskForm):
    """The CSRF token; the questions come from the course file and are read from the form."""


def question_text(loaded, question) -> tuple[str, list[str]]:
    """A question's prompt and answer labels in the current locale (the file's language as fallback)."""
    locale = current_locale()
    translation = loaded.definition.translations.get(locale) if loaded is not None else None
    translated = translation.evaluation.get(question.id) if translation else None
    prompt = (translated.prompt if translated and translated.prompt else None) or question.prompt
    if question.kind == "likert":
        return prompt, [label() for label in LIKERT_LABELS]
    options = (
        list(translated.options) if translated and translated.options else list(question.options)
    )
    return prompt, options


def _own_enrollment_or_404(enrollment_id: int):
    enrollment = db_session.get(Enrollment, enrollment_id)
    person = signed_in_person()
    if enrollment is None or person is None or enrollment.user_id != person.id:
        abort(404)
    evaluation = evaluations.evaluation_for(enrollment)
    if evaluation is None:
        abort(404)
    return enrollment, evaluation


@blueprint.route("/learn/<lms_id:enrollment_id>/evaluation", methods=["GET", "POST"])
@login_required
def evaluation(enrollment_id: int):
    enrollment, definition = _own_enrollment_or_404(enrollment_id)
    loaded = lms_state().catalog.get(enrollment.course.slug)
    form = EvaluationForm()
    answered = evaluations.has_answered(enrollment.id)
    is_open = evaluations.is_open(enrollment)
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            message, status = _("The form expired. Please send it again."), 400
        elif answered:
            flash(_("You have already answered this evaluation. Thank you!"), "info")
            return redirect(url_for("lms_learning.dashboard"), code=303)
        elif not is_open:
            message, status = _("The evaluation opens after the session."), 409
        else:
            try:
                answers = evaluations.parse_answers(definition, request.form)
                evaluations.submit(enrollment, definition, answers)
            except evaluations.AlreadyAnsweredError as error:
                flash(str(error), "info")
                return redirect(url_for("lms_learning.dashboard"), code=303)
            except evaluations.EvaluationError as error:
                message, errors, status = str(error), error.errors, 422
            else:
                flash(_("Thank you: your answers are saved, apart from your name."), "success")
                return redirect(url_for("lms_learning.dashboard"), code=303)
    questions = [(question, *question_text(loaded, question)) for question in definition.questions]
    title = loaded.localized("title", current_locale()) if loaded else enrollment.course.title
    return render_template(
        "lms/records/evaluation.html",
        form=form,
        enrollment=enrollment,
        definition=definition,
        questions=questions,
        course_title=title,
        answered=answered,
        is_open=is_open,
        errors=errors,
        message=message,
        posted=request.form,
    ), status


def pending_evaluations() -> list[tuple[int, str]]:
    """The signed-in learner's evaluations open and not yet answered, as (enrollment id, course title)."""
    from sqlalchemy import select

    person = signed_in_person()
    if person is None:
        return []
    catalog = lms_state().catalog
    candidates = []
    for enrollment in db_session.scalars(
        select(Enrollment)
        .where(Enrollment.user_id == person.id, Enrollment.status != EnrollmentStatus.withdrawn)
        .order_by(Enrollment.id.desc())
    ):
        loaded = catalog.get(enrollment.course.slug)
        if (
            loaded is not None
            and loaded.definition.evaluation is not None
            and evaluations.is_open(enrollment)
        ):
            candidates.append((enrollment, loaded))
    answered = evaluations.answered_among([e.id for e, _loaded in candidates])
    return [
        (e.id, loaded.localized("title", current_locale()))
        for e, loaded in candidates
        if e.id not in answered
    ]


@blueprint.record_once
def _dashboard_helpers(state) -> None:
    state.app.add_template_global(pending_evaluations, "lms_pending_evaluations")


def _results_context(loaded, results) -> dict:
    rows = []
    for index, result in enumerate(results.questions):
        prompt, labels = question_text(loaded, result.question)
        total = sum(result.counts) or 1
        bars = [
            (label, count, round(100 * count / total))
            for label, count in zip(labels, result.counts, strict=False)
        ]
        chart = (
            horizontal_bars(
                f"evaluation-{index}",
                prompt,
                _("The table below gives the same numbers."),
                [b[0] for b in bars],
                [float(b[1]) for b in bars],
                [str(b[1]) for b in bars],
                float(max([b[1] for b in bars] or [1]) or 1),
                COLOURS["course"],
                _("No answers."),
            )
            if result.question.kind != "text"
            else None
        )
        rows.append({"result": result, "prompt": prompt, "bars": bars, "chart": chart})
    return {"results": results, "rows": rows}


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>/evaluation")
@roles_required("facilitator")
def cohort_evaluation(cohort_id: int):
    cohort = managed_cohort(current_user, cohort_id)
    if cohort is None:
        abort(404)
    loaded = lms_state().catalog.get(cohort.course.slug)
    if loaded is None or loaded.definition.evaluation is None:
        abort(404)
    results = evaluations.results(loaded.definition.evaluation, cohort.course_id, [cohort.id])
    return render_template(
        "lms/records/evaluation_results.html",
        heading=_("Evaluation: %(cohort)s", cohort=cohort.title),
        course_title=loaded.localized("title", current_locale()),
        **_results_context(loaded, results),
    )


@blueprint.get("/admin/evaluations")
@roles_required("admin")
def admin_evaluations():
    from sqlalchemy import select

    catalog = lms_state().catalog
    courses = [c for c in catalog.all() if c.definition.evaluation is not None]
    chosen = next(
        (c for c in courses if c.slug == request.args.get("course", "")),
        courses[0] if courses else None,
    )
    context: dict = {"results": None, "rows": []}
    if chosen is not None:
        course_id = db_session.scalar(select(Course.id).where(Course.slug == chosen.slug))
        if course_id is not None:
            context = _results_context(
                chosen, evaluations.results(chosen.definition.evaluation, course_id)
            )
    return render_template(
        "lms/records/evaluation_results.html",
        heading=_("Session evaluations"),
        courses=courses,
        chosen=chosen,
        course_title=chosen.localized("title", current_locale()) if chosen else "",
        **context,
    )


# -- the office's export -------------------------------------------------------------------------


def _credit_download(kind: str, file_format: str):
    from flask import stream_with_context

    try:
        filters = CompletionFilters.parse(
            {name: value for name, value in request.args.items() if name in ARG_NAMES},
            time_zone=select_timezone() or "UTC",
        )
    except FilterError as error:
        return Response(
            "\n".join(f"{name}: {text}" for name, text in error.errors.items()) + "\n",
            status=400,
            mimetype="text/plain",
        )
    scope = ReportScope.everything() if kind == "admin" else ReportScope.cohorts_of(current_user.id)
    if file_format == "csv":
        response = Response(
            stream_with_context(credits.credit_csv(filters, scope)), mimetype="text/csv"
        )
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        path = exports.temporary_path(".xlsx")
        try:
            credits.credit_xlsx(filters, scope, path)
        except BaseException:
            exports.remove_quietly(path)
            raise
        response = Response(
            exports.file_chunks(path),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            direct_passthrough=True,
        )
        response.call_on_close(lambda: exports.remove_quietly(path))
    response.headers["Content-Disposition"] = content_disposition(
        credits.credit_filename(file_format)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/admin/reports/credits.csv")
@roles_required("admin")
def admin_credits_csv():
    return _credit_download("admin", "csv")


@blueprint.get("/admin/reports/credits.xlsx")
@roles_required("admin")
def admin_credits_xlsx():
    return _credit_download("admin", "xlsx")


@blueprint.get("/facilitate/reports/credits.csv")
@roles_required("facilitator")
def facilitator_credits_csv():
    return _credit_download("facilitator", "csv")


@blueprint.get("/facilitate/reports/credits.xlsx")
@roles_required("facilitator")
def facilitator_credits_xlsx():
    return _credit_download("facilitator", "xlsx")
