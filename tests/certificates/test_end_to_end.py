"""The whole live journey through the test client: schedule, register (waitlist), import
attendance, reflect, issue certificates twice at once, read the PDF and its QR code, verify,
revoke and reissue."""

from __future__ import annotations

import io
import re
import threading
from urllib.parse import urlsplit

import pypdfium2
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import func, select

from lms.jobs import wait_for_jobs
from tests.helpers.certificates import page_text
from tests.helpers.cohorts import client_for, enrollment_of, schedule_via_client, submit_reflections

ZOOM_CSV = (
    "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\r\n"
    "Ana Learner,ana@example.org,12/01/2026 05:00:12 PM,12/01/2026 05:31:40 PM,32,No\r\n"
    "Cy Learner,CY@example.org,12/01/2026 05:01:00 PM,12/01/2026 05:59:00 PM,58,No\r\n"
    "Stranger,stranger@example.org,12/01/2026 05:02:00 PM,12/01/2026 05:30:00 PM,28,Yes\r\n"
    "Ana Learner (Ana),ana@example.org,12/01/2026 05:35:02 PM,12/01/2026 06:00:01 PM,25,No\r\n"
    "Bad Row,bad@example.org,12/01/2026 05:02:00 PM,12/01/2026 05:30:00 PM,about half an hour,No\r\n"
)


def _flashes(html: str) -> str:
    return " ".join(re.findall(r'<p class="flash[^"]*">(.*?)</p>', html, re.S))


