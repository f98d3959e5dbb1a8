"""Journey (c): an admin filters the completion report and downloads it as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.helpers.e2e.flows import sign_in, unique_email
from tests.helpers.e2e.pages import check_page, skip_unless_page
from tests.helpers.e2e.settings import FLAGSHIP

pytestmark = pytest.mark.e2e


def _enroll(live_server, email: str, path: str, completed: bool) -> int:
    """Arrange an enrollment directly (journeys (a) and (b) make them through the pages)."""
    from sqlalchemy import select

    from lms.accounts.models import User
    from lms.courses.models import Course
    from lms.db import utcnow
    from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath

    def add(session):
        user = session.scalar(select(User).where(User.email == email))
        course = session.scalar(select(Course).where(Course.slug == FLAGSHIP))
        now = utcnow()
        enrollment = Enrollment(
            user_id=user.id,
            course_id=course.id,
            path=LearningPath(path),
            started_at=now,
            status=EnrollmentStatus.completed if completed else EnrollmentStatus.in_progress,
            completed_at=now if completed else None,
        )
        session.add(enrollment)
        session.flush()
        return enrollment.id

    return live_server.db(add)


def test_admin_filters_the_completion_report_and_downloads_it(page, live_server, tmp_path):
    skip_unless_page(live_server, "/admin/reports/completions", "the completion report")
    done = live_server.create_person(unique_email("report-done").split("@")[0], name="Dora Done")
    going = live_server.create_person(unique_email("report-going").split("@")[0], name="Gus Going")
    _enroll(live_server, done.email, "recording", completed=True)
    _enroll(live_server, going.email, "recording", completed=False)
    ann = live_server.people["admin-ann"]

    sign_in(page, ann.email, ann.password)
    if live_server.status("/admin/") != 404:
        page.goto("/admin/")
        check_page(page, "admin-en")
    page.goto("/admin/reports/completions")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_page(page, "report-en")
    expect(page.locator("main table")).to_contain_text(done.email)
    expect(page.locator("main table")).to_contain_text(going.email)

    # Filter: completed recordings only.
    filters = page.locator("main form.filters")
    filters.locator("select[name=path]").select_option("recording")
    filters.locator("select[name=status]").select_option("completed")
    filters.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(r"path=recording"))
    expect(page).to_have_url(re.compile(r"status=completed"))
    table = page.locator("main table")
    expect(table).to_contain_text(done.email)
    expect(table).not_to_contain_text(going.email)
    check_page(page, "report-filtered-en")

    # CSV: the same filters, one row per enrollment, the recording's no-certificate rule spelled out.
    with page.expect_download() as info:
        page.locator("main a[href*='completions.csv']").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2
    assert any(done.email in row for row in rows[1:])
    assert going.email not in text
    assert re.search(r"not available for recordings", text, re.I)

    # XLSX, opened as a spreadsheet.
    with page.expect_download() as info:
        page.locator("main a[href*='completions.xlsx']").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True).active
    values = [
        str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None
    ]
    assert done.email in values and going.email not in values
