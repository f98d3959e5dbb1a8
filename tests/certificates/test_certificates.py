"""Certificates: codes, idempotent and race-safe issue, refusals for recordings, revoke, ZIP, verify."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from lms.jobs import wait_for_jobs
from tests.helpers.cohorts import (
    client_for,
    completed_enrollment,
    download_cohort_zip,
    enrollment_of,
    register,
    schedule,
)


def _valid_count(app, enrollment_id):
    from lms.certificates.models import Certificate
    from lms.db import db_session

    with app.app_context():
        return db_session.scalar(
            select(func.count())
            .select_from(Certificate)
            .where(Certificate.enrollment_id == enrollment_id, Certificate.revoked_at.is_(None))
        )


def _self_directed_enrollment(app, user, path="recording", slug="esp-racial-justice-dialogue"):
    from lms.courses.catalog import course_row
    from lms.db import db_session
    from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath
    from lms.state import lms_state

    with app.app_context():
        course = course_row(db_session, lms_state().catalog.get(slug))
        enrollment = Enrollment(
            user_id=user.id,
            course_id=course.id,
            path=LearningPath(path),
            status=EnrollmentStatus.completed,
        )
        db_session.add(enrollment)
        db_session.commit()
        return enrollment.id


def test_codes_are_80_bit_crockford_grouped():
    from lms.certificates.services import ALPHABET, generate_code, normalise_code

    codes = {generate_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", code)
    assert len(ALPHABET) == 32 and not set("ILOU") & set(ALPHABET)
    assert normalise_code("k7qd 3mpx-w9ta-hf2c") == "K7QD-3MPX-W9TA-HF2C"
    assert normalise_code("K7QD3MPXW9TAHF2O") == "K7QD-3MPX-W9TA-HF20"  # O read as zero
    assert normalise_code("short") is None and normalise_code("K7QD-3MPX-W9TA-HF2U") is None


def test_issue_is_idempotent_and_snapshots_what_it_prints(app, make_user):
    from lms.accounts.models import User
    from lms.certificates import services
    from lms.certificates.signals import certificate_issued
    from lms.db import db_session
    from lms.learning.models import Enrollment

    facilitator = make_user("facilitator", display_name="Fran F")
    learner = make_user(display_name="Lee Learner", locale="es")
    cohort_id, enrollment_id = completed_enrollment(app, facilitator, learner)
    from zoneinfo import ZoneInfo

    from lms.cohorts.models import Cohort

    with app.app_context():
        session_day = (
            db_session.get(Cohort, cohort_id)
            .starts_at.astimezone(ZoneInfo("America/New_York"))
            .date()
        )
    sent = []
    with certificate_issued.connected_to(
        lambda sender, **kw: sent.append(kw["certificate"].code), app
    ):
        with app.test_request_context():
            actor = db_session.get(User, facilitator.id)
            first = services.issue_certificate(db_session.get(Enrollment, enrollment_id), actor)
            second = services.issue_certificate(db_session.get(Enrollment, enrollment_id), actor)
            db_session.commit()
            certificate = first.certificate
            assert first.created and not second.created and second.certificate.id == certificate.id
            assert (
                certificate.learner_name,
                certificate.facilitator_name,
                certificate.hours,
                certificate.locale,
            ) == ("Lee Learner", "Fran F", 1.0, "es")
            assert certificate.course_title.startswith("Un diálogo")
            assert certificate.organisation == app.config["LMS_ORGANISATION"]
            assert (
                certificate.session_date == session_day
            )  # the day in New York, where it took place
    assert sent == [certificate.code]


def test_a_lost_race_at_the_unique_index_returns_the_existing_certificate(
    app, make_user, monkeypatch
):
    """The SAVEPOINT path: the lookup saw nothing, the insert hits the partial unique index."""
    from lms.accounts.models import User
    from lms.certificates import services
    from lms.certificates.models import Certificate
    from lms.db import db_session, make_engine, utcnow
    from lms.learning.models import Enrollment

    facilitator = make_user("facilitator")
    cohort_id, enrollment_id = completed_enrollment(app, facilitator, make_user())
    # Another "request" commits a certificate on its own connection.
    engine = make_engine(app.config["LMS_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(
            Certificate.__table__.insert().values(
                code="AAAA-BBBB-CCCC-DDDD",
                enrollment_id=enrollment_id,
                learner_name="x",
                course_title="x",
                hours=1.0,
                session_date=utcnow().date(),
                facilitator_name="x",
                organisation="x",
                locale="en",
                issued_at=utcnow(),
                revoked_reason="",
            )
        )
    engine.dispose()
    real = services.valid_certificate
    calls = {"n": 0}

    def stale_first(enrollment, *, fresh=False):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(enrollment, fresh=fresh)

    monkeypatch.setattr(services, "valid_certificate", stale_first)
    with app.test_request_context():
        result = services.issue_certificate(
            db_session.get(Enrollment, enrollment_id), db_session.get(User, facilitator.id)
        )
        assert not result.created and result.certificate.code == "AAAA-BBBB-CCCC-DDDD"
        db_session.commit()
    assert _valid_count(app, enrollment_id) == 1


def test_issue_one_from_the_roster_twice_at_once(app, make_user):
    import threading

    facilitator = make_user("facilitator")
    cohort_id, enrollment_id = completed_enrollment(app, facilitator, make_user())
    clients = [client_for(app, facilitator) for _ in range(2)]
    barrier = threading.Barrier(2)
    codes = []

    def go(client):
        barrier.wait()
        codes.append(
            client.post(
                f"/facilitate/cohorts/{cohort_id}/certificates/issue",
                data={"enrollment_id": enrollment_id},
            ).status_code
        )

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [303, 303] and _valid_count(app, enrollment_id) == 1


def test_not_completed_is_not_eligible(app, make_user, login_as):
    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = schedule(app, facilitator)
    register(app, learner, cohort_id)

    enrollment = enrollment_of(app, learner, cohort_id)
    response = login_as(facilitator).post(
        f"/facilitate/cohorts/{cohort_id}/certificates/issue",
        data={"enrollment_id": enrollment.id},
        follow_redirects=True,
    )
    assert "has not completed" in response.get_data(as_text=True)
    assert _valid_count(app, enrollment.id) == 0


@pytest.mark.parametrize("path", ["recording", "self_paced"])
def test_recordings_and_self_paced_are_refused_everywhere(app, make_user, login_as, runner, path):
    from lms.accounts.models import User
    from lms.certificates import services
    from lms.certificates.eligibility import RecordingNotCertifiedError
    from lms.certificates.models import Certificate
    from lms.db import db_session, utcnow
    from lms.learning.models import Enrollment

    slug = "esp-racial-justice-dialogue" if path == "recording" else "community-partnerships"
    facilitator = make_user("facilitator")
    admin = make_user("admin")
    learner = make_user()
    cohort_id = schedule(app, facilitator)
    enrollment_id = _self_directed_enrollment(app, learner, path, slug)
    message = "only for attending a live session"
    # The service.
    with app.test_request_context():
        with pytest.raises(RecordingNotCertifiedError, match=message):
            services.issue_certificate(
                db_session.get(Enrollment, enrollment_id), db_session.get(User, admin.id)
            )
    # The roster's button, aimed at the recording enrollment: not of this cohort, so not found.
    client = login_as(facilitator)
    response = client.post(
        f"/facilitate/cohorts/{cohort_id}/certificates/issue", data={"enrollment_id": enrollment_id}
    )
    assert response.status_code == 404 and message not in response.get_data(as_text=True)
    # The command line.
    result = runner.invoke(
        args=["lms", "certificates", "issue", "--enrollment", str(enrollment_id)]
    )
    assert result.exit_code != 0 and message in result.output
    # Reissue of a certificate that should never exist (made behind the engine's back).
    with app.app_context():
        rogue = Certificate(
            code="ZZZZ-ZZZZ-ZZZZ-ZZZZ",
            enrollment_id=enrollment_id,
            learner_name="x",
            course_title="x",
            hours=1,
            session_date=utcnow().date(),
            facilitator_name="x",
            organisation="x",
            locale="en",
            revoked_reason="",
        )
        db_session.add(rogue)
        db_session.commit()
    response = login_as(admin).post(
        "/certificates/ZZZZ-ZZZZ-ZZZZ-ZZZZ/reissue", follow_redirects=True
    )
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_cli_issues_for_a_cohort(app, make_user, runner):
    facilitator = make_user("facilitator")
    cohort_id, enrollment_id = completed_enrollment(app, facilitator, make_user())
    register(app, make_user(), cohort_id)  # registered, not completed
    result = runner.invoke(
        args=["lms", "certificates", "issue", "--cohort", str(cohort_id), "--by", facilitator.email]
    )
    assert result.exit_code == 0, result.output
    assert "1 issued, 0 already issued, 1 not eligible" in result.output
    again = runner.invoke(args=["lms", "certificates", "issue", "--cohort", str(cohort_id)])
    assert "0 issued, 1 already issued" in again.output
    assert _valid_count(app, enrollment_id) == 1
    assert runner.invoke(args=["lms", "certificates", "issue"]).exit_code != 0


def test_revoke_needs_a_reason_and_an_admin_and_zip_has_valid_ones(app, make_user, login_as):
    from lms.certificates.models import Certificate
    from lms.certificates.signals import certificate_revoked
    from lms.db import db_session

    facilitator = make_user("facilitator")
    admin = make_user("admin")
    a, b = make_user(display_name="Zoë Ångström"), make_user()
    cohort_id, ea = completed_enrollment(app, facilitator, a)
    _, eb = completed_enrollment(app, facilitator, b, cohort_id)
    client = login_as(facilitator)
    client.post(f"/facilitate/cohorts/{cohort_id}/certificates")
    wait_for_jobs(app)  # the cohort's certificates are issued by a job after the request
    with app.app_context():
        code_a = db_session.scalar(select(Certificate.code).where(Certificate.enrollment_id == ea))
        code_b = db_session.scalar(select(Certificate.code).where(Certificate.enrollment_id == eb))
    assert client.post(f"/certificates/{code_a}/revoke", data={"reason": "no"}).status_code == 403
    client = login_as(admin)
    assert client.post(f"/certificates/{code_a}/revoke", data={"reason": " "}).status_code == 422
    revoked = []
    with certificate_revoked.connected_to(lambda sender, **kw: revoked.append(kw["reason"]), app):
        assert (
            client.post(
                f"/certificates/{code_a}/revoke", data={"reason": "Duplicate account"}
            ).status_code
            == 303
        )
    assert revoked == ["Duplicate account"]
    response = download_cohort_zip(app, login_as(facilitator), cohort_id)
    names = zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()
    assert len(names) == 1 and code_b in names[0] and names[0].endswith(".pdf")
    # The owner of a revoked certificate no longer gets its PDF; the admin still does.
    assert login_as(a).get(f"/certificates/{code_a}.pdf").status_code == 404
    assert login_as(admin).get(f"/certificates/{code_a}.pdf").status_code == 200


def test_verify_unknown_lowercase_and_rate_limit(app, make_user):
    from lms.certificates.models import Certificate
    from lms.db import db_session

    facilitator = make_user("facilitator")
    cohort_id, enrollment_id = completed_enrollment(app, facilitator, make_user())
    client_for(app, facilitator).post(f"/facilitate/cohorts/{cohort_id}/certificates")
    wait_for_jobs(app)
    with app.app_context():
        code = db_session.scalar(select(Certificate.code))
    client = app.test_client()
    response = client.get("/verify/AAAA-BBBB-CCCC-DDDD")
    assert response.status_code == 404 and "Certificate not found" in response.get_data(
        as_text=True
    )
    assert client.get("/verify/not-a-code").status_code == 404
    response = client.get(f"/verify/{code.lower().replace('-', '')}")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/verify/{code}")
    assert client.get(f"/verify?code={code.lower()}").status_code == 303
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "This certificate is valid." in page and "@example.org" not in page


def test_verification_is_rate_limited(app_config, tmp_path):
    import os

    from lms import create_app

    os.environ["LMS_INSTANCE_PATH"] = str(tmp_path / "instance-limited")
    try:
        limited = create_app(
            {**app_config, "RATELIMIT_ENABLED": True, "LMS_VERIFY_RATE_LIMIT": "3 per minute"}
        )
    finally:
        os.environ.pop("LMS_INSTANCE_PATH", None)
    client = limited.test_client()
    codes = [client.get("/verify/AAAA-BBBB-CCCC-DDDD").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    limited.extensions["lms"].database.engine.dispose()


def test_the_issue_button_tells_nothing_about_enrollments_outside_the_cohort(
    app, make_user, login_as
):
    """A facilitator aiming their own cohort's "issue" button at any other id learns nothing:
    someone's recording, another cohort's completed enrollment and an id that does not exist
    all answer the same 404."""
    facilitator, other_facilitator = make_user("facilitator"), make_user("facilitator")
    own_cohort = schedule(app, facilitator)
    _other_cohort, others_enrollment = completed_enrollment(app, other_facilitator, make_user())
    recording = _self_directed_enrollment(app, make_user(), "recording")
    client = login_as(facilitator)
    url = f"/facilitate/cohorts/{own_cohort}/certificates/issue"
    answers = []
    for enrollment_id in (recording, others_enrollment, 10**6):
        response = client.post(url, data={"enrollment_id": enrollment_id})
        answers.append((response.status_code, response.get_data(as_text=True)))
    assert answers[0][0] == 404
    assert answers[0] == answers[1] == answers[2]
    assert _valid_count(app, others_enrollment) == 0
