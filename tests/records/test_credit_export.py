"""The office's PD credit export: completed activities only, credit from the course files, the
completion report's filters and scopes, equal to independent SQL for several filters."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from sqlalchemy import text

from tests.helpers import login
from tests.helpers.reports import seed

# The credit each (course, path) earns, read straight from the course files' [credit] tables.
CREDIT_SQL = """
    SUM(CASE
        WHEN c.slug = 'esp-racial-justice-dialogue' AND e.path = 'live' THEN 1.0
        WHEN c.slug = 'social-justice-training' AND e.path = 'live' THEN 2.5
        WHEN c.slug = 'community-partnerships' AND e.path = 'self_paced' THEN 0.5
        ELSE 0 END)
"""
FROM_SQL = """
    FROM lms_enrollment e JOIN lms_course c ON c.id = e.course_id JOIN lms_user u ON u.id = e.user_id
    WHERE e.status = 'completed'
"""


@pytest.fixture
def seeded(db):
    return seed(db, learners=60)


def _rows(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("", ""),
        ("path=live", "AND e.path = 'live'"),
        ("course=community-partnerships", "AND c.slug = 'community-partnerships'"),
        ("affiliate=ohio", "AND lower(u.affiliate) = 'ohio'"),
        (
            "from=2026-01-20&to=2026-02-10",
            "AND e.completed_at >= '2026-01-20 05:00:00' AND e.completed_at < '2026-02-11 05:00:00'",
        ),
        ("status=in_progress", ""),  # the export is of completions, whatever status is asked
    ],
)
def test_export_equals_an_independent_sql_count(app, db, seeded, make_user, query, where):
    admin = make_user("admin", time_zone="America/New_York")
    client = app.test_client()
    login(client, admin)
    rows = _rows(client, f"/admin/reports/credits.csv?{query}")
    count, credit = db.execute(text(f"SELECT COUNT(*), {CREDIT_SQL} {FROM_SQL} {where}")).one()
    assert count > 0
    assert len(rows) - 1 == count
    assert sum(float(row[8]) for row in rows[1:]) == pytest.approx(float(credit))
    for row in rows[1:]:
        if row[5] == "Recording":
            assert row[7] == "Informational and ungraded: no credit" and float(row[8]) == 0


def test_headers_and_a_recording_row(app, db, seeded, make_user):
    client = app.test_client()
    login(client, make_user("admin"))
    rows = _rows(client, "/admin/reports/credits.csv?course=esp-racial-justice-dialogue&path=live")
    assert rows[0] == [
        "Name",
        "Email",
        "Affiliate or state",
        "Activity title",
        "Activity code",
        "Delivery",
        "Completion date (UTC)",
        "Credit type",
        "Credits",
        "Provider",
        "Session",
        "Certificate code",
        "Certificate status",
    ]
    assert {row[7] for row in rows[1:]} == {"Clock hours"} and {row[8] for row in rows[1:]} == {
        "1.0"
    }


def test_a_facilitator_gets_their_cohorts_only(app, db, seeded):
    from lms.accounts.models import User

    ana = db.get(User, seeded.facilitators["ana"])
    client = app.test_client()
    login(client, ana)
    rows = _rows(client, "/facilitate/reports/credits.csv")
    expected = db.execute(
        text(f"SELECT COUNT(*) {FROM_SQL} AND e.cohort_id = :cohort"),
        {"cohort": seeded.cohorts["a"]},
    ).scalar()
    assert len(rows) - 1 == expected > 0


def test_formulas_are_neutralised(app, db, make_user):
    seed(db, learners=3, names=['=HYPERLINK("x")', "+1", "@me"])
    client = app.test_client()
    login(client, make_user("admin"))
    rows = _rows(client, "/admin/reports/credits.csv")
    names = {row[0] for row in rows[1:]}
    assert names <= {'\'=HYPERLINK("x")', "'+1", "'@me"} and names
    # In XLSX a text cell is never a formula: the names read back as typed, with no apostrophe.
    response = client.get("/admin/reports/credits.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert {row[0].value for row in sheet.iter_rows(min_row=2)} == {
        name.removeprefix("'") for name in names
    }


def test_xlsx_and_the_cli_match_the_csv(app, db, seeded, make_user, runner, tmp_path):
    client = app.test_client()
    login(client, make_user("admin"))
    rows = _rows(client, "/admin/reports/credits.csv?path=self_paced")
    response = client.get("/admin/reports/credits.xlsx?path=self_paced")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row == len(rows)
    assert [cell.value for cell in sheet[1]] == rows[0]
    out = tmp_path / "credits.csv"
    result = runner.invoke(
        args=[
            "lms",
            "reports",
            "credits",
            "--path",
            "self_paced",
            "-o",
            str(out),
            "--timezone",
            "UTC",
        ]
    )
    assert result.exit_code == 0, result.output
    cli_rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(cli_rows) == len(rows)
    result = runner.invoke(
        args=["lms", "reports", "credits", "--from", "2026-13-01", "-o", str(out)]
    )
    assert result.exit_code != 0 and "--from" in result.output


def test_the_completion_report_links_to_the_credit_export_with_its_filters(
    app, db, seeded, make_user
):
    client = app.test_client()
    login(client, make_user("admin"))
    page = client.get("/admin/reports/completions?path=live").get_data(as_text=True)
    assert (
        "/admin/reports/credits.csv?" in page
        and "path=live" in page.split("/admin/reports/credits.csv?")[1][:200]
    )
