"""The completion report: on screen (paged) and as CSV / XLSX downloads, for admins and facilitators.

Admins see every enrollment under ``/admin/reports/...``; facilitators (and admins) see the live
enrollments of the cohorts they facilitate under ``/facilitate/reports/...``.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from lms import caching
from lms.accounts.models import AUDIENCE_ROLES
from lms.courses.presentation import audience_label, path_label
from lms.db import utcnow
from lms.reports import services
from lms.reports.exports import CERTIFICATE_LABELS, NOT_AVAILABLE_LABELS, STATUS_LABELS
from lms.reports.filters import CompletionFilters
from lms.reports.paging import page_number
from lms.reports.queries import ReportScope
from lms.reports.responses import bad_filters, csv_download, request_filters, xlsx_download
from lms.routing import AreaBlueprint
from lms.state import lms_state
from lms.web.caching import kept, kept_page
from lms.web.guards import roles_required

blueprint = AreaBlueprint("lms_reports", __name__)

ADMIN = "admin"
FACILITATOR = "facilitator"


def _scope(kind: str) -> ReportScope:
    return ReportScope.everything() if kind == ADMIN else ReportScope.cohorts_of(current_user.id)


def _page(kind: str) -> Any:
    filters, errors = request_filters()
    size = int(current_app.config["LMS_PAGE_SIZE"])
    page = 1 if errors else page_number(request.args)
    scope = _scope(kind)
    if errors:
        overview = services.report_overview(CompletionFilters(), scope)
        context = {**overview, "summary": None, "rows": [], "paging": None}
        return render_template(
            "lms/reports/completions.html", kind=kind, body=_body(kind, filters, errors, context)
        ), 400
    overview, counted_at = _overview(filters, scope)
    seconds = _totals_seconds()

    def build() -> Markup:
        context = services.report_page_context(filters, scope, page, size, overview)
        context.update(counted_at=counted_at, totals_seconds=seconds)
        return _body(kind, filters, errors, context)

    if seconds <= 0:
        return render_template("lms/reports/completions.html", kind=kind, body=build())

    def whole_page() -> str:
        # The page's rows are read with its totals: kept in this worker while the shared
        # totals are the same count (at most LMS_REPORT_TOTALS_SECONDS), and under the viewer's
        # version, so their own change shows at once. Rendering a page of rows costs far more
        # than the rest of the request.
        body = kept(
            "report-page",
            (kind, scope, filters, page, size, counted_at),
            build,
            versions=[caching.person(current_user.id)],
            until=lambda _body: counted_at + timedelta(seconds=seconds),
        )
        return render_template("lms/reports/completions.html", kind=kind, body=body)

    return kept_page("report-whole", (kind, scope, counted_at), whole_page)


def _totals_seconds() -> int:
    return int(current_app.config["LMS_REPORT_TOTALS_SECONDS"])


def _overview(filters: CompletionFilters, scope: ReportScope) -> tuple[dict[str, Any], datetime]:
    """The totals and the filters' choices, counted at most ``LMS_REPORT_TOTALS_SECONDS`` ago
    (counting reads every enrollment the filters match, so it grows with the organisation), shared by
    every worker through the page cache's store.

    Filed under the viewer's own version as well: after they change something (a revoked
    certificate, a roster's attendance) their next report counts again.
    """
    seconds = _totals_seconds()
    count = functools.partial(services.report_overview, filters, scope)
    if seconds <= 0:
        return count(), utcnow()
    cache = lms_state().page_cache
    viewer = cache.versions([caching.person(current_user.id)])
    if viewer is None:
        return count(), utcnow()
    key = ("report-overview", scope, filters, viewer)
    # This worker holds on to the shared count until it expires in the store anyway.
    return cache.worker_cache("report-overview").get(
        key,
        lambda: cache.shared(key, count, seconds=seconds),
        until=lambda shared: shared[1] + timedelta(seconds=seconds),
    )


def _body(
    kind: str, filters: CompletionFilters, errors: dict[str, str], context: dict[str, Any]
) -> Markup:
    endpoints = {
        "page": f"lms_reports.{kind}_completions",
        "csv": f"lms_reports.{kind}_completions_csv",
        "xlsx": f"lms_reports.{kind}_completions_xlsx",
    }

    return Markup(
        render_template(
            "lms/reports/_completions_body.html",
            kind=kind,
            filters=filters,
            args=dict(request.args) if errors else filters.to_args(),
            errors=errors,
            endpoints=endpoints,
            course_titles=services.course_titles(),
            status_labels=STATUS_LABELS,
            certificate_labels=CERTIFICATE_LABELS,
            not_available_labels=NOT_AVAILABLE_LABELS,
            path_label=path_label,
            audience_label=audience_label,
            audience_roles=AUDIENCE_ROLES,
            **context,
        )
    )


def _csv(kind: str) -> Any:
    filters, errors = request_filters()
    if errors:
        return bad_filters(errors)
    chunks = services.completion_csv(filters, _scope(kind))
    return csv_download(chunks, services.report_filename("csv"))


def _xlsx(kind: str) -> Any:
    filters, errors = request_filters()
    if errors:
        return bad_filters(errors)
    return xlsx_download(
        lambda path: services.completion_xlsx(filters, _scope(kind), path),
        services.report_filename("xlsx"),
    )


# -- admins: every enrollment -----------------------------------------------------------------------


@blueprint.get("/admin/reports/completions")
@roles_required("admin")
def admin_completions():
    return _page(ADMIN)


@blueprint.get("/admin/reports/completions.csv")
@roles_required("admin")
def admin_completions_csv():
    return _csv(ADMIN)


@blueprint.get("/admin/reports/completions.xlsx")
@roles_required("admin")
def admin_completions_xlsx():
    return _xlsx(ADMIN)


# -- facilitators: the live enrollments of their own cohorts ----------------------------------------


@blueprint.get("/facilitate/reports/completions")
@roles_required("facilitator")
def facilitator_completions():
    return _page(FACILITATOR)


@blueprint.get("/facilitate/reports/completions.csv")
@roles_required("facilitator")
def facilitator_completions_csv():
    return _csv(FACILITATOR)


@blueprint.get("/facilitate/reports/completions.xlsx")
@roles_required("facilitator")
def facilitator_completions_xlsx():
    return _xlsx(FACILITATOR)
