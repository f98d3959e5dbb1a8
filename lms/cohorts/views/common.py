"""The cohorts' blueprint and what its pages share: finding the cohort a facilitator manages,
showing a service's refusal on its form, the way back to the roster, enrollment status labels."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from lms.cohorts import services
from lms.cohorts.models import Cohort
from lms.cohorts.services import CohortError
from lms.i18n import _
from lms.learning.models import EnrollmentStatus
from lms.routing import AreaBlueprint

blueprint = AreaBlueprint("lms_cohorts", __name__)


def managed_or_404(cohort_id: int) -> Cohort:
    cohort = services.managed_cohort(current_user, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def form_error(form: Any, error: CohortError) -> None:
    if error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error)]
    else:
        flash(str(error), "error")


def back_to_roster(cohort: Cohort) -> Any:
    return redirect(url_for("lms_cohorts.roster", cohort_id=cohort.id), code=303)


def enrollment_status_label(status: Any) -> str:
    labels = {
        EnrollmentStatus.registered: _("Registered"),
        EnrollmentStatus.waitlisted: _("Waitlisted"),
        EnrollmentStatus.in_progress: _("In progress"),
        EnrollmentStatus.completed: _("Completed"),
        EnrollmentStatus.withdrawn: _("Withdrawn"),
    }
    return labels.get(status, str(status))
