"""The cohorts' blueprint and what its pages share: showing a service's refusal on its form,
the way back to the roster, enrollment status labels. (The cohort a facilitator's page is about
is ``lms.web.guards.managed_cohort_or_404``: other areas' facilitator pages need it too.)"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for

from lms.cohorts.models import Cohort
from lms.cohorts.services import CohortError
from lms.i18n import _
from lms.learning.models import EnrollmentStatus
from lms.routing import AreaBlueprint

blueprint = AreaBlueprint("lms_cohorts", __name__)


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
