"""Report operations shared by the web pages and the CLI (they read; they never write)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from flask_babel import format_date, format_percent, get_locale
from sqlalchemy import func, select

from lms.courses.presentation import PATH_LABELS
from lms.db import database_state, db_session, utcnow
from lms.i18n import _
from lms.learning.models import Enrollment
from lms.reports import chart_data, charts, exports, files, queries
from lms.reports.filters import CompletionFilters
from lms.reports.paging import Page
from lms.reports.queries import ReportScope
from lms.state import lms_state


def course_titles(locale: str | None = None) -> dict[str, str]:
    """Course titles in ``locale`` (the catalog's translation), by slug; retired courses fall back to the row."""
    locale = locale or str(get_locale() or "en")
    return {course.slug: course.localized("title", locale) for course in lms_state().catalog.all()}


def report_filename(extension: str) -> str:
    return _("completions-%(date)s.%(ext)s", date=utcnow().date().isoformat(), ext=extension)


def _export_statement(
    filters: CompletionFilters,
    scope: ReportScope,
    *,
    text_dates: bool,
    guard_formulas: bool = True,
) -> tuple[exports.ExportLabels, Any]:
    labels = exports.ExportLabels.for_current_locale(course_titles())
    return labels, exports.export_statement(
        queries.completion_query(filters, scope),
        labels,
        text_dates=text_dates,
        guard_formulas=guard_formulas,
    )


def completion_csv(
    filters: CompletionFilters, scope: ReportScope, counter: list[int] | None = None
) -> Iterator[bytes]:
    """The report as CSV chunks. Labels are translated now; rows are read as the chunks are pulled."""
    labels, statement = _export_statement(filters, scope, text_dates=True)
    return files.csv_chunks(
        files.row_batches(database_state().engine, statement), labels.headers, counter
    )


def completion_csv_file(
    filters: CompletionFilters, scope: ReportScope, path: str, jobs: int = 1
) -> int:
    """Write the report as a CSV file at ``path``, in ``jobs`` processes; returns the number of rows."""
    labels, statement = _export_statement(filters, scope, text_dates=True)
    bounds = db_session.execute(select(func.min(Enrollment.id), func.max(Enrollment.id))).one()
    db_session.rollback()  # nothing of the session's may be open when the writers fork
    id_bounds = None if bounds[0] is None else (int(bounds[0]), int(bounds[1]))
    return files.write_csv(
        path, labels.headers, database_state().engine, statement, Enrollment.id, id_bounds, jobs
    )


def completion_xlsx(filters: CompletionFilters, scope: ReportScope, path: str) -> int:
    """Write the report as an XLSX file at ``path``; returns the number of rows."""
    labels, statement = _export_statement(filters, scope, text_dates=False, guard_formulas=False)
    return files.write_xlsx(
        path,
        labels.headers,
        files.row_batches(database_state().engine, statement),
        sheet_name=_("Completions"),
    )


# Beyond this many cohorts the filter asks for a cohort's number instead of listing them all.
COHORT_CHOICES = 200


def report_overview(filters: CompletionFilters, scope: ReportScope) -> dict[str, Any]:
    """The report's totals (``summary``) and its filters' choices: counting reads every
    enrollment the filters match, so the page reuses them for a few seconds
    (``LMS_REPORT_TOTALS_SECONDS``, and says so)."""
    cohorts = queries.cohort_choices(db_session, scope, limit=COHORT_CHOICES + 1)
    return {
        "summary": queries.completion_summary(db_session, filters, scope),
        "courses": queries.course_choices(db_session),
        "cohorts": cohorts[:COHORT_CHOICES],
        "cohorts_listed": len(cohorts) <= COHORT_CHOICES,
        "facilitators": queries.facilitator_choices(db_session, scope),
    }


def report_page_context(
    filters: CompletionFilters,
    scope: ReportScope,
    page: int,
    size: int,
    overview: dict[str, Any],
) -> dict[str, Any]:
    """What the report page shows: one page of rows, read now, beside the ``overview`` given
    (counted a few seconds ago at most)."""
    paging = Page.of(page, size, overview["summary"].total)
    rows = queries.completion_page(db_session, filters, scope, paging.number, size)
    # Rows added since the totals were counted still show, and are counted in "Showing … of …".
    paging = Page.of(paging.number, size, max(paging.total, paging.offset + len(rows)))
    return {**overview, "paging": paging, "rows": rows}


def overview_charts() -> list[Any]:
    """The admin overview's four charts, each with its data table."""

    def month_label(key: str) -> str:
        year, month = (int(part) for part in key.split("-"))
        return format_date(dt.date(year, month, 1), "MMM y")

    def axis_labels(keys: list[str]) -> list[str]:
        """Month names under the columns, the year on a second line where it starts (or changes)."""
        labels = []
        for index, key in enumerate(keys):
            year, month = (int(part) for part in key.split("-"))
            name = format_date(dt.date(year, month, 1), "LLL")
            labels.append(f"{name}\n{year}" if index == 0 or month == 1 else name)
        return labels

    result = []
    by_month = chart_data.completions_by_month(db_session)
    months = list(by_month)
    series = [
        charts.Series(
            path,
            str(PATH_LABELS[path]),
            [by_month[m][path] for m in months],
            charts.COLOURS[path],
            charts.PATTERNS[path],
        )
        for path in ("live", "recording", "self_paced")
    ]
    title = _("Completions by month and path")
    result.append(
        charts.Chart(
            id="chart-completions-month",
            title=title,
            description=_(
                "Stacked columns for the last 12 months (UTC): live sessions solid, recordings "
                "striped, self-paced dotted; each column is labelled with its total. The table "
                "after the chart has every number."
            ),
            svg=charts.stacked_columns(
                "chart-completions-month",
                title,
                _("Completions per month, by path."),
                axis_labels(months),
                series,
                _("No completions yet"),
            ),
            table_headers=[_("Month"), *[s.label for s in series], _("Total")],
            table_rows=[
                [
                    month_label(m),
                    *[str(s.values[i]) for s in series],
                    str(sum(s.values[i] for s in series)),
                ]
                for i, m in enumerate(months)
            ],
            empty=not any(sum(s.values) for s in series),
        )
    )

    titles = course_titles()
    by_course = chart_data.completions_by_course(db_session)
    title = _("Completions by course")
    labels = [titles.get(slug, name) for slug, name, _live, _total in by_course]
    totals = [total for *_rest, total in by_course]
    result.append(
        charts.Chart(
            id="chart-completions-course",
            title=title,
            description=_(
                "One bar per course (the 12 with the most completions), labelled with its number of completions."
            ),
            svg=charts.horizontal_bars(
                "chart-completions-course",
                title,
                _("Completions per course, all paths."),
                labels,
                totals,
                [str(t) for t in totals],
                max(totals, default=0),
                charts.COLOURS["course"],
                _("No completions yet"),
            ),
            table_headers=[_("Course"), _("Live session"), _("All paths")],
            table_rows=[
                [label, str(live), str(total)]
                for label, (_slug, _name, live, total) in zip(labels, by_course, strict=True)
            ],
            empty=not by_course,
        )
    )

    cohorts = chart_data.attendance_by_cohort(db_session)
    title = _("Live attendance rate by cohort")
    rates = [
        (present / registered if registered else 0.0)
        for _id, _title, _starts, registered, present in cohorts
    ]
    cohort_labels = [
        _("%(title)s (%(date)s)", title=name, date=format_date(starts, "medium"))
        for _id, name, starts, _r, _p in cohorts
    ]
    value_labels = [
        _(
            "%(rate)s (%(present)s of %(registered)s)",
            rate=format_percent(rate),
            present=present,
            registered=registered,
        )
        for rate, (_i, _t, _s, registered, present) in zip(rates, cohorts, strict=True)
    ]
    result.append(
        charts.Chart(
            id="chart-attendance",
            title=title,
            description=_(
                "One bar per cohort that has met (the 12 most recent): the share of registered "
                "people marked present or late, with the counts written after each bar."
            ),
            svg=charts.horizontal_bars(
                "chart-attendance",
                title,
                _("Attendance rate per cohort."),
                cohort_labels,
                rates,
                value_labels,
                1.0,
                charts.COLOURS["rate"],
                _("No cohort has met yet"),
            ),
            table_headers=[
                _("Cohort"),
                _("Registered"),
                _("Present or late"),
                _("Attendance rate"),
            ],
            table_rows=[
                [label, str(c[3]), str(c[4]), format_percent(rate)]
                for label, c, rate in zip(cohort_labels, cohorts, rates, strict=True)
            ],
            empty=not cohorts,
        )
    )

    reflections = chart_data.reflections_by_month(db_session)
    title = _("Reflections submitted by month")
    series = [
        charts.Series(
            "reflections",
            _("Reflections submitted"),
            list(reflections.values()),
            charts.COLOURS["reflections"],
        )
    ]
    result.append(
        charts.Chart(
            id="chart-reflections",
            title=title,
            description=_(
                "One column per month for the last 12 months (UTC), labelled with the number of reflections submitted."
            ),
            svg=charts.stacked_columns(
                "chart-reflections",
                title,
                _("Reflections submitted per month."),
                axis_labels(list(reflections)),
                series,
                _("No reflections submitted yet"),
            ),
            table_headers=[_("Month"), _("Reflections submitted")],
            table_rows=[[month_label(m), str(n)] for m, n in reflections.items()],
            empty=not any(reflections.values()),
        )
    )
    return result
