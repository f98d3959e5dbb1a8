"""The facilitator's pages: their cohorts (/facilitate/), and scheduling, editing, cancelling and
closing a cohort."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, render_template, request
from flask_login import current_user

from lms.cohorts import clock, registration, scheduling, services
from lms.cohorts.forms import CancelForm, CohortForm
from lms.cohorts.models import Cohort
from lms.cohorts.scheduling import CohortData
from lms.cohorts.services import CohortError
from lms.cohorts.views.common import back_to_roster, blueprint, form_error
from lms.forms import ActionForm
from lms.i18n import _, current_locale
from lms.web.guards import managed_cohort_or_404, roles_required


@blueprint.get("/facilitate/")
@roles_required("facilitator")
def facilitate():
    cohorts = scheduling.cohorts_for(current_user)
    locale = current_locale()
    return render_template(
        "lms/cohorts/facilitate.html",
        upcoming=cohorts.upcoming,
        past=cohorts.past,
        course_title=lambda cohort: services.course_title(cohort, locale),
        seats=registration.seat_counts([*cohorts.upcoming, *cohorts.past]),
    )


def _cohort_form(cohort: Cohort | None = None, bind: bool = True) -> CohortForm:
    data: dict[str, Any] = {}
    if cohort is not None:
        local = clock.cohort_local_start(cohort)
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
        clock.time_zone_choices(),
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
    return clock.utc_to_local(moment, zone).replace(tzinfo=None) if moment else None


def _registration_moment(moment: datetime | None, zone: str, field: str) -> datetime | None:
    """A registration date and time typed in the session's zone, as UTC; None when left empty.
    A refusal belongs to ``field``, the form field it was typed in."""
    if not moment:
        return None
    return clock.local_to_utc(
        moment.date(), moment.time(), zone, date_field=field, time_field=field
    )


def _cohort_data(form: CohortForm) -> CohortData:
    zone = form.time_zone.data
    opens = form.registration_opens.data
    closes = form.registration_closes.data
    return CohortData(
        course_slug=form.course.data,
        title=form.title.data or "",
        starts_at=clock.local_to_utc(form.start_date.data, form.start_time.data, zone),
        time_zone=zone,
        minutes=form.minutes.data,
        capacity=form.capacity.data,
        join_url=(form.join_url.data or "").strip(),
        location=form.location.data or "",
        registration_opens_at=_registration_moment(opens, zone, "registration_opens"),
        registration_closes_at=_registration_moment(closes, zone, "registration_closes"),
        facilitator_emails=scheduling.parse_emails(form.facilitators.data or ""),
    )


@blueprint.route("/facilitate/cohorts/new", methods=["GET", "POST"])
@roles_required("facilitator")
def new_cohort():
    form = _cohort_form()
    if form.validate_on_submit():
        try:
            cohort = scheduling.create_cohort(current_user, _cohort_data(form))
        except CohortError as error:
            form_error(form, error)
        else:
            flash(_("Cohort scheduled."), "success")
            return back_to_roster(cohort)
    return render_template(
        "lms/cohorts/cohort_form.html", form=form, cohort=None
    ), 200 if request.method == "GET" or not form.errors else 422


@blueprint.route("/facilitate/cohorts/<lms_id:cohort_id>/edit", methods=["GET", "POST"])
@roles_required("facilitator")
def edit_cohort(cohort_id: int):
    cohort = managed_cohort_or_404(cohort_id)
    form = _cohort_form(cohort) if request.method == "GET" else _cohort_form()
    if form.validate_on_submit():
        try:
            scheduling.update_cohort(current_user, cohort, _cohort_data(form))
        except CohortError as error:
            form_error(form, error)
        else:
            flash(_("Cohort saved."), "success")
            return back_to_roster(cohort)
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
    cohort = managed_cohort_or_404(cohort_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            scheduling.cancel_cohort(current_user, cohort, form.note.data)
        except CohortError as error:
            flash(str(error), "error")
        else:
            flash(_("The cohort is cancelled. Registered learners see your note."), "success")
            return back_to_roster(cohort)
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
    cohort = managed_cohort_or_404(cohort_id)
    if ActionForm().validate_on_submit():
        try:
            scheduling.close_cohort(current_user, cohort)
        except CohortError as error:
            flash(str(error), "error")
        else:
            flash(
                _(
                    "Registration is closed. You can still record attendance and issue certificates."
                ),
                "success",
            )
    return back_to_roster(cohort)
