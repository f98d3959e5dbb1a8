"""The records' blueprint, and the template globals its pages and others' use."""

from __future__ import annotations

from lms.courses.credit import register_credit_type
from lms.records.presentation import (
    course_credit_text,
)
from lms.routing import AreaBlueprint
from lms.state import lms_state

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
