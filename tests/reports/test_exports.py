from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
from sqlalchemy import func, literal, select, update

from lms.cli import lms_group
from lms.learning.models import Enrollment, EnrollmentStatus
from lms.reports.exports import neutralise, spreadsheet_safe
from lms.reports.files import id_ranges
from tests.helpers.reports import seed

ADMIN_CSV = "/admin/reports/completions.csv"
ADMIN_XLSX = "/admin/reports/completions.xlsx"
EVIL = '=HYPERLINK("x")'


@pytest.mark.parametrize(
    "value", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil","x")']
)
def test_neutralise_prefixes_formula_looking_text(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Ana", "", "a=b", "1-2", " =x", 42, -3, None, 1.5])
def test_neutralise_leaves_everything_else(value):
    assert neutralise(value) == value


FORMULAS = ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", EVIL]
PLAIN = ["Ana", "", "a=b", "1-2", " =x", "'=already"]


def test_the_database_neutralises_as_python_does(db):
    """The export's rows are neutralised by SQL (spreadsheet_safe); it must agree with neutralise()."""
    for value in FORMULAS + PLAIN:
        assert db.scalar(select(spreadsheet_safe(literal(value)))) == neutralise(value), repr(value)
    assert db.scalar(select(spreadsheet_safe(literal(None)))) is None


@pytest.mark.parametrize(
    ("low", "high", "parts", "expected"),
    [
        (1, 10, 2, [(1, 6), (6, 11)]),
        (1, 10, 3, [(1, 5), (5, 9), (9, 11)]),
        (5, 5, 4, [(5, 6)]),
        (1, 3, 8, [(1, 2), (2, 3), (3, 4)]),
        (7, 3, 2, []),
    ],
)
def test_id_ranges_cover_every_id_once_in_order(low, high, parts, expected):
    ranges = id_ranges(low, high, parts)
    assert ranges == expected
    assert [i for start, end in ranges for i in range(start, end)] == list(range(low, high + 1))


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def admin_client(make_user, login_as):
    return login_as(make_user("admin"))


def test_csv_streams_one_row_per_enrollment(admin_client, db, app):
    seed(db, learners=2500)  # more than one batch of 1000
    response = admin_client.get(ADMIN_CSV)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert (
        "attachment" in response.headers["Content-Disposition"]
        and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    )
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header[0] == "Learner" and header[-1] == "Certificate status"
    assert len(body) == db.scalar(select(func.count()).select_from(Enrollment))
    status = header.index("Status")
    completed = db.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.status == EnrollmentStatus.completed)
    )
    assert sum(1 for row in body if row[status] == "Completed") == completed
    certificate = header.index("Certificate status")
    path = header.index("Path")
    recordings = [row for row in body if row[path] == "Recording"]
    assert recordings and {row[certificate] for row in recordings} == {
        "Not available for recordings"
    }
    self_paced = [row for row in body if row[path] == "Self-paced"]
    assert self_paced and {row[certificate] for row in self_paced} == {
        "Not available for self-paced courses"
    }
    completed_at = header.index("Completed at (UTC)")
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[completed_at]) for row in body)


def test_on_screen_totals_equal_the_filtered_exports(admin_client, db):
    data = seed(db, learners=90)
    query = f"path=live&status=completed&affiliate=ohio&cohort={data.cohorts['a']}"
    page = admin_client.get(f"/admin/reports/completions?{query}").get_data(as_text=True)
    total = int(re.search(r'data-total="(\d+)"', page).group(1))
    assert 0 < total < 90
    csv_rows = read_csv(admin_client.get(f"{ADMIN_CSV}?{query}"))[1:]
    assert len(csv_rows) == total
    workbook = openpyxl.load_workbook(
        io.BytesIO(admin_client.get(f"{ADMIN_XLSX}?{query}").get_data()), read_only=True
    )
    assert workbook.active.max_row - 1 == total
    assert 'href="/admin/reports/completions.csv?' in page and "affiliate=ohio" in page


