"""What every page's templates share: the template globals and the site's links."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from lms.i18n import LANGUAGE_NAMES, current_locale, template_translations
from lms.state import lms_state
from lms.web.context import served_at


def template_globals() -> dict[str, Any]:
    locale = current_locale()
    return {
        **template_translations(),
        "current_locale": locale,
        "language_names": {
            code: LANGUAGE_NAMES.get(code, code) for code in current_app.config["LMS_LANGUAGES"]
        },
        "site_name": current_app.config["LMS_SITE_NAME"],
        "organisation": current_app.config["LMS_ORGANISATION"],
        # Lets shared templates link to an area's page only where that page exists.
        "url_endpoints": current_app.view_functions,
        "site_links": site_links(),
        # The person itself rather than Flask-Login's proxy, which looks them up again on each
        # of the many reads a page makes (anonymous visitors get Flask-Login's anonymous user).
        "current_user": current_user._get_current_object(),
        "csrf_token": generate_csrf,
    }


# What every page's header and footer link to, by name. The same on every page (for one host
# and mount point), so a worker builds them once rather than calling url_for for each on every page.
SITE_LINKS = {
    "stylesheet": ("lms.static", {"filename": "lms/app.css"}),
    "script": ("lms.static", {"filename": "lms/base.js"}),
    "catalog": ("lms_courses.catalog", {}),
    "dashboard": ("lms_learning.dashboard", {}),
    "facilitate": ("lms_cohorts.facilitate", {}),
    "admin": ("lms_admin.index", {}),
    "language": ("lms_courses.switch_language", {}),
    "sign_in": ("lms_accounts.login", {}),
    "sign_out": ("lms_accounts.logout", {}),
    "register": ("lms_accounts.register", {}),
}


def site_links() -> dict[str, str]:
    """The addresses of ``SITE_LINKS``; an area the app did not register has no entry."""

    def build() -> dict[str, str]:
        endpoints = current_app.view_functions
        return {
            name: url_for(endpoint, **values)
            for name, (endpoint, values) in SITE_LINKS.items()
            if endpoint in endpoints
        }

    return lms_state().cache("site-links").get(served_at(), build)


def url_for_next() -> str:
    return request.full_path if request.query_string else request.path


def home_url() -> str:
    return url_for("lms_courses.catalog")
