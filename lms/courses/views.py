from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup

from lms.courses.loader import LoadedCourse
from lms.courses.presentation import (
    CatalogFilters,
    audience_label,
    course_details_context,
    course_panels,
    filter_courses,
    format_label,
    grade_label,
    path_label,
    topic_names,
)
from lms.db import db_session
from lms.i18n import current_locale
from lms.routing import AreaBlueprint
from lms.state import lms_state
from lms.web.caching import kept, kept_page
from lms.web.guards import safe_next_url

blueprint = AreaBlueprint("lms_courses", __name__)


@blueprint.get("/")
def catalog():
    catalog = lms_state().catalog
    filters = CatalogFilters.from_args(request.args)

    # The results depend only on the course files (and the locale, kept adds it): rendered once
    # per filters until the catalog reloads.
    def page() -> str:
        results = kept(
            "catalog", (filters,), lambda: Markup(_catalog_results(catalog.all(), filters))
        )
        return render_template("lms/courses/catalog.html", results=results)

    return kept_page("catalog-page", (), page)


def _catalog_results(courses: list[LoadedCourse], filters: CatalogFilters) -> str:
    names = topic_names(courses, current_locale())
    return render_template(
        "lms/courses/_catalog_results.html",
        courses=filter_courses(courses, filters),
        total=len(courses),
        filters=filters,
        options=CatalogFilters.options(courses, names),
        audience_label=audience_label,
        grade_label=grade_label,
        topic_names=names,
        topic_label=lambda topic: names[topic].name,
        path_label=path_label,
        format_label=format_label,
    )


@blueprint.get("/courses/<slug>")
def course(slug: str):
    loaded = lms_state().catalog.get(slug)
    if loaded is None:
        abort(404)

    def page() -> str:
        details = kept(
            "course-details",
            (slug,),
            lambda: Markup(
                render_template(
                    "lms/courses/_course_details.html", **course_details_context(loaded)
                )
            ),
        )
        return render_template(
            "lms/courses/course.html",
            title=loaded.localized("title", current_locale()),
            details=details,
            panels=course_panels(loaded),
        )

    # Kept whole while every panel is kept (as they are for signed-out visitors), under the
    # panels the app shows (a host may add one later).
    return kept_page("course-page", (slug, tuple(lms_state().course_panels)), page)


@blueprint.post("/language")
def switch_language():
    """The language switch on every page: remembered in the session, and in the profile.

    Signed out, it carries no CSRF token (exempt from the global check): a forged switch could
    only change the language of a visitor's own pages, and a token would give every first-time
    visitor (and every crawler) a signed session cookie on every page, for nothing. Signed in,
    it changes the profile, so the token is checked here.
    """
    if current_user.is_authenticated and current_app.config["WTF_CSRF_ENABLED"]:
        current_app.extensions["csrf"].protect()
    locale = request.form.get("locale", "")
    if locale in current_app.config["LMS_LANGUAGES"]:
        session["lms_locale"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db_session.flush()
    return redirect(
        safe_next_url(request.form.get("next"), url_for("lms_courses.catalog")), code=303
    )


@blueprint.record_once
def _exempt_language_switch(state) -> None:
    csrf = state.app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(switch_language)