HOSTILE = [EVIL, "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "=1+1", "Plain Name"]


def test_formula_learner_is_harmless_in_csv_and_xlsx(admin_client, db):
    seed(db, learners=len(HOSTILE), names=HOSTILE)
    from lms.accounts.models import User

    db.execute(update(User).where(User.display_name == EVIL).values(affiliate="=cmd()"))
    db.commit()
    rows = read_csv(admin_client.get(ADMIN_CSV))
    learners = [row[0] for row in rows[1:]]
    # CSV keeps the guard: a program that opens it would otherwise run the text.
    assert sorted(learners) == sorted(neutralise(name) for name in HOSTILE)
    assert "'" + EVIL in learners and "'=cmd()" in [row[2] for row in rows[1:]]

    response = admin_client.get(ADMIN_XLSX)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"no formula anywhere ({cell.coordinate}: {cell.value!r})"
    # XLSX needs no guard: every value reads back as typed, as a text cell.
    cells = [sheet.cell(row=r, column=1) for r in range(2, sheet.max_row + 1)]
    assert sorted(cell.value for cell in cells) == sorted(HOSTILE)
    assert all(cell.data_type == "s" for cell in cells)
    evil_row = next(
        r for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == EVIL
    )
    assert (
        sheet.cell(row=evil_row, column=3).value == "=cmd()"
        and sheet.cell(row=evil_row, column=3).data_type == "s"
    )
    assert not any(
        str(cell.value).startswith("'")
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    )


def test_xlsx_has_header_types_and_not_available_text(admin_client, db):
    seed(db, learners=9)
    response = admin_client.get(ADMIN_XLSX)
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    assert header[0] == "Learner" and "Certificate status" in header
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 9
    path, certificate, minutes = (
        header.index("Path"),
        header.index("Certificate status"),
        header.index("Attendance minutes"),
    )
    assert {row[certificate] for row in rows if row[path] == "Recording"} == {
        "Not available for recordings"
    }
    assert any(isinstance(row[minutes], (int, float)) for row in rows), "numbers stay numbers"


def test_invalid_filters_refuse_the_export(admin_client):
    response = admin_client.get(f"{ADMIN_CSV}?path=video&from=yesterday")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "path:" in text and "from:" in text


def test_facilitator_exports_only_their_cohorts(make_user, login_as, db, app, client):
    data = seed(db, learners=30)
    from lms.accounts.models import User

    ana = db.get(User, data.facilitators["ana"])
    db.expunge(ana)
    login_as(ana)
    rows = read_csv(client.get("/facilitate/reports/completions.csv"))[1:]
    cohort = 6  # the Cohort column
    expected = sum(1 for e in data.enrollments if e["cohort_id"] == data.cohorts["a"])
    assert len(rows) == expected and {row[cohort] for row in rows} == {"ESP January"}
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get("/facilitate/reports/completions.xlsx").get_data()), read_only=True
    )
    assert workbook.active.max_row - 1 == expected


def test_cli_writes_csv_and_xlsx_with_filters(runner, db, tmp_path):
    seed(db, learners=30)
    out = tmp_path / "report.csv"
    result = runner.invoke(
        lms_group,
        ["reports", "completions", "--format", "csv", "--path", "recording", "-o", str(out)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 11 and all(
        row[rows[0].index("Certificate status")] == "Not available for recordings"
        for row in rows[1:]
    )
    assert "Wrote 10 row(s)" in result.output
    xlsx = tmp_path / "report.xlsx"
    result = runner.invoke(
        lms_group,
        [
            "reports",
            "completions",
            "--format",
            "xlsx",
            "--status",
            "completed",
            "--audience-role",
            "teacher",
            "-o",
            str(xlsx),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(xlsx).active
    statuses = {sheet.cell(row=r, column=9).value for r in range(2, sheet.max_row + 1)}
    assert sheet.max_row > 1 and statuses == {"Completed"}
    assert not list(tmp_path.glob("*.partial"))


def test_cli_refuses_bad_options(runner, db, tmp_path):
    seed(db, learners=3)
    out = tmp_path / "r.csv"
    result = runner.invoke(lms_group, ["reports", "completions", "--locale", "fr", "-o", str(out)])
    assert result.exit_code == 2 and "--locale" in result.output
    result = runner.invoke(
        lms_group,
        [
            "reports",
            "completions",
            "--from",
            "soon",
            "--certificate-status",
            "gold",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert "--from:" in result.output and "--certificate-status:" in result.output


def test_cli_csv_written_by_several_processes_equals_one_process(runner, db, tmp_path):
    seed(db, learners=120, names=[EVIL, "Zoë Ñandú"])
    files = {}
    for jobs in (1, 3):
        files[jobs] = tmp_path / f"report-{jobs}.csv"
        result = runner.invoke(
            lms_group,
            ["reports", "completions", "--jobs", str(jobs), "-o", str(files[jobs])],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
    total = db.scalar(select(func.count()).select_from(Enrollment))
    assert f"Wrote {total} row(s)" in result.output
    assert files[3].read_bytes() == files[1].read_bytes()
    rows = list(csv.reader(io.StringIO(files[3].read_text(encoding="utf-8-sig"))))
    assert (
        len(rows) == total + 1
        and rows[0][0] == "Learner"
        and sum(row[0] == "Learner" for row in rows) == 1
    )
    assert "'" + EVIL in {row[0] for row in rows}
    assert not list(tmp_path.glob("*.part*"))
