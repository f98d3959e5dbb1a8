"""Journey (b): a facilitator schedules a live cohort, a learner registers, the facilitator
imports attendance from a Zoom participant report and issues certificates."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.helpers.e2e.flows import sign_in, unique_email, wait_for
from tests.helpers.e2e.pages import check_page
from tests.helpers.e2e.settings import FLAGSHIP

pytestmark = pytest.mark.e2e

ENDPOINTS = (
    "lms_cohorts.new_cohort",
    "lms_cohorts.roster",
    "lms_cohorts.register",
    "lms_cohorts.import_attendance",
    "lms_cohorts.apply_import",
    "lms_certificates.issue_cohort",
    "lms_certificates.certificate_pdf",
)


def zoom_participants_csv(path, session_day: date, people: list[tuple[str, str, int]]) -> None:
    """A participant report as Zoom exports it (UTF-8 with BOM, US dates, a guest line)."""
    day = session_day.strftime("%m/%d/%Y")
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "Name (Original Name)",
                "User Email",
                "Join Time",
                "Leave Time",
                "Duration (Minutes)",
                "Guest",
                "Recording Consent",
            ]
        )
        for name, email, minutes in people:
            writer.writerow(
                [
                    name,
                    email,
                    f"{day} 05:00:10 PM",
                    f"{day} 05:{minutes - 1:02d}:40 PM",
                    minutes,
                    "No" if email else "Yes",
                    "Y",
                ]
            )


def _submit_reflections(live_server, enrollment_id: int) -> None:
    """The learner's three reflections (journey (a) writes them through the pages)."""
    from lms.db import utcnow
    from lms.learning.models import Reflection, ReflectionStatus
    from lms.learning.progress import count_words
    from tests.helpers.e2e.pages import words

    def add(session):
        for step_id in ("outcome-1", "outcome-2", "outcome-3"):
            body = words(50, step_id)
            session.add(
                Reflection(
                    enrollment_id=enrollment_id,
                    prompt_id=step_id,
                    body=body,
                    status=ReflectionStatus.submitted,
                    word_count=count_words(body),
                    submitted_at=utcnow(),
                )
            )

    live_server.db(add)


