from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select, update

from lms.cohorts.models import Cohort
from lms.db import utcnow
from lms.learning.models import Enrollment, EnrollmentStatus, Reflection
from lms.reports import charts
from lms.reports.chart_data import (
    attendance_by_cohort,
    completions_by_course,
    completions_by_month,
    month_starts,
    reflections_by_month,
)
from tests.helpers.reports import seed


def test_month_starts_cross_the_year():
    assert month_starts(3, today=dt.date(2026, 1, 15)) == ["2025-11", "2025-12", "2026-01"]


def test_svg_is_labelled_patterned_and_has_no_inline_style():
    svg = charts.stacked_columns(
        "c1",
        "Title <b>",
        "Desc",
        ["Jan", "Feb"],
        [
            charts.Series("live", "Live", [1, 2], "#1d4ed8"),
            charts.Series("recording", "Recording", [0, 3], "#b45309", "stripes"),
        ],
        "Nothing",
    )
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Title &lt;b&gt;</title>' in svg, "text is escaped"
    assert '<pattern id="c1-recording"' in svg and 'fill="url(#c1-recording)"' in svg
    assert ">5</text>" in svg, "the column total is written on the chart"
    assert "style=" not in svg and "<script" not in svg
    bars = charts.horizontal_bars(
        "c2",
        "T",
        "D",
        ["A very long course title that goes on and on and on"],
        [3],
        ["3"],
        3,
        "#1e3a8a",
        "none",
    )
    assert "…" in bars and "A very long course title that goes on and on and on</title>" in bars


def shift_to_recent(db) -> None:
    """Move the seeded dates into the last few weeks, so the 12-month charts hold them whatever today is."""
    now = utcnow()
    for enrollment in db.scalars(select(Enrollment).where(Enrollment.completed_at.is_not(None))):
        enrollment.completed_at = now - dt.timedelta(days=enrollment.id % 40)
    db.execute(
        update(Reflection)
        .where(Reflection.submitted_at.is_not(None))
        .values(submitted_at=now - dt.timedelta(days=1))
    )
    db.execute(update(Cohort).values(starts_at=now - dt.timedelta(days=3)))
    db.commit()


def test_chart_queries_count_what_is_there(db):
    data = seed(db, learners=60)
    shift_to_recent(db)
    by_month = completions_by_month(db)
    assert sum(sum(paths.values()) for paths in by_month.values()) == db.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.status == EnrollmentStatus.completed)
    )
    assert sum(paths["recording"] for paths in by_month.values()) == sum(
        1 for e in data.enrollments if e["path"] == "recording" and e["status"] == "completed"
    )
    courses = {slug: (live, total) for slug, _title, live, total in completions_by_course(db)}
    assert courses["community-partnerships"][0] == 0 and courses["community-partnerships"][1] == 10
    cohorts = {
        cid: (registered, present) for cid, _t, _s, registered, present in attendance_by_cohort(db)
    }
    a = [e for e in data.enrollments if e["cohort_id"] == data.cohorts["a"]]
    assert cohorts[data.cohorts["a"]] == (len(a), sum(1 for e in a if e["status"] == "completed"))
    assert sum(reflections_by_month(db).values()) == 2 * 60


def test_overview_page_has_four_accessible_charts(make_user, login_as, db):
    seed(db, learners=30)
    shift_to_recent(db)
    html = login_as(make_user("admin")).get("/admin/").get_data(as_text=True)
    assert html.count("<figure") == 4 and html.count("<figcaption") == 4
    assert len(re.findall(r'<svg [^>]*role="img" aria-labelledby="[^"]+"', html)) == 4
    for caption in (
        "Completions by month and path",
        "Completions by course",
        "Live attendance rate by cohort",
        "Reflections submitted by month",
    ):
        assert f"<caption>{caption}</caption>" in html
    assert html.count("<details") == 4
    assert (
        "style=" not in html
        and not re.search(r"<script(?![^>]*\bsrc=)", html)
        and "http://" not in html.split("<svg", 1)[1].replace("http://www.w3.org/2000/svg", "")
    )
    assert "ESP January" in html and "%" in html


def test_overview_without_data_says_so(make_user, login_as):
    html = login_as(make_user("admin")).get("/admin/").get_data(as_text=True)
    assert "No completions yet" in html and "No cohort has met yet" in html
