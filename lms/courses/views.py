from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from lms.courses.presentation import CatalogFilters, audience_label, filter_courses, format_label, grade_label, path_label
from lms.db import db_session
from lms.extension import lms_state
from lms.web import safe_next_url

blueprint = Blueprint("lms_courses", __name__)


@blueprint.get("/")
def catalog():
    courses = lms_state().catalog.all()
    filters = CatalogFilters.from_args(request.args)
    shown = filter_courses(courses, filters)
    return render_template(
        "lms/courses/catalog.html",
        courses=shown,
        total=len(courses),
        filters=filters,
        options=CatalogFilters.options(courses),
        audience_label=audience_label,
        grade_label=grade_label,
        path_label=path_label,
        format_label=format_label,
    )


@blueprint.get("/courses/<slug>")
def course(slug: str):
    loaded = lms_state().catalog.get(slug)
    if loaded is None:
        abort(404)
    from lms.courses.presentation import course_page_context

    return render_template("lms/courses/course.html", **course_page_context(loaded))


@blueprint.post("/language")
def switch_language():
    """The language switch on every page: remembered in the session, and in the profile."""
    locale = request.form.get("locale", "")
    if locale in current_app.config["LMS_LANGUAGES"]:
        session["lms_locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db_session.flush()
    return redirect(safe_next_url(request.form.get("next"), url_for("lms_courses.catalog")), code=303)
