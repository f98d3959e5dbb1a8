"""What a new facilitator and admin hit, through the real routes: participant reports
in every encoding and separator a spreadsheet writes, revocations that stand, the clock, and
uploads that are too large."""

from __future__ import annotations

import codecs
import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers.cohorts import (
    client_for,
    completed_enrollment,
    enrollment_of,
    hold_session,
    issue_to_everyone,
    register,
    schedule,
    submit_reflections,
)

HEADER = [
    "Name (Original Name)",
    "User Email",
    "Join Time",
    "Leave Time",
    "Duration (Minutes)",
    "Guest",
]
MEETING = [
    [
        "Meeting ID",
        "Topic",
        "Start Time",
        "End Time",
        "User Email",
        "Duration (Minutes)",
        "Participants",
    ],
    [
        "812 3456 7890",
        "Dialogue; part 1, evening",
        "12/01/2026 05:00:00 PM",
        "12/01/2026 06:00:00 PM",
        "host@example.org",
        "61",
        "3",
    ],
]
ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8-bom": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16-le-bom": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "utf-16-be-bom": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}
DELIMITERS = {"comma": ",", "tab": "\t", "semicolon": ";"}


def report(rows: list[list[str]], *, delimiter: str = ",", meeting_block: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if meeting_block:
        writer.writerows(MEETING)
        buffer.write("\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


def upload(client, cohort_id: int, data: bytes, filename: str = "participants.csv"):
    return client.post(
        f"/facilitate/cohorts/{cohort_id}/attendance/import",
        data={"report": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def token_in(html: str) -> str:
    found = re.search(r'name="token"[^>]*value="([^"]+)"', html)
    assert found, html[:3000]
    return found.group(1)


def attendance_minutes(app, enrollment_id: int) -> int | None:
    from lms.cohorts.models import Attendance
    from lms.db import db_session

    with app.app_context():
        record = db_session.scalar(
            select(Attendance).where(Attendance.enrollment_id == enrollment_id)
        )
        return None if record is None else record.minutes


# -- 1. participant reports -------------------------------------------------------------------


@pytest.mark.parametrize(
    "meeting_block", [False, True], ids=["participants-only", "with-meeting-block"]
)
@pytest.mark.parametrize("delimiter", list(DELIMITERS), ids=list(DELIMITERS))
@pytest.mark.parametrize("encoding", list(ENCODINGS), ids=list(ENCODINGS))
def test_participant_report_in_every_encoding_and_separator(
    app, make_user, encoding, delimiter, meeting_block
):
    facilitator = make_user("facilitator")
    jose = make_user(email="jose@example.org", display_name="José Núñez")
    ana = make_user(email="ana@example.org", display_name="Ana Ōkafor")
    cohort_id = schedule(app, facilitator)
    for person in (jose, ana):
        register(app, person, cohort_id)
    hold_session(app, cohort_id)
    rows = [
        [
            "José Núñez",
            "JOSE@example.org",
            "12/01/2026 05:00:12 PM",
            "12/01/2026 05:31:40 PM",
            "32",
            "No",
        ],
        ["Ana Ōkafor", "", "12/01/2026 05:01:00 PM", "12/01/2026 05:50:00 PM", "49", "Yes"],
        [
            "José Núñez (Jose)",
            "jose@example.org",
            "12/01/2026 05:35:02 PM",
            "12/01/2026 06:00:01 PM",
            "25",
            "No",
        ],
    ]
    data = ENCODINGS[encoding](
        report(rows, delimiter=DELIMITERS[delimiter], meeting_block=meeting_block)
    )
    client = client_for(app, facilitator)
    response = upload(client, cohort_id, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:3000]
    assert "Matched: 2 people" in html
    assert "host@example.org" not in html, "the meeting block is not a participant"
    label = {"utf-8": "UTF-8", "utf-8-bom": "UTF-8 (BOM)"}.get(encoding, "UTF-16")
    assert f"File participants.csv ({label})." in html
    separators = {"comma": "commas", "tab": "tabs", "semicolon": "semicolons"}
    assert f"Columns separated by {separators[delimiter]}." in html
    assert (
        client.post(
            f"/facilitate/cohorts/{cohort_id}/attendance/import/apply",
            data={"token": token_in(html)},
        ).status_code
        == 303
    )
    assert (
        attendance_minutes(app, enrollment_of(app, jose, cohort_id).id) == 57
    )  # 32 + 25, a rejoin
    assert attendance_minutes(app, enrollment_of(app, ana, cohort_id).id) == 49  # matched by name


def test_decimal_comma_of_a_semicolon_report():
    from lms.cohorts.attendance_import import parse_participant_report

    text = report(
        [
            ["Ana", "ana@example.org", "", "", "32,5", "No"],
            ["Ben", "ben@example.org", "", "", "1,200", "No"],
        ],
        delimiter=";",
    )
    result = parse_participant_report(text.encode("utf-8"), max_bytes=10_000, max_rows=10)
    assert result.ok and result.delimiter == ";"
    assert [row.minutes for row in result.rows] == [33, 1200]


# -- 2. revocations stand -----------------------------------------------------------------------


@pytest.fixture
def revoked(app, make_user):
    """A completed learner whose certificate an admin revoked:
    (facilitator, admin, learner, cohort, enrollment, code)."""
    from lms.accounts.models import User
    from lms.certificates import services
    from lms.db import db_session
    from lms.learning.models import Enrollment

    facilitator, admin, learner = (
        make_user("facilitator"),
        make_user("admin"),
        make_user(display_name="Rita Revoked"),
    )
    cohort_id, enrollment_id = completed_enrollment(app, facilitator, learner)
    with app.test_request_context():
        certificate = services.issue_certificate(
            db_session.get(Enrollment, enrollment_id), db_session.get(User, facilitator.id)
        ).certificate
        code = certificate.code
        db_session.commit()
    response = client_for(app, admin).post(
        f"/certificates/{code}/revoke",
        data={"reason": "Attendance was recorded for the wrong person"},
    )
    assert response.status_code == 303
    return facilitator, admin, learner, cohort_id, enrollment_id, code


def _certificates(app, enrollment_id: int):
    from lms.certificates.models import Certificate
    from lms.db import db_session

    with app.app_context():
        rows = db_session.scalars(
            select(Certificate)
            .where(Certificate.enrollment_id == enrollment_id)
            .order_by(Certificate.id)
        ).all()
        return [(row.code, row.revoked_at is None) for row in rows]


def test_the_roster_shows_a_revocation_with_its_date_and_no_issue_button(app, revoked):
    facilitator, admin, learner, cohort_id, enrollment_id, code = revoked
    html = (
        client_for(app, facilitator).get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
    )
    row = next(
        part for part in html.split("<tr>") if "Rita Revoked" in part and "@example.org" in part
    )
    assert "Revoked" in row and re.search(r'<time datetime="\d{4}-\d\d-\d\dT', row)
    assert f'name="enrollment_id" value="{enrollment_id}"' not in html, (
        "no Issue certificate button for them"
    )
    assert "Only an admin can issue a new certificate after a revocation." in row
    admin_view = (
        client_for(app, admin).get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
    )
    assert f"/certificates/{code}/manage" in admin_view and "reissue after revocation" in admin_view


def test_neither_the_bulk_issue_nor_the_roster_button_undoes_a_revocation(app, make_user, revoked):
    facilitator, admin, learner, cohort_id, enrollment_id, code = revoked
    other = make_user(display_name="Olga Other")
    _, other_enrollment = completed_enrollment(app, facilitator, other, cohort_id)
    client = client_for(app, facilitator)
    page = issue_to_everyone(app, client, cohort_id)
    assert "1 certificate issued." in page
    assert f"certificate {code} was revoked on" in page
    assert _certificates(app, enrollment_id) == [(code, False)], (
        "the revoked enrollment got nothing new"
    )
    assert [valid for _code, valid in _certificates(app, other_enrollment)] == [True]
    # Neither the roster's button (posted by hand), for a facilitator or an admin.
    for person in (facilitator, admin):
        page = (
            client_for(app, person)
            .post(
                f"/facilitate/cohorts/{cohort_id}/certificates/issue",
                data={"enrollment_id": enrollment_id},
                follow_redirects=True,
            )
            .get_data(as_text=True)
        )
        assert "Only an admin can issue a new one" in page
    assert _certificates(app, enrollment_id) == [(code, False)]


def test_the_admin_reissues_after_a_revocation_deliberately_and_audited(app, revoked):
    from lms.audit.models import AuditEvent
    from lms.db import db_session

    facilitator, admin, learner, cohort_id, enrollment_id, code = revoked
    assert (
        client_for(app, facilitator)
        .post(f"/certificates/{code}/reissue-after-revocation", data={"reason": "x"})
        .status_code
        == 403
    )
    client = client_for(app, admin)
    manage = client.get(f"/certificates/{code}/manage").get_data(as_text=True)
    assert f'action="/certificates/{code}/reissue-after-revocation"' in manage
    missing_reason = client.post(
        f"/certificates/{code}/reissue-after-revocation", data={"reason": "  "}
    )
    assert (
        missing_reason.status_code == 422
        and "Say why a new certificate is issued" in missing_reason.get_data(as_text=True)
    )
    assert _certificates(app, enrollment_id) == [(code, False)]

    response = client.post(
        f"/certificates/{code}/reissue-after-revocation",
        data={"reason": "Appeal upheld: the attendance was right"},
    )
    assert response.status_code == 303
    certificates = _certificates(app, enrollment_id)
    assert len(certificates) == 2 and certificates[0] == (code, False) and certificates[1][1]
    new_code = certificates[1][0]
    assert response.headers["Location"].endswith(f"/certificates/{new_code}/manage")
    assert (
        "revoked" in client_for(app, learner).get(f"/verify/{code}").get_data(as_text=True).lower()
    )
    with app.app_context():
        event = db_session.scalar(
            select(AuditEvent).where(AuditEvent.action == "certificate.reissued_after_revocation")
        )
        assert event is not None and event.actor_id == admin.id
        assert (
            event.details["revoked"] == code
            and event.details["code"] == new_code
            and event.details["reason"] == "Appeal upheld: the attendance was right"
        )
    # Once there is a valid certificate again, the revoked one offers no second reissue.
    assert 'reissue-after-revocation"' not in client.get(f"/certificates/{code}/manage").get_data(
        as_text=True
    )
    assert (
        client.post(
            f"/certificates/{code}/reissue-after-revocation", data={"reason": "again"}
        ).status_code
        == 422
    )
    assert len(_certificates(app, enrollment_id)) == 2


# -- 3. the clock -----------------------------------------------------------------------------


@pytest.fixture
def running(app, make_user, time_machine):
    """A 60-minute session with a learner who reflected; the clock at its start:
    (facilitator, learner, cohort, enrollment, start)."""
    from lms.cohorts.models import Cohort
    from lms.db import db_session

    facilitator, learner = (
        make_user("facilitator"),
        make_user(email="lena@example.org", display_name="Lena Live"),
    )
    cohort_id = schedule(app, facilitator)
    register(app, learner, cohort_id)
    enrollment_id = enrollment_of(app, learner, cohort_id).id
    submit_reflections(app, enrollment_id)
    with app.app_context():
        start = db_session.get(Cohort, cohort_id).starts_at
    time_machine.move_to(start, tick=False)
    return facilitator, learner, cohort_id, enrollment_id, start


def test_minutes_are_capped_by_the_time_the_session_has_run(app, running, time_machine):
    facilitator, learner, cohort_id, enrollment_id, start = running
    client = client_for(app, facilitator)
    url = f"/facilitate/cohorts/{cohort_id}/attendance"
    time_machine.move_to(
        start + timedelta(minutes=15), tick=False
    )  # 15 minutes in: at most 15 + 15
    refused = client.post(
        url, data={f"status_{enrollment_id}": "present", f"minutes_{enrollment_id}": "55"}
    )
    assert refused.status_code == 422 and "Between 0 and 30" in refused.get_data(as_text=True)
    assert "at most 30 minutes can be recorded now" in re.sub(
        r"\s+", " ", client.get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
    )
    no_minutes = client.post(url, data={f"status_{enrollment_id}": "present"})
    assert no_minutes.status_code == 422 and "the session has not ended yet" in no_minutes.get_data(
        as_text=True
    )
    assert attendance_minutes(app, enrollment_id) is None
    assert (
        client.post(
            url, data={f"status_{enrollment_id}": "late", f"minutes_{enrollment_id}": "30"}
        ).status_code
        == 303
    )
    assert attendance_minutes(app, enrollment_id) == 30

    # An import is capped the same way, and the preview says so.
    data = report([["Lena Live", "lena@example.org", "", "", "55", "No"]]).encode("utf-8")
    html = upload(client, cohort_id, data).get_data(as_text=True)
    assert "(55 in the file" in html and "nobody is given more than 30 minutes" in html
    assert client.post(f"{url}/import/apply", data={"token": token_in(html)}).status_code == 303
    assert attendance_minutes(app, enrollment_id) == 30

    # After the end: the length plus the tolerance, which is a setting.
    time_machine.move_to(start + timedelta(hours=3), tick=False)
    assert (
        client.post(
            url, data={f"status_{enrollment_id}": "present", f"minutes_{enrollment_id}": "76"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            url, data={f"status_{enrollment_id}": "present", f"minutes_{enrollment_id}": "75"}
        ).status_code
        == 303
    )
    app.config["LMS_ATTENDANCE_TOLERANCE_MINUTES"] = 0
    assert (
        client.post(
            url, data={f"status_{enrollment_id}": "present", f"minutes_{enrollment_id}": "61"}
        ).status_code
        == 422
    )
    assert client.post(url, data={f"status_{enrollment_id}": "present"}).status_code == 303
    assert attendance_minutes(app, enrollment_id) == 60


def test_certificates_wait_for_the_end_of_the_session(app, running, time_machine):
    from lms.certificates.models import Certificate
    from lms.db import db_session

    facilitator, learner, cohort_id, enrollment_id, start = running
    client = client_for(app, facilitator)
    time_machine.move_to(start + timedelta(minutes=50), tick=False)
    assert (
        client.post(
            f"/facilitate/cohorts/{cohort_id}/attendance",
            data={f"status_{enrollment_id}": "present", f"minutes_{enrollment_id}": "50"},
        ).status_code
        == 303
    )
    assert enrollment_of(app, learner, cohort_id).status == "completed"
    roster = re.sub(
        r"\s+", " ", client.get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
    )
    assert "the certificate can be issued once the session ends" in roster
    assert "Certificates can be issued once the session has ended, at" in roster
    assert f'action="/facilitate/cohorts/{cohort_id}/certificates"' not in roster
    assert f'name="enrollment_id" value="{enrollment_id}"' not in roster
    for action, data in (
        ("certificates", {}),
        ("certificates/issue", {"enrollment_id": enrollment_id}),
    ):
        page = client.post(
            f"/facilitate/cohorts/{cohort_id}/{action}", data=data, follow_redirects=True
        ).get_data(as_text=True)
        assert "Certificates can be issued once the session has ended" in page
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Certificate)) == 0

    time_machine.move_to(start + timedelta(minutes=60), tick=False)
    roster = client.get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
    assert (
        f'action="/facilitate/cohorts/{cohort_id}/certificates"' in roster
        and f'name="enrollment_id" value="{enrollment_id}"' in roster
    )
    assert "1 certificate issued." in issue_to_everyone(app, client, cohort_id)


# -- 5. uploads that are too large -------------------------------------------------------------


@pytest.mark.parametrize("size", ["past-the-import-limit", "past-the-request-limit"])
def test_an_oversized_report_is_answered_on_its_form(app, make_user, size):
    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator)
    app.config["LMS_ATTENDANCE_UPLOAD_MAX_BYTES"] = 10_000
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    body = report(
        [[f"Person {i}", f"p{i}@example.org", "", "", "30", "No"] for i in range(2000)]
    ).encode("utf-8")
    data = body[:20_000] if size == "past-the-import-limit" else body
    assert (len(data) > 50_000) == (size == "past-the-request-limit")
    response = upload(client_for(app, facilitator), cohort_id, data)
    html = re.sub(r"\s+", " ", response.get_data(as_text=True))
    assert response.status_code == 413
    assert "The file is too large: the limit is 10,000 bytes." in html
    assert 'enctype="multipart/form-data"' in html and 'name="report"' in html, "the form again"
    assert (
        "Import attendance" in html
        and "Too large" not in html.split("<main", 1)[-1].split("</h1>")[0]
    )

    # With CSRF protection on (as in production), whose check is what reads the body first.
    if size == "past-the-request-limit":
        signed_in = client_for(app, facilitator)
        app.config["WTF_CSRF_ENABLED"] = True
        protected = upload(signed_in, cohort_id, data)
        assert protected.status_code == 413 and "the limit is 10,000 bytes" in protected.get_data(
            as_text=True
        )
        app.config["WTF_CSRF_ENABLED"] = False

    # The request limit below the import's: the lower one is stated.
    app.config["MAX_CONTENT_LENGTH"] = 5_000
    response = upload(client_for(app, facilitator), cohort_id, body)
    assert response.status_code == 413 and "the limit is 5,000 bytes" in response.get_data(
        as_text=True
    )


def test_a_too_large_upload_reveals_nothing_to_others(app, make_user):
    facilitator, stranger = make_user("facilitator"), make_user("facilitator")
    cohort_id = schedule(app, facilitator, title="Secret session title")
    app.config["MAX_CONTENT_LENGTH"] = 1_000
    for client in (app.test_client(), client_for(app, make_user()), client_for(app, stranger)):
        response = upload(client, cohort_id, b"x" * 5_000)
        assert response.status_code == 413
        assert "Secret session title" not in response.get_data(as_text=True)