def test_facilitator_schedules_imports_attendance_and_issues_certificates(
    context_factory, live_server, tmp_path
):
    missing = [endpoint for endpoint in ENDPOINTS if not live_server.has_endpoint(endpoint)]
    if missing:
        pytest.skip(
            f"cohorts, attendance import and certificates not merged yet (missing {', '.join(missing)})"
        )
    from sqlalchemy import select

    from lms.certificates.models import Certificate
    from lms.cohorts.models import Attendance, Cohort
    from lms.learning.models import Enrollment

    fran = live_server.people["facilitator-fran"]
    learner = live_server.create_person(unique_email("live").split("@")[0], name="Lena Live")
    title = f"Thursday evening session {unique_email('c').split('@')[0]}"
    session_day = date.today() + timedelta(days=7)

    # 1. The facilitator schedules a cohort.
    facilitator = context_factory()
    sign_in(facilitator, fran.email, fran.password)
    facilitator.goto(
        live_server.url_for("lms_cohorts.facilitate")
        if live_server.has_endpoint("lms_cohorts.facilitate")
        else "/facilitate/"
    )
    check_page(facilitator, "facilitate-en")
    facilitator.goto(live_server.url_for("lms_cohorts.new_cohort"))
    check_page(facilitator, "cohort-new-en")
    facilitator.locator("#course").select_option(FLAGSHIP)
    facilitator.locator("#title").fill(title)
    facilitator.locator("#start_date").fill(session_day.isoformat())
    facilitator.locator("#start_time").fill("17:00")
    facilitator.locator("#time_zone").select_option("America/New_York")
    facilitator.locator("#minutes").fill("60")
    facilitator.locator("#join_url").fill("https://meet.example.org/thursday")
    facilitator.locator("#location").fill("Online")
    facilitator.locator("#capacity").fill("25")
    facilitator.locator("main form [type=submit]").first.click()
    facilitator.wait_for_load_state("load")
    expect(facilitator.locator(".error-summary")).to_have_count(0)
    cohort = live_server.db(lambda s: s.scalar(select(Cohort).where(Cohort.title == title)))
    assert cohort is not None and cohort.minutes == 60
    facilitator.goto(live_server.url_for("lms_cohorts.roster", cohort_id=cohort.id))
    check_page(facilitator, "roster-empty-en")

    # 2. A learner registers for it from the course page.
    page = context_factory()
    sign_in(page, learner.email, learner.password)
    page.goto(f"/courses/{FLAGSHIP}")
    page.locator(
        f"form[action='{live_server.url_for('lms_cohorts.register', cohort_id=cohort.id)}'] [type=submit]"
    ).click()
    page.wait_for_load_state("load")
    enrollment = live_server.db(
        lambda s: s.scalar(select(Enrollment).where(Enrollment.cohort_id == cohort.id))
    )
    assert (
        enrollment is not None
        and enrollment.path.value == "live"
        and enrollment.user.email == learner.email
    )
    page.goto(live_server.url_for("lms_cohorts.cohort", cohort_id=cohort.id))
    check_page(page, "cohort-public-registered-en")
    _submit_reflections(live_server, enrollment.id)

    # The session takes place: attendance and certificates follow the clock, so it is moved to
    # have ended an hour ago.
    def hold_session(session):
        from lms.db import utcnow

        held = session.get(Cohort, cohort.id)
        held.starts_at = utcnow() - timedelta(minutes=held.minutes + 60)

    live_server.db(hold_session)

    # 3. The facilitator imports the Zoom participant report: preview first, then apply.
    report = tmp_path / "participants_81234567890.csv"
    zoom_participants_csv(
        report, session_day, [("Lena Live", learner.email, 58), ("Guest Caller", "", 20)]
    )
    facilitator.goto(live_server.url_for("lms_cohorts.import_attendance", cohort_id=cohort.id))
    check_page(facilitator, "attendance-import-en")
    facilitator.locator("#report").set_input_files(str(report))
    facilitator.locator("main form[enctype='multipart/form-data'] [type=submit]").click()
    facilitator.wait_for_load_state("load")
    apply = facilitator.locator(
        f"form[action='{live_server.url_for('lms_cohorts.apply_import', cohort_id=cohort.id)}'] [type=submit]"
    )
    expect(apply).to_be_visible()
    expect(facilitator.locator("main table").first).to_contain_text(learner.email)
    expect(facilitator.locator("main")).to_contain_text(
        "Guest Caller"
    )  # unmatched, shown, not applied
    assert (
        live_server.db(
            lambda s: s.scalar(select(Attendance).where(Attendance.enrollment_id == enrollment.id))
        )
        is None
    )
    check_page(facilitator, "attendance-import-preview-en")
    apply.click()
    facilitator.wait_for_load_state("load")
    attendance = wait_for(
        lambda: live_server.db(
            lambda s: s.scalar(select(Attendance).where(Attendance.enrollment_id == enrollment.id))
        ),
        timeout=10,
        message="attendance",
    )
    assert (
        attendance.minutes == 58
        and attendance.status.value == "present"
        and attendance.source.value == "import"
    )
    assert live_server.db(lambda s: s.get(Enrollment, enrollment.id)).status.value == "completed"
    check_page(facilitator, "roster-attended-en")

    # 4. Certificates for everyone who completed.
    facilitator.goto(live_server.url_for("lms_cohorts.roster", cohort_id=cohort.id))
    facilitator.locator(
        f"form[action='{live_server.url_for('lms_certificates.issue_cohort', cohort_id=cohort.id)}'] [type=submit]"
    ).click()
    facilitator.wait_for_load_state("load")
    # Issuing to a whole cohort is a job: its page follows it (refreshing itself, no script).
    expect(facilitator.locator("h1")).to_contain_text("Issuing certificates")
    certificate = wait_for(
        lambda: live_server.db(
            lambda s: s.scalar(
                select(Certificate).where(Certificate.enrollment_id == enrollment.id)
            )
        ),
        timeout=15,
        message="certificate",
    )
    assert certificate.learner_name == "Lena Live"
    facilitator.reload()
    expect(facilitator.locator("main [role=status]")).to_contain_text("1 certificate issued.")
    check_page(facilitator, "certificates-issued-en")
    facilitator.goto(live_server.url_for("lms_cohorts.roster", cohort_id=cohort.id))
    expect(facilitator.get_by_role("link", name=certificate.code)).to_be_visible()
    check_page(facilitator, "roster-certified-en")

    # The learner sees it on their dashboard and can download the PDF.
    page.goto("/me")
    pdf_link = page.locator(
        f"main a[href='{live_server.url_for('lms_certificates.certificate_pdf', code=certificate.code)}']"
    )
    expect(pdf_link).to_be_visible()
    check_page(page, "dashboard-with-certificate-en")
    response = page.request.get(pdf_link.get_attribute("href"))
    assert (
        response.ok
        and response.headers["content-type"].startswith("application/pdf")
        and response.body().startswith(b"%PDF")
    )
    if live_server.has_endpoint("lms_certificates.verify"):
        page.goto(live_server.url_for("lms_certificates.verify", code=certificate.code))
        expect(page.locator("main")).to_contain_text(re.compile("Lena Live"))
        check_page(page, "verify-en")
