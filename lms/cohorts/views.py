"""Live cohorts: the facilitator's pages (/facilitate/...) and the public cohort page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from lms import caching
from lms.cohorts import services
from lms.cohorts.forms import (
    ATTENDANCE_LABELS,
    ActionForm,
    ApplyImportForm,
    AttendanceImportForm,
    CancelForm,
    CohortForm,
    attendance_form,
)
from lms.cohorts.models import AttendanceStatus, Cohort, CohortStatus
from lms.cohorts.services import CohortData, CohortError
from lms.courses.loader import LoadedCourse
from lms.courses.models import Course
from lms.courses.presentation import path_label, register_course_panel
from lms.db import db_session, utcnow
from lms.downloads import content_disposition
from lms.i18n import _, current_locale
from lms.learning.models import EnrollmentStatus
from lms.routing import AreaBlueprint
from lms.uploads import answers_too_large, upload_limit
from lms.web import kept, roles_required

blueprint = AreaBlueprint("lms_cohorts", __name__)


def _managed_or_404(cohort_id: int) -> Cohort:
    cohort = services.managed_cohort(current_user, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def _form_error(form: Any, error: CohortError) -> None:
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error)]
    else:
        flash(str(error), "error")


def _back_to_roster(cohort: Cohort) -> Any:
    return redirect(url_for("lms_cohorts.roster", cohort_id=cohort.id), code=303)


# -- facilitator: list, schedule, edit, cancel, close ------------------------------------------


@blueprint.get("/facilitate/")
@roles_required("facilitator")
def facilitate():
    cohorts = services.cohorts_for(current_user)
    locale = current_locale()
    return render_template(
        "lms/cohorts/facilitate.html",
        upcoming=cohorts.upcoming,
        past=cohorts.past,
        course_title=lambda cohort: services.course_title(cohort, locale),
        seats=services.seat_counts([*cohorts.upcoming, *cohorts.past]),
    )


def _cohort_form(cohort: Cohort | None = None, bind: bool = True) -> CohortForm:
    data: dict[str, Any] = {}
    if cohort is not None:
        local = services.cohort_local_start(cohort)
        data = {
            "course": cohort.course.slug,
            "title": cohort.title,
            "start_date": local.date(),
            "start_time": local.time().replace(tzinfo=None),
            "time_zone": cohort.time_zone,
            "minutes": cohort.minutes,
            "join_url": cohort.join_url,
            "location": cohort.location,
            "capacity": cohort.capacity,
            "registration_opens": _local_naive(cohort.registration_opens_at, cohort.time_zone),
            "registration_closes": _local_naive(cohort.registration_closes_at, cohort.time_zone),
            "facilitators": "\n".join(user.email for user in cohort.facilitators),
        }
    elif request.method == "GET":
        data = {
            "time_zone": current_user.time_zone,
            "facilitators": current_user.email,
            "capacity": 30,
        }
    form = CohortForm(data=data) if bind else CohortForm(formdata=None, data=data)
    locale = current_locale()
    form.set_choices(
        ((c.slug, c.localized("title", locale)) for c in services.live_courses()),
        services.time_zone_choices(),
    )
    if cohort is None and request.method == "GET" and len(form.course.choices) == 2:
        form.course.data = form.course.choices[1].value
    if (
        cohort is None
        and request.method == "GET"
        and form.minutes.data is None
        and form.course.data
    ):
        loaded = services.catalog().get(form.course.data)
        form.minutes.data = loaded.definition.minutes if loaded else None
    return form


def _local_naive(moment: Any, zone: str) -> Any:
    return services.utc_to_local(moment, zone).replace(tzinfo=None) if moment else None


def _cohort_data(form: CohortForm) -> CohortData:
    zone = form.time_zone.data
    opens = form.registration_opens.data
    closes = form.registration_closes.data
    return CohortData(
        course_slug=form.course.data,
        title=form.title.data or "",
        starts_at=services.local_to_utc(form.start_date.data, form.start_time.data, zone),
        time_zone=zone,
        minutes=form.minutes.data,
        capacity=form.capacity.data,
        join_url=(form.join_url.data or "").strip(),
        location=form.location.data or "",
        registration_opens_at=services.local_to_utc(
            opens.date(),
            opens.time(),
            zone,
            date_field="registration_opens",
            time_field="registration_opens",
        )
        if opens
        else None,
        registration_closes_at=services.local_to_utc(
            closes.date(),
            closes.time(),
            zone,
            date_field="registration_closes",
            time_field="registration_closes",
        )
        if closes
        else None,
        facilitator_emails=services.parse_emails(form.facilitators.data or ""),
    )


@blueprint.route("/facilitate/cohorts/new", methods=["GET", "POST"])
@roles_required("facilitator")
def new_cohort():
    form = _cohort_form()
    if form.validate_on_submit():
        try:
            cohort = services.create_cohort(current_user, _cohort_data(form))
        except CohortError as error:
            _form_error(form, error)
        else:
            flash(_("Cohort scheduled."), "success")
            return _back_to_roster(cohort)
    return render_template(
        "lms/cohorts/cohort_form.html", form=form, cohort=None
    ), 200 if request.method == "GET" or not form.errors else 422


@blueprint.route("/facilitate/cohorts/<lms_id:cohort_id>/edit", methods=["GET", "POST"])
@roles_required("facilitator")
def edit_cohort(cohort_id: int):
    cohort = _managed_or_404(cohort_id)
    form = _cohort_form(cohort) if request.method == "GET" else _cohort_form()
    if form.validate_on_submit():
        try:
            services.update_cohort(current_user, cohort, _cohort_data(form))
        except CohortError as error:
            _form_error(form, error)
        else:
            flash(_("Cohort saved."), "success")
            return _back_to_roster(cohort)
    status = 200 if request.method == "GET" or not form.errors else 422
    return render_template(
        "lms/cohorts/cohort_form.html",
        form=form,
        cohort=cohort,
        cancel_form=CancelForm(formdata=None),
        action_form=ActionForm(),
    ), status


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/cancel")
@roles_required("facilitator")
def cancel_cohort(cohort_id: int):
    cohort = _managed_or_404(cohort_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_cohort(current_user, cohort, form.note.data)
        except CohortError as error:
            flash(str(error), "error")
        else:
            flash(_("The cohort is cancelled. Registered learners see your note."), "success")
            return _back_to_roster(cohort)
    edit_form = _cohort_form(cohort, bind=False)
    return render_template(
        "lms/cohorts/cohort_form.html",
        form=edit_form,
        cohort=cohort,
        cancel_form=form,
        action_form=ActionForm(),
    ), 422


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/close")
@roles_required("facilitator")
def close_cohort(cohort_id: int):
    cohort = _managed_or_404(cohort_id)
    if ActionForm().validate_on_submit():
        try:
            services.close_cohort(current_user, cohort)
        except CohortError as error:
            flash(str(error), "error")
        else:
            flash(
                _(
                    "Registration is closed. You can still record attendance and issue certificates."
                ),
                "success",
            )
    return _back_to_roster(cohort)


# -- roster and attendance --------------------------------------------------------------------


def _attendance_defaults(lines: list[services.RosterLine]) -> dict[str, Any]:
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
    lines = services.roster(cohort)
    holders = [line for line in lines if line.holds_seat]
    if form is None:
        form = attendance_form(
            [line.enrollment for line in holders],
            services.attendance_cap(cohort),
            data=_attendance_defaults(lines),
        )
    locale = current_locale()
    try:
        minimum = services.minimum_minutes(cohort)
    except CohortError:
        minimum = None
    return render_template(
        "lms/cohorts/roster.html",
        cohort=cohort,
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
        attendance_cap=services.attendance_cap(cohort),
        session_ended=services.session_ended(cohort),
        ends_at=services.cohort_ends_at(cohort),
    ), status


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>")
@roles_required("facilitator")
def roster(cohort_id: int):
    return _render_roster(_managed_or_404(cohort_id))


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/attendance")
@roles_required("facilitator")
def save_attendance(cohort_id: int):
    cohort = _managed_or_404(cohort_id)
    holders = services.seat_holders(cohort)
    form = attendance_form(holders, services.attendance_cap(cohort))
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
            services.AttendanceEntry(enrollment.id, status, form[f"minutes_{enrollment.id}"].data)
        )
    try:
        changed = services.save_roster_attendance(current_user, cohort, entries)
    except CohortError as error:
        db_session.rollback()
        flash(str(error), "error")
        return _render_roster(cohort, form, 422)
    flash(_("Attendance saved (%(num)s changed).", num=changed), "success")
    return _back_to_roster(cohort)


def _import_too_large(cohort_id: int) -> Any:
    """A report larger than the whole request may be (a 413): the import page, its limit, the form."""
    if not current_user.is_authenticated or not current_user.can_facilitate:
        return None
    cohort = services.managed_cohort(current_user, cohort_id)
    if cohort is None:
        return None
    form = AttendanceImportForm(formdata=None)
    form.report.errors = [services.problem_text(services.upload_too_large_problem())]
    return _render_import(cohort, form, None, 413)


@blueprint.route(
    "/facilitate/cohorts/<lms_id:cohort_id>/attendance/import", methods=["GET", "POST"]
)
@answers_too_large(_import_too_large)
@roles_required("facilitator")
def import_attendance(cohort_id: int):
    cohort = _managed_or_404(cohort_id)
    form = AttendanceImportForm()
    preview = None
    status = 200
    if form.validate_on_submit():
        upload = form.report.data
        limit = current_app.config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"]
        data = upload.stream.read(limit + 1)
        try:
            preview = services.preview_import(current_user, cohort, data, upload.filename or "")
        except CohortError as error:
            flash(str(error), "error")
            return _back_to_roster(cohort)
        if preview.fatal is not None:
            form.report.errors = [services.problem_text(preview.fatal)]
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
        problem_text=services.problem_text,
        attendance_labels=ATTENDANCE_LABELS,
        max_bytes=upload_limit(current_app.config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"]),
        max_rows=current_app.config["LMS_ATTENDANCE_UPLOAD_MAX_ROWS"],
    ), status


@blueprint.post("/facilitate/cohorts/<lms_id:cohort_id>/attendance/import/apply")
@roles_required("facilitator")
def apply_import(cohort_id: int):
    cohort = _managed_or_404(cohort_id)
    form = ApplyImportForm()
    if not form.validate_on_submit():
        flash(_("This preview could not be checked. Upload the report again."), "error")
        return redirect(url_for("lms_cohorts.import_attendance", cohort_id=cohort.id), code=303)
    try:
        changed = services.apply_import(current_user, cohort, form.token.data)
    except CohortError as error:
        db_session.rollback()
        flash(str(error), "error")
        return redirect(url_for("lms_cohorts.import_attendance", cohort_id=cohort.id), code=303)
    flash(_("Attendance imported (%(num)s changed).", num=changed), "success")
    return _back_to_roster(cohort)


@blueprint.get("/facilitate/cohorts/<lms_id:cohort_id>/learners/<lms_id:enrollment_id>/reflections")
@roles_required("facilitator")
def learner_reflections(cohort_id: int, enrollment_id: int):
    cohort = _managed_or_404(cohort_id)
    enrollment = services.roster_enrollment(cohort, enrollment_id)
    if enrollment is None:
        abort(404)
    reflections = services.shared_reflections(enrollment)
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
    from lms.markdown import render_markdown

    return render_template(
        "lms/cohorts/reflections.html",
        cohort=cohort,
        enrollment=enrollment,
        reflections=reflections,
        prompts=prompts,
        render=lambda text: Markup(render_markdown(text)),
        content_language=loaded.content_language(locale) if loaded else locale,
    )


# -- public cohort page, calendar file, registration ------------------------------------------


def enrollment_status_label(status: Any) -> str:
    labels = {
        EnrollmentStatus.registered: _("Registered"),
        EnrollmentStatus.waitlisted: _("Waitlisted"),
        EnrollmentStatus.in_progress: _("In progress"),
        EnrollmentStatus.completed: _("Completed"),
        EnrollmentStatus.withdrawn: _("Withdrawn"),
    }
    return labels.get(status, str(status))


def _public_cohort_or_404(cohort_id: int) -> Cohort:
    cohort = services.get_cohort(cohort_id)
    if cohort is None:
        abort(404)
    return cohort


@blueprint.get("/cohorts/<lms_id:cohort_id>")
def cohort(cohort_id: int):
    cohort = _public_cohort_or_404(cohort_id)
    enrollment = services.enrollment_in(cohort, current_user)
    locale = current_locale()
    loaded = services.loaded_course(cohort)
    certificate = None
    if enrollment is not None:
        from lms.certificates.eligibility import valid_certificate

        certificate = valid_certificate(enrollment)
    taken = services.seats_taken(cohort)
    return render_template(
        "lms/cohorts/cohort.html",
        cohort=cohort,
        enrollment=enrollment,
        registered=enrollment is not None and enrollment.status in services.SEAT_STATUSES,
        waitlist_position=services.waitlist_position(enrollment) if enrollment else None,
        course_title=services.course_title(cohort, locale),
        course=loaded,
        seats_left=max(cohort.capacity - taken, 0),
        registration_problem=services.registration_problem(cohort),
        unconfirmed_email=services.UNCONFIRMED_EMAIL,
        registration_closes_at=services.registration_closes_at(cohort),
        can_manage=services.can_manage_cohort(current_user, cohort),
        action_form=ActionForm(formdata=None),
        status_label=enrollment_status_label,
        certificate=certificate,
        path_label=path_label,
    )


@blueprint.get("/cohorts/<lms_id:cohort_id>.ics")
def cohort_ics(cohort_id: int):
    from lms.notifications.links import cohort_calendar_file

    cohort = _public_cohort_or_404(cohort_id)
    enrollment = services.enrollment_in(cohort, current_user)
    # A learner with a seat downloads their own copy: the UID of the invitation we mailed them.
    mine = enrollment is not None and enrollment.status in services.SEAT_STATUSES
    body = cohort_calendar_file(
        cohort, locale=current_locale(), user=current_user if mine else None
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = content_disposition(f"cohort-{cohort.id}.ics")
    return response


@blueprint.post("/cohorts/<lms_id:cohort_id>/register")
@login_required
def register(cohort_id: int):
    cohort = _public_cohort_or_404(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        enrollment = services.register(current_user, cohort)
    except CohortError as error:
        flash(str(error), "error")
    else:
        if enrollment.status is EnrollmentStatus.waitlisted:
            flash(
                _(
                    "This session is full: you are on the waitlist, number %(position)s. We move you up automatically when a seat frees.",
                    position=services.waitlist_position(enrollment),
                ),
                "success",
            )
        else:
            flash(_("You are registered for this session."), "success")
    return redirect(url_for("lms_cohorts.cohort", cohort_id=cohort.id), code=303)


@blueprint.post("/cohorts/<lms_id:cohort_id>/withdraw")
@login_required
def withdraw(cohort_id: int):
    cohort = _public_cohort_or_404(cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw(current_user, cohort)
    except CohortError as error:
        flash(str(error), "error")
    else:
        flash(_("You have withdrawn from this session."), "success")
    return redirect(url_for("lms_cohorts.cohort", cohort_id=cohort.id), code=303)


# -- panels for other areas' pages ------------------------------------------------------------


# The course page lists the soonest sessions; a link shows them all (a course may run hundreds).
COURSE_PAGE_SESSIONS = 8


def cohorts_course_panel(course: LoadedCourse) -> str:
    """Upcoming live sessions on the public course page, each with a register button."""
    if "live" not in course.definition.paths:
        return ""
    show_all = request.args.get("sessions") == "all"
    if current_user.is_authenticated:
        return _sessions_panel(course, show_all).html
    # Every visitor who is not signed in sees the same list: it is kept until a session or a
    # seat of this course changes (the course's version, read before the sessions) or the
    # clock reaches a session's start, end or registration dates.
    return kept(
        "course_sessions",
        (course.slug, show_all),
        lambda: _sessions_panel(course, show_all),
        versions=[caching.course(course.slug)],
        until=lambda panel: panel.valid_until,
    ).html


@dataclass(frozen=True)
class SessionsPanel:
    html: Markup
    valid_until: datetime | None  # when the clock changes what it shows


def _sessions_panel(course: LoadedCourse, show_all: bool) -> SessionsPanel:
    now = utcnow()
    row = db_session.scalar(select(Course).where(Course.slug == course.slug))
    upcoming = services.upcoming_cohorts(row, limit=None if show_all else COURSE_PAGE_SESSIONS)
    cohorts = upcoming.cohorts
    mine = {
        cohort_id: enrollment
        for cohort_id, enrollment in services.enrollments_in(cohorts, current_user).items()
        if enrollment.status is not EnrollmentStatus.withdrawn
    }
    counts = services.seat_counts(cohorts)
    moments = [
        moment
        for cohort in cohorts
        for moment in (
            cohort.registration_opens_at,
            services.registration_closes_at(cohort),
            cohort.starts_at,
            services.cohort_ends_at(cohort),
        )
        if moment is not None and moment > now
    ]
    html = Markup(
        render_template(
            "lms/cohorts/_course_panel.html",
            cohorts=cohorts,
            total=upcoming.total,
            course_slug=course.slug,
            mine=mine,
            seats_left={c.id: max(c.capacity - counts[c.id].taken, 0) for c in cohorts},
            registration_problem=services.registration_problem,
            unconfirmed_email=services.UNCONFIRMED_EMAIL,
            status_label=enrollment_status_label,
        )
    )
    return SessionsPanel(html, min(moments, default=None))


def my_cohorts_panel() -> str:
    """The signed-in learner's live sessions, for the dashboard (/me): include its HTML there."""
    if not current_user.is_authenticated:
        return ""
    entries = services.my_cohorts(current_user, current_locale())
    if not entries:
        return ""
    return Markup(
        render_template(
            "lms/cohorts/_my_cohorts.html", entries=entries, status_label=enrollment_status_label
        )
    )


@blueprint.record_once
def _add_course_panel(state) -> None:
    register_course_panel(state.app, cohorts_course_panel)


@blueprint.app_context_processor
def _cohort_helpers() -> dict[str, Any]:
    return {"lms_my_cohorts_panel": my_cohorts_panel, "CohortStatus": CohortStatus}