def test_live_journey_end_to_end(app, make_user, time_machine):
    from lms.audit.models import AuditEvent
    from lms.certificates.models import Certificate
    from lms.cohorts.models import Attendance
    from lms.db import db_session
    from lms.learning.models import Enrollment

    facilitator = make_user("facilitator", display_name="Fran Facilitator")
    admin = make_user("admin")
    ana = make_user(email="ana@example.org", display_name="Ana Learner")
    ben = make_user(email="ben@example.org", display_name="Ben Learner")
    cy = make_user(email="cy@example.org", display_name="Cy Learner", locale="es")

    # A facilitator schedules a cohort with two seats.
    fac = client_for(app, facilitator)
    cohort_id = schedule_via_client(fac, facilitator.email, capacity=2)

    # Three learners register: the third is waitlisted.
    clients = {user.email: client_for(app, user) for user in (ana, ben, cy)}
    for user in (ana, ben, cy):
        response = clients[user.email].post(f"/cohorts/{cohort_id}/register")
        assert response.status_code == 303
    assert enrollment_of(app, ana, cohort_id).status == "registered"
    assert enrollment_of(app, ben, cohort_id).status == "registered"
    assert enrollment_of(app, cy, cohort_id).status == "waitlisted"
    page = clients[cy.email].get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert "número 1 en la lista de espera" in page, "Cy reads Spanish"

    # Registering twice is harmless.
    assert clients[ana.email].post(f"/cohorts/{cohort_id}/register").status_code == 303
    with app.app_context():
        assert (
            db_session.scalar(
                select(func.count())
                .select_from(Enrollment)
                .where(Enrollment.cohort_id == cohort_id)
            )
            == 3
        )

    # Ben withdraws; Cy moves up, with an audit event.
    assert clients[ben.email].post(f"/cohorts/{cohort_id}/withdraw").status_code == 303
    assert enrollment_of(app, ben, cohort_id).status == "withdrawn"
    assert enrollment_of(app, cy, cohort_id).status == "registered"
    with app.app_context():
        event = db_session.scalar(
            select(AuditEvent).where(AuditEvent.action == "cohort.waitlist_promoted")
        )
        assert event is not None and event.details["user_id"] == cy.id

    # The session takes place: the clock moves to half an hour after it ended.
    from datetime import timedelta

    from lms.cohorts.models import Cohort

    with app.app_context():
        cohort = db_session.get(Cohort, cohort_id)
        time_machine.move_to(cohort.starts_at + timedelta(minutes=cohort.minutes + 30), tick=True)
    # Weeks went by: sign-ins made before them have expired (LMS_SIGN_IN_MAX_AGE), so sign in again.
    fac = client_for(app, facilitator)
    clients = {user.email: client_for(app, user) for user in (ana, ben, cy)}

    # A Zoom participant report (BOM, a rejoin, an unknown email, a bad duration): preview...
    data = b"\xef\xbb\xbf" + ZOOM_CSV.encode("utf-8")
    response = fac.post(
        f"/facilitate/cohorts/{cohort_id}/attendance/import",
        data={"report": (io.BytesIO(data), "participants.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert "Matched: 2 people" in html
    assert "stranger@example.org" in html and "Nobody on the roster" in html
    assert "about half an hour" in html and "is not a duration in minutes" in html
    with app.app_context():
        assert (
            db_session.scalar(select(func.count()).select_from(Attendance)) == 0
        )  # a preview changes nothing
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', html
    )
    token = token or re.search(r'name="token"[^>]*value="([^"]+)"', html)
    assert token, html
    # ... then apply.
    response = fac.post(
        f"/facilitate/cohorts/{cohort_id}/attendance/import/apply", data={"token": token.group(1)}
    )
    assert response.status_code == 303
    ana_enrollment = enrollment_of(app, ana, cohort_id)
    cy_enrollment = enrollment_of(app, cy, cohort_id)
    with app.app_context():
        attendance = {a.enrollment_id: a for a in db_session.scalars(select(Attendance))}
        assert (
            attendance[ana_enrollment.id].minutes == 57
            and attendance[ana_enrollment.id].status == "present"
        )
        assert attendance[ana_enrollment.id].source == "import"
        assert attendance[cy_enrollment.id].minutes == 58
        assert (
            db_session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "attendance.recorded")
            )
            == 2
        )

    # The learners submit their reflections (Ana shares hers with the facilitator).
    submit_reflections(app, ana_enrollment.id, shared=True)
    submit_reflections(app, cy_enrollment.id)
    roster = fac.get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
    assert "3 submitted" in roster
    assert f"/learners/{ana_enrollment.id}/reflections" in roster
    assert f"/learners/{cy_enrollment.id}/reflections" not in roster  # not shared
    assert (
        fac.get(
            f"/facilitate/cohorts/{cohort_id}/learners/{ana_enrollment.id}/reflections"
        ).status_code
        == 200
    )
    assert (
        fac.get(
            f"/facilitate/cohorts/{cohort_id}/learners/{cy_enrollment.id}/reflections"
        ).status_code
        == 404
    )

    # Certificates are issued twice at once: only one valid certificate per person.
    issuers = [client_for(app, facilitator), client_for(app, facilitator)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def issue(client):
        barrier.wait()
        statuses.append(client.post(f"/facilitate/cohorts/{cohort_id}/certificates").status_code)

    threads = [threading.Thread(target=issue, args=(c,)) for c in issuers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [303, 303]
    wait_for_jobs(app)  # each request committed an issuing job; both ran
    with app.app_context():
        valid = db_session.scalars(
            select(Certificate).where(Certificate.revoked_at.is_(None))
        ).all()
        assert sorted(c.enrollment_id for c in valid) == sorted(
            [ana_enrollment.id, cy_enrollment.id]
        )
        ana_code = next(c.code for c in valid if c.enrollment_id == ana_enrollment.id)
        cy_code = next(c.code for c in valid if c.enrollment_id == cy_enrollment.id)
        assert next(c for c in valid if c.enrollment_id == cy_enrollment.id).locale == "es"

    # The PDF's text and its QR code lead to a verification page that says valid.
    response = clients[ana.email].get(f"/certificates/{ana_code}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf_bytes = response.get_data()
    assert len(PdfReader(io.BytesIO(pdf_bytes)).pages) == 1
    text = page_text(pdf_bytes)  # each line's /ActualText: ligatures ("fi") read as their letters
    assert "Ana Learner" in text and ana_code in text and "Fran Facilitator" in text
    assert "A Dialogue with ESPs about Racial Justice in Education" in text
    image = pypdfium2.PdfDocument(pdf_bytes)[0].render(scale=3).to_pil()
    codes = zxingcpp.read_barcodes(image)
    assert codes, "no QR code found on the certificate"
    url = codes[0].text
    assert url.endswith(f"/verify/{ana_code}")
    verify_client = app.test_client()
    page = verify_client.get(urlsplit(url).path)
    assert page.status_code == 200
    assert "This certificate is valid." in page.get_data(as_text=True)
    # Cy's certificate is in Spanish (her locale): the date is written in Spanish.
    cy_pdf = clients[cy.email].get(f"/certificates/{cy_code}.pdf").get_data()
    cy_text = page_text(cy_pdf)
    assert "Un diálogo con los ESP" in cy_text and " de " in cy_text

    # An admin revokes Ana's: the page says revoked.
    adm = client_for(app, admin)
    response = adm.post(
        f"/certificates/{ana_code}/revoke",
        data={"reason": "Attendance was recorded for the wrong person."},
    )
    assert response.status_code == 303
    page = verify_client.get(f"/verify/{ana_code}").get_data(as_text=True)
    assert "Revoked" in page and "wrong person" not in page

    # An admin reissues Cy's: the old one says replaced, with a link to the new one.
    response = adm.post(f"/certificates/{cy_code}/reissue")
    assert response.status_code == 303
    with app.app_context():
        old = db_session.scalar(select(Certificate).where(Certificate.code == cy_code))
        new = db_session.get(Certificate, old.replaced_by_id)
        assert old.revoked_reason == "replaced" and new.revoked_at is None
        new_code = new.code
    page = verify_client.get(f"/verify/{cy_code}").get_data(as_text=True)
    assert "Replaced" in page and f"/verify/{new_code}" in page
    assert "This certificate is valid." in verify_client.get(f"/verify/{new_code}").get_data(
        as_text=True
    )
