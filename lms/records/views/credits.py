"""The PD credit downloads (``lms.records.credits``) of admins (every row) and facilitators
(their cohorts' rows), with the completion report's filters."""

from __future__ import annotations

from flask_login import current_user

from lms.records import credits
from lms.records.views.common import blueprint
from lms.reports.queries import ReportScope
from lms.reports.responses import bad_filters, csv_download, request_filters, xlsx_download
from lms.web.guards import roles_required


def _credit_download(kind: str, file_format: str):
    filters, errors = request_filters()
    if errors:
        return bad_filters(errors)
    scope = ReportScope.everything() if kind == "admin" else ReportScope.cohorts_of(current_user.id)
    filename = credits.credit_filename(file_format)
    if file_format == "csv":
        return csv_download(credits.credit_csv(filters, scope), filename)
    return xlsx_download(lambda path: credits.credit_xlsx(filters, scope, path), filename)


@blueprint.get("/admin/reports/credits.csv")
@roles_required("admin")
def admin_credits_csv():
    return _credit_download("admin", "csv")


@blueprint.get("/admin/reports/credits.xlsx")
@roles_required("admin")
def admin_credits_xlsx():
    return _credit_download("admin", "xlsx")


@blueprint.get("/facilitate/reports/credits.csv")
@roles_required("facilitator")
def facilitator_credits_csv():
    return _credit_download("facilitator", "csv")


@blueprint.get("/facilitate/reports/credits.xlsx")
@roles_required("facilitator")
def facilitator_credits_xlsx():
    return _credit_download("facilitator", "xlsx")
