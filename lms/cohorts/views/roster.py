"""A cohort's roster for its facilitators: attendance by hand and from a participant report
(preview, then apply), and the reflections a learner shared."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from lms.cohorts import attendance, clock, services
from lms.cohorts import roster as cohort_roster
from lms.cohorts.forms import (
    ATTENDANCE_LABELS,
    ApplyImportForm,
    AttendanceImportForm,
    attendance_form,
)
from lms.cohorts.models import AttendanceStatus, Cohort
from lms.cohorts.services import CohortError
from lms.cohorts.views.common import (
    back_to_roster,
    blueprint,
    enrollment_status_label,
)
from lms.db import db_session
from lms.forms import ActionForm
from lms.i18n import _, current_locale
from lms.learning.models import EnrollmentStatus
from lms.markdown import render_markdown
from lms.uploads import answers_too_large, upload_limit
from lms.web.guards import managed_cohort_or_404, roles_required


def _attendance_defaults(lines: list[cohort_roster.RosterLine]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for line in lines:
        if line.holds_seat:
            data[f"status_{line.enrollment.id}"] = (
                line.attendance.status.value if line.attendance else ""
            )
            data[f"minutes_{line.enrollment.id}"] = (
                line.attendance.minutes if line.attendance else None
            )
    return data


def _render_roster(cohort: Cohort, form: Any = None, status: int = 200) -> Any:
    lines = cohort_roster.roster(cohort)
    holders = [line for line in lines if line.holds_seat]
    if form is None:
        form = attendance_form(
            [line.enrollment for line in holders],
            attendance.attendance_cap(cohort),
            data=_attendance_defaults(lines),
        )
    locale = current_locale()
    try:
        minimum = attendance.minimum_minutes(cohort)
    except CohortError:
        minimum = None
    loaded = services.loaded_course(cohort)
    return render_template(
        "lms/cohorts/roster.html",
        cohort=cohort,
        has_evaluation=loaded is not None and loaded.definition.evaluation is not None,
        lines=lines,
        holders=holders,
        waitlist=[line for line in lines if line.enrollment.status is EnrollmentStatus.waitlisted],
        withdrawn=[line for line in lines if line.enrollment.status is EnrollmentStatus.withdrawn],
        form=form,
        action_form=ActionForm(formdata=None),
        course_title=services.course_title(cohort, locale),
        minimum_minutes=minimum,
        attendance_labels=ATTENDANCE_LABELS,
        status_label=enrollment_status_label,
        seats_taken=len(holders),
        attendance_cap=attendance.attendance_cap(cohort),
        session_ended=clock.session_ended(cohort),
        ends_at=clock.cohort_ends_at(cohort),
    ), status


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>")
@roles_required("facilitator")
def roster(cohort_id: int):
    return _render_roster(managed_cohort_or_404(cohort_id))


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/attendance")
@roles_required("facilitator")
def save_attendance(cohort_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    holders = cohort_roster.seat_holders(cohort)
    form = attendance_form(holders, attendance.attendance_cap(cohort))
    if not form.validate_on_submit():
        return _render_roster(cohort, form, 422)
    entries = []
    for enrollment in holders:
        raw_status = form[f"status_{enrollment.id}"].data or ""
        status = (
            AttendanceStatus(raw_status)
            if raw_status in AttendanceStatus._value2member_map_
            else None
        )
        entries.append(
            attendance.AttendanceEntry(enrollment.id, status, form[f"minutes_{enrollment.id}"].data)
        )
    try:
        changed = attendance.save_roster_attendance(current_user, cohort, entries)
    except CohortError as error:
        db_session.rollback()
        flash(str(error), "error")
        return _render_roster(cohort, form, 422)
    flash(_("Attendance saved (%(num)s changed).", num=changed), "success")
    return back_to_roster(cohort)


def _import_too_large(cohort_id: int) -> Any:
    """A report larger than the whole request may be (a 413): the import page, its limit, the form."""
    if not current_user.is_authenticated or not current_user.can_facilitate:
        return None
    cohort = services.managed_cohort(current_user, cohort_id)
    if cohort is None:
        return None
    form = AttendanceImportForm(formdata=None)
    form.report.errors = [attendance.problem_text(attendance.upload_too_large_problem())]
    return _render_import(cohort, form, None, 413)


@blueprint.route(
    "/facilitate/cohorts/<lms_id:cohort_id>/attendance/import", methods=["GET", "POST"]
)
@answers_too_large(_import_too_large)
@roles_required("facilitator")
def import_attendance(cohort_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    form = AttendanceImportForm()
    preview = None
    status = 200
    if form.validate_on_submit():
        upload = form.report.data
        limit = current_app.config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"]
        data = upload.stream.read(limit + 1)
        try:
            preview = attendance.preview_import(current_user, cohort, data, upload.filename or "")
        except CohortError as error:
            flash(str(error), "error")
            return back_to_roster(cohort)
        if preview.fatal is not None:
            form.report.errors = [attendance.problem_text(preview.fatal)]
            preview, status = None, 413 if len(data) > limit else 422
    elif request.method == "POST":
        status = 422
    return _render_import(cohort, form, preview, status)


def _render_import(cohort: Cohort, form: Any, preview: Any, status: int) -> Any:
    return render_template(
        "lms/cohorts/attendance_import.html",
        cohort=cohort,
        form=form,
        preview=preview,
        apply_form=ApplyImportForm(formdata=None, token=preview.token) if preview else None,
        problem_text=attendance.problem_text,
        attendance_labels=ATTENDANCE_LABELS,
        max_bytes=upload_limit(current_app.config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"]),
        max_rows=current_app.config["LMS_ATTENDANCE_UPLOAD_MAX_ROWS"],
    ), status


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/attendance/import/apply")
@roles_required("facilitator")
def apply_import(cohort_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    form = ApplyImportForm()
    if not form.validate_on_submit():
        flash(_("This preview could not be checked. Upload the report again."), "error")
        return redirect(url_for("lms_cohorts.import_attendance", cohort_id=cohort.id), code=303)
    try:
        changed = attendance.apply_import(current_user, cohort, form.token.data)
    except CohortError as error:
        db_session.rollback()
        flash(str(error), "error")
        return redirect(url_for("lms_cohorts.import_attendance", cohort_id=cohort.id), code=303)
    flash(_("Attendance imported (%(num)s changed).", num=changed), "success")
    return back_to_roster(cohort)


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>/learners/<lms_id:enrollment_id>/reflections")
@roles_required("facilitator")
def learner_reflections(cohort_id: int, enrollment_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    enrollment = cohort_roster.roster_enrollment(cohort, enrollment_id)
    if enrollment is None:
        abort(404)
    reflections = cohort_roster.shared_reflections(enrollment)
    if not reflections:
        abort(404)  # nothing shared: a facilitator reads only what the learner chose to share
    loaded = services.loaded_course(cohort)
    locale = current_locale()
    prompts = {}
    if loaded is not None:
        for reflection in reflections:
            prompts[reflection.prompt_id] = (
                loaded.step_text(reflection.prompt_id, "prompt", locale) or ""
            )
    return render_template(
        "lms/cohorts/reflections.html",
        cohort=cohort,
        enrollment=enrollment,
        reflections=reflections,
        prompts=prompts,
        render=lambda text: Markup(render_markdown(text)),
        content_language=loaded.content_language(locale) if loaded else locale,
    )
