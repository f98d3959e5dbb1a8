"""The admin workspace: overview with charts, people and roles, course sync status, audit log."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from lms.admin import services
from lms.admin.forms import (
    ActiveForm,
    AuditFilterForm,
    ConfirmEmailForm,
    JobFilterForm,
    PeopleSearchForm,
    RetryJobForm,
    RoleForm,
    SyncForm,
)
from lms.audit.services import record_event
from lms.db import db_session
from lms.i18n import _
from lms.jobs import Job, JobStatus
from lms.jobs.services import job_page, status_counts
from lms.jobs.services import retry_job as queue_again
from lms.reports.paging import Page, page_number
from lms.reports.services import overview_charts
from lms.routing import AreaBlueprint
from lms.state import lms_state
from lms.web.context import select_timezone
from lms.web.guards import roles_required, safe_next_url

blueprint = AreaBlueprint("lms_admin", __name__)


def _page_size() -> int:
    return int(current_app.config["LMS_PAGE_SIZE"])


@blueprint.get("/admin/")
@roles_required("admin")
def index():
    return render_template("lms/admin/index.html", charts=overview_charts())


# -- people and roles -------------------------------------------------------------------------------


@blueprint.get("/admin/people")
@roles_required("admin")
def people():
    form = PeopleSearchForm(request.args)
    valid = form.validate()
    query = (
        services.PeopleQuery(
            text=form.q.data or "", role=form.role.data or "", status=form.status.data or ""
        )
        if valid
        else services.PeopleQuery()
    )
    size = _page_size()
    number = page_number(request.args)
    rows, total = services.search_people(query, number, size)
    paging = Page.of(number, size, total)
    if paging.number != number and total:
        rows, _total = services.search_people(query, paging.number, size)
    args = {
        key: value
        for key, value in (("q", query.text), ("role", query.role), ("status", query.status))
        if value
    }
    return render_template(
        "lms/admin/people.html",
        form=form,
        people=rows,
        paging=paging,
        args=args,
        here=request.full_path if request.query_string else request.path,
    ), (200 if valid else 400)


def _person_or_404(user_id: int):
    user = services.get_person(user_id)
    if user is None:
        abort(404)
    return user


def _back(form) -> object:
    return redirect(safe_next_url(form.next.data, url_for("lms_admin.people")), code=303)


@blueprint.post("/admin/people/<lms_id:user_id>/roles")
@roles_required("admin")
def change_role(user_id: int):
    user = _person_or_404(user_id)
    form = RoleForm()
    if not form.validate():
        abort(400)
    granted = form.grant.data == "1"
    try:
        changed = services.set_role(current_user, user, form.role.data, granted)
    except services.AdminError as error:
        flash(str(error), "error")
        return _back(form)
    if changed:
        role = _("facilitator") if form.role.data == "facilitator" else _("admin")
        message = (
            _("%(name)s is now a %(role)s.", name=user.display_name, role=role)
            if granted
            else _("%(name)s is no longer a %(role)s.", name=user.display_name, role=role)
        )
        flash(message, "success")
    return _back(form)


@blueprint.post("/admin/people/<lms_id:user_id>/active")
@roles_required("admin")
def change_active(user_id: int):
    user = _person_or_404(user_id)
    form = ActiveForm()
    if not form.validate():
        abort(400)
    active = form.active.data == "1"
    try:
        changed = services.set_active(current_user, user, active)
    except services.AdminError as error:
        flash(str(error), "error")
        return _back(form)
    if changed:
        flash(
            _("%(name)s's account is active again.", name=user.display_name)
            if active
            else _(
                "%(name)s's account is deactivated: they can no longer sign in. Their records are kept.",
                name=user.display_name,
            ),
            "success",
        )
    return _back(form)


@blueprint.post("/admin/people/<lms_id:user_id>/confirm-email")
@roles_required("admin")
def confirm_email(user_id: int):
    user = _person_or_404(user_id)
    form = ConfirmEmailForm()
    if not form.validate():
        abort(400)
    if services.confirm_email_address(current_user, user):
        flash(
            _(
                "%(name)s's email address %(email)s is confirmed: they can register for live sessions.",
                name=user.display_name,
                email=user.email,
            ),
            "success",
        )
    return _back(form)


# -- courses ----------------------------------------------------------------------------------------


@blueprint.get("/admin/courses")
@roles_required("admin")
def courses():
    catalog = lms_state().catalog
    problems = catalog.problems
    rows = services.course_rows()
    known = {row.slug for row in rows}
    unsynced = [course for course in catalog.all() if course.slug not in known]

    broken = {}
    for problem in problems:
        folder = Path(problem.path).parent.name
        broken[folder] = broken.get(folder, 0) + 1
    return render_template(
        "lms/admin/courses.html",
        rows=rows,
        problems=problems,
        broken=broken,
        unsynced=unsynced,
        form=SyncForm(),
        courses_dir=catalog.root,
    )


@blueprint.post("/admin/courses/sync")
@roles_required("admin")
def sync_courses():
    form = SyncForm()
    if not form.validate():
        abort(400)
    report = services.sync_courses(current_user)
    flash(
        _(
            "Sync finished: %(added)s added, %(updated)s updated, %(retired)s retired, "
            "%(reactivated)s reactivated, %(unchanged)s unchanged, %(problems)s problem(s).",
            added=len(report.added),
            updated=len(report.updated),
            retired=len(report.retired),
            reactivated=len(report.reactivated),
            unchanged=len(report.unchanged),
            problems=len(report.problems),
        ),
        "error" if report.problems else "success",
    )
    return redirect(url_for("lms_admin.courses"), code=303)


# -- audit log --------------------------------------------------------------------------------------


@blueprint.get("/admin/audit")
@roles_required("admin")
def audit():
    form = AuditFilterForm(request.args)
    actions, targets = services.audit_choices()
    form.action.choices = [SelectChoice("", _("Any action"))] + [
        SelectChoice(a, a) for a in actions
    ]
    form.target_type.choices = [SelectChoice("", _("Any target"))] + [
        SelectChoice(t, t) for t in targets
    ]
    valid = form.validate()
    if valid:
        query = services.AuditQuery(
            actor=form.actor.data or "",
            action=form.action.data or "",
            target_type=form.target_type.data or "",
            start=form.start.data,
            end=form.end.data,
            time_zone=select_timezone() or "UTC",
        )
    else:
        query = services.AuditQuery()
    size = _page_size()
    number = page_number(request.args)
    events, total = services.audit_page(query, number, size)
    paging = Page.of(number, size, total)
    args = {
        key: value
        for key, value in (
            ("actor", query.actor),
            ("action", query.action),
            ("target_type", query.target_type),
            ("start", query.start.isoformat() if query.start else ""),
            ("end", query.end.isoformat() if query.end else ""),
        )
        if value
    }
    return render_template(
        "lms/admin/audit.html", form=form, events=events, paging=paging, args=args
    ), (200 if valid else 400)


# -- jobs -------------------------------------------------------------------------------------------


@blueprint.get("/admin/jobs")
@roles_required("admin")
def jobs():
    """Jobs run after commit (mail, certificates, ZIPs), newest first; failed ones can be retried."""
    form = JobFilterForm(request.args)
    valid = form.validate()
    status = JobStatus(form.status.data) if valid and form.status.data else None
    size = _page_size()
    number = page_number(request.args)
    rows, total = job_page(status, number, size)
    paging = Page.of(number, size, total)
    if paging.number != number and total:
        rows, _total = job_page(status, paging.number, size)
    args = {"status": status.value} if status else {}
    return render_template(
        "lms/admin/jobs.html",
        form=form,
        jobs=rows,
        paging=paging,
        args=args,
        counts=status_counts(),
        JobStatus=JobStatus,
        retry_form=RetryJobForm(formdata=None),
    ), (200 if valid else 400)


@blueprint.post("/admin/jobs/<lms_id:job_id>/retry")
@roles_required("admin")
def retry_job(job_id: int):
    if db_session.get(Job, job_id) is None:
        abort(404)
    if not RetryJobForm().validate():
        abort(400)
    row = queue_again(job_id)
    if row is None:
        flash(_("Job %(id)s has not failed, so it was left alone.", id=job_id), "info")
    else:
        record_event(current_user, "job.retried", row, name=row.name)
        flash(_("Job %(id)s is queued again.", id=job_id), "success")
    return redirect(url_for("lms_admin.jobs", status="failed"), code=303)
