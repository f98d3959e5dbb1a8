"""The public cohort page, its calendar file, and registering for and withdrawing from a session."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from lms.certificates.services import valid_certificate
from lms.cohorts import registration, services
from lms.cohorts.models import Cohort
from lms.cohorts.services import CohortError
from lms.cohorts.views.common import blueprint, enrollment_status_label
from lms.courses.presentation import path_label
from lms.downloads import content_disposition
from lms.forms import ActionForm
from lms.i18n import _, current_locale
from lms.learning.models import EnrollmentStatus
from lms.notifications.links import cohort_calendar_file


def _public_cohort_or_404(cohort_id: int) -> Cohort:
    cohort = services.get_cohort(cohort_id)
    if cohort is None:
        abort(404)
    return cohort


@blueprint.get("/cohorts/<lms_id:cohort_id>")
def cohort(cohort_id: int):
    cohort = _public_cohort_or_404(cohort_id)
    enrollment = registration.enrollment_in(cohort, current_user)
    locale = current_locale()
    loaded = services.loaded_course(cohort)
    certificate = None
    if enrollment is not None:
        certificate = valid_certificate(enrollment)
    taken = registration.seats_taken(cohort)
    return render_template(
        "lms/cohorts/cohort.html",
        cohort=cohort,
        enrollment=enrollment,
        registered=enrollment is not None and enrollment.status in services.SEAT_STATUSES,
        waitlist_position=registration.waitlist_position(enrollment) if enrollment else None,
        course_title=services.course_title(cohort, locale),
        course=loaded,
        seats_left=max(cohort.capacity - taken, 0),
        registration_problem=registration.registration_problem(cohort),
        unconfirmed_email=registration.UNCONFIRMED_EMAIL,
        registration_closes_at=registration.registration_closes_at(cohort),
        can_manage=services.can_manage_cohort(current_user, cohort),
        action_form=ActionForm(formdata=None),
        status_label=enrollment_status_label,
        certificate=certificate,
        path_label=path_label,
    )


@blueprint.get("/cohorts/<lms_id:cohort_id>.ics")
def cohort_ics(cohort_id: int):
    cohort = _public_cohort_or_404(cohort_id)
    enrollment = registration.enrollment_in(cohort, current_user)
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
        enrollment = registration.register(current_user, cohort)
    except CohortError as error:
        flash(str(error), "error")
    else:
        if enrollment.status is EnrollmentStatus.waitlisted:
            flash(
                _(
                    "This session is full: you are on the waitlist, number %(position)s. We move you up automatically when a seat frees.",  # noqa: E501
                    position=registration.waitlist_position(enrollment),
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
        registration.withdraw(current_user, cohort)
    except CohortError as error:
        flash(str(error), "error")
    else:
        flash(_("You have withdrawn from this session."), "success")
    return redirect(url_for("lms_cohorts.cohort", cohort_id=cohort.id), code=303)
