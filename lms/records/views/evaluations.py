"""The session evaluation a learner answers, its results for facilitators and admins, and the
learner dashboard's list of evaluations still to answer."""

from __future__ import annotations

from datetime import datetime

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select

from lms import caching
from lms.courses.models import Course
from lms.db import db_session, utcnow
from lms.i18n import _, current_locale
from lms.learning.models import Enrollment
from lms.records import evaluations
from lms.records.views.common import blueprint
from lms.reports.charts import COLOURS, horizontal_bars
from lms.state import lms_state
from lms.web.caching import kept
from lms.web.context import signed_in_person
from lms.web.guards import managed_cohort_or_404, roles_required

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
    """The signed-in learner's evaluations open and not yet answered, as (enrollment id, course
    title), for the dashboard: kept under the person's version (their own writes, an answered
    evaluation included, bump it) until the next of their sessions starts and opens another."""
    person = signed_in_person()
    if person is None:
        return []

    def build() -> tuple[list[tuple[int, str]], datetime | None]:
        catalog = lms_state().catalog
        pending, next_opening = evaluations.pending_for(person.id, utcnow())
        listed = []
        for item in pending:
            loaded = catalog.get(item.course_slug)
            if loaded is not None and loaded.definition.evaluation is not None:
                listed.append((item.enrollment_id, loaded.localized("title", current_locale())))
        return listed, next_opening

    listed, _next_opening = kept(
        "pending-evaluations",
        (person.id,),
        build,
        versions=[caching.person(person.id)],
        until=lambda built: built[1],
    )
    return listed


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
    cohort = managed_cohort_or_404(cohort_id)
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
