"""The route table of tests/test_authorization.py (one row per endpoint, the answer each kind
of visitor gets) and the world its rows are tried against; tests/test_form_properties.py
posts to the same routes as the same people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from lms.db import utcnow

PERSONAS = ("anonymous", "learner", "other_learner", "other_facilitator", "facilitator", "admin")


@dataclass(frozen=True)
class Route:
    method: str
    url: str  # formatted with the world's ids: {cohort}, {enrollment}, {code}, ...
    expect: str  # six answers, one per persona, in PERSONAS order

    def expected(self, persona: str) -> str:
        return self.expect.split()[PERSONAS.index(persona)]


PUBLIC = "ok ok ok ok ok ok"
SIGNED_IN = "login ok ok ok ok ok"
ADMIN_ONLY = "login 403 403 403 403 ok"

LIVE_STAFF = "login 403 403 ok ok ok"  # any facilitator (their own cohorts) and admins
COHORT_STAFF = "login 403 403 404 ok ok"  # only this cohort's facilitators and admins
OWNER = "login ok 404 404 404 404"  # a learner's own records: nobody else, admins included

# Keys are endpoints, with ":POST" for the POST side of a route that also answers GET.
# Actions that change the world come last, so every row before them sees it as built.
ROUTES: dict[str, Route] = {
    "lms.static": Route("GET", "/static/lms-assets/lms/app.css", PUBLIC),
    "lms_courses.catalog": Route("GET", "/", PUBLIC),
    "lms_courses.course": Route("GET", "/courses/{course}", PUBLIC),
    "lms_courses.switch_language": Route("POST", "/language", PUBLIC),
    "lms_learning.course_media": Route("GET", "/courses/{course}/media/captions.en.vtt", PUBLIC),
    "lms_accounts.login": Route("GET", "/auth/login", PUBLIC),
    "lms_accounts.login:POST": Route("POST", "/auth/login", PUBLIC),
    "lms_accounts.register": Route("GET", "/auth/register", PUBLIC),
    "lms_accounts.register:POST": Route("POST", "/auth/register", PUBLIC),
    "lms_accounts.reset_request": Route("GET", "/auth/reset", PUBLIC),
    "lms_accounts.reset_request:POST": Route("POST", "/auth/reset", PUBLIC),
    "lms_accounts.reset_password": Route(
        "GET", "/auth/reset/not-a-valid-token", "400 400 400 400 400 400"
    ),
    "lms_accounts.reset_password:POST": Route(
        "POST", "/auth/reset/not-a-valid-token", "400 400 400 400 400 400"
    ),
    "lms_accounts.confirm_email": Route(
        "GET", "/auth/confirm/not-a-valid-token", "400 400 400 400 400 400"
    ),
    "lms_accounts.resend_confirmation": Route("POST", "/auth/confirm", SIGNED_IN),
    "lms_accounts.profile": Route("GET", "/auth/profile", SIGNED_IN),
    "lms_accounts.profile:POST": Route("POST", "/auth/profile", SIGNED_IN),
    "lms_certificates.verify_form": Route("GET", "/verify", PUBLIC),
    "lms_certificates.verify": Route("GET", "/verify/{code}", PUBLIC),
    "lms_cohorts.cohort": Route("GET", "/cohorts/{cohort}", PUBLIC),
    "lms_records.verify_transcript": Route("GET", "/verify/transcripts/{transcript}", PUBLIC),
    "lms_cohorts.cohort_ics": Route("GET", "/cohorts/{cohort}.ics", PUBLIC),
    # One-click unsubscribe: the signed token is the only authority (a forged one gets 400).
    "lms_notifications.unsubscribe": Route(
        "GET", "/mail/unsubscribe/not-a-valid-token", "400 400 400 400 400 400"
    ),
    "lms_notifications.unsubscribe_one_click": Route(
        "POST", "/mail/unsubscribe/not-a-valid-token", "400 400 400 400 400 400"
    ),
    # The learner's own pages.
    "lms_learning.dashboard": Route("GET", "/me", SIGNED_IN),
    "lms_learning.export_data": Route("GET", "/me/export.json", SIGNED_IN),
    "lms_learning.delete_account": Route("GET", "/me/delete", SIGNED_IN),
    "lms_notifications.settings": Route("GET", "/me/mail", SIGNED_IN),
    "lms_records.transcript": Route("GET", "/me/transcript", SIGNED_IN),
    "lms_records.transcript_csv": Route("GET", "/me/transcript.csv", SIGNED_IN),
    "lms_records.transcript_pdf": Route("GET", "/me/transcript.pdf", SIGNED_IN),
    "lms_learning.start": Route("POST", "/courses/{course}/start", SIGNED_IN),
    "lms_learning.enrollment": Route("GET", "/learn/{recording_enrollment}", OWNER),
    "lms_learning.step": Route("GET", "/learn/{recording_enrollment}/recording", OWNER),
    "lms_learning.progress": Route(
        "POST", "/learn/{recording_enrollment}/recording/progress", OWNER
    ),
    "lms_learning.reflection": Route(
        "POST", "/learn/{recording_enrollment}/outcome-1/reflection", OWNER
    ),
    "lms_learning.reflection_draft": Route(
        "POST", "/learn/{recording_enrollment}/outcome-1/reflection/draft", OWNER
    ),
    "lms_records.evaluation": Route("GET", "/learn/{live_enrollment}/evaluation", OWNER),
    "lms_records.evaluation:POST": Route("POST", "/learn/{live_enrollment}/evaluation", OWNER),
    "lms_certificates.certificate_pdf": Route(
        "GET", "/certificates/{code}.pdf", "login ok 404 404 ok ok"
    ),
    "lms_credentials.credential_page": Route(
        "GET", "/certificates/{code}/credential", "login ok 404 404 ok ok"
    ),
    "lms_credentials.credential_json": Route(
        "GET", "/certificates/{code}/credential.json", "login ok 404 404 ok ok"
    ),
    # The issuer's public documents and the credential checker.
    "lms_credentials.did_document": Route("GET", "/credentials/issuer/did.json", PUBLIC),
    "lms_credentials.issuer": Route("GET", "/credentials/issuer.json", PUBLIC),
    "lms_credentials.context": Route("GET", "/credentials/contexts/credentials-v2.jsonld", PUBLIC),
    "lms_credentials.status_list": Route("GET", "/credentials/status/1", PUBLIC),
    "lms_credentials.shared_credential": Route(
        "GET", "/credentials/shared/not-a-valid-token.json", "404 404 404 404 404 404"
    ),
    "lms_credentials.check": Route("GET", "/credentials/verify", PUBLIC),
    "lms_credentials.check:POST": Route("POST", "/credentials/verify", PUBLIC),
    # Facilitating.
    "lms_cohorts.facilitate": Route("GET", "/facilitate/", LIVE_STAFF),
    "lms_cohorts.new_cohort": Route("GET", "/facilitate/cohorts/new", LIVE_STAFF),
    "lms_cohorts.new_cohort:POST": Route("POST", "/facilitate/cohorts/new", LIVE_STAFF),
    "lms_cohorts.roster": Route("GET", "/facilitate/cohorts/{cohort}", COHORT_STAFF),
    "lms_cohorts.edit_cohort": Route("GET", "/facilitate/cohorts/{cohort}/edit", COHORT_STAFF),
    "lms_cohorts.edit_cohort:POST": Route(
        "POST", "/facilitate/cohorts/{cohort}/edit", COHORT_STAFF
    ),
    "lms_cohorts.import_attendance": Route(
        "GET", "/facilitate/cohorts/{cohort}/attendance/import", COHORT_STAFF
    ),
    "lms_cohorts.import_attendance:POST": Route(
        "POST", "/facilitate/cohorts/{cohort}/attendance/import", COHORT_STAFF
    ),
    "lms_cohorts.apply_import": Route(
        "POST", "/facilitate/cohorts/{cohort}/attendance/import/apply", COHORT_STAFF
    ),
    "lms_cohorts.learner_reflections": Route(
        "GET", "/facilitate/cohorts/{cohort}/learners/{live_enrollment}/reflections", COHORT_STAFF
    ),
    "lms_certificates.cohort_zip": Route(
        "GET", "/facilitate/cohorts/{cohort}/certificates/zip", COHORT_STAFF
    ),
    "lms_certificates.cohort_job": Route(
        "GET", "/facilitate/cohorts/{cohort}/certificates/jobs/{zip_job}", COHORT_STAFF
    ),
    "lms_certificates.zip_file": Route(
        "GET", "/facilitate/cohorts/{cohort}/certificates/jobs/{zip_job}.zip", COHORT_STAFF
    ),
    "lms_notifications.cohort_mail": Route(
        "GET", "/facilitate/cohorts/{cohort}/mail", COHORT_STAFF
    ),
    "lms_records.facilitator_credits_csv": Route(
        "GET", "/facilitate/reports/credits.csv", LIVE_STAFF
    ),
    "lms_records.facilitator_credits_xlsx": Route(
        "GET", "/facilitate/reports/credits.xlsx", LIVE_STAFF
    ),
    "lms_records.cohort_evaluation": Route(
        "GET", "/facilitate/cohorts/{cohort}/evaluation", COHORT_STAFF
    ),
    "lms_reports.facilitator_completions": Route(
        "GET", "/facilitate/reports/completions", LIVE_STAFF
    ),
    "lms_reports.facilitator_completions_csv": Route(
        "GET", "/facilitate/reports/completions.csv", LIVE_STAFF
    ),
    "lms_reports.facilitator_completions_xlsx": Route(
        "GET", "/facilitate/reports/completions.xlsx", LIVE_STAFF
    ),
    # Administration.
    "lms_admin.index": Route("GET", "/admin/", ADMIN_ONLY),
    "lms_admin.people": Route("GET", "/admin/people", ADMIN_ONLY),
    "lms_admin.courses": Route("GET", "/admin/courses", ADMIN_ONLY),
    "lms_admin.audit": Route("GET", "/admin/audit", ADMIN_ONLY),
    "lms_admin.jobs": Route("GET", "/admin/jobs", ADMIN_ONLY),
    "lms_notifications.admin_deliveries": Route("GET", "/admin/mail", ADMIN_ONLY),
    "lms_reports.admin_completions": Route("GET", "/admin/reports/completions", ADMIN_ONLY),
    "lms_reports.admin_completions_csv": Route("GET", "/admin/reports/completions.csv", ADMIN_ONLY),
    "lms_reports.admin_completions_xlsx": Route(
        "GET", "/admin/reports/completions.xlsx", ADMIN_ONLY
    ),
    "lms_records.admin_credits_csv": Route("GET", "/admin/reports/credits.csv", ADMIN_ONLY),
    "lms_records.admin_credits_xlsx": Route("GET", "/admin/reports/credits.xlsx", ADMIN_ONLY),
    "lms_records.admin_evaluations": Route("GET", "/admin/evaluations", ADMIN_ONLY),
    "lms_certificates.manage": Route("GET", "/certificates/{code}/manage", ADMIN_ONLY),
    # Changes to the world.
    "lms_admin.sync_courses": Route("POST", "/admin/courses/sync", ADMIN_ONLY),
    "lms_cohorts.save_attendance": Route(
        "POST", "/facilitate/cohorts/{cohort}/attendance", COHORT_STAFF
    ),
    "lms_notifications.settings:POST": Route("POST", "/me/mail", SIGNED_IN),
    "lms_notifications.cohort_reminders": Route(
        "POST", "/facilitate/cohorts/{cohort}/mail/reminders", COHORT_STAFF
    ),
    "lms_notifications.cohort_message": Route(
        "POST", "/facilitate/cohorts/{cohort}/mail/message", COHORT_STAFF
    ),
    "lms_notifications.retry_delivery": Route("POST", "/admin/mail/{delivery}/retry", ADMIN_ONLY),
    "lms_certificates.issue_one": Route(
        "POST", "/facilitate/cohorts/{cohort}/certificates/issue", COHORT_STAFF
    ),
    "lms_certificates.issue_cohort": Route(
        "POST", "/facilitate/cohorts/{cohort}/certificates", COHORT_STAFF
    ),
    "lms_certificates.build_zip": Route(
        "POST", "/facilitate/cohorts/{cohort}/certificates/zip", COHORT_STAFF
    ),
    "lms_admin.retry_job": Route("POST", "/admin/jobs/{failed_job}/retry", ADMIN_ONLY),
    "lms_cohorts.register": Route("POST", "/cohorts/{other_cohort}/register", SIGNED_IN),
    "lms_cohorts.withdraw": Route("POST", "/cohorts/{cohort}/withdraw", SIGNED_IN),
    "lms_admin.change_role": Route("POST", "/admin/people/{other_learner}/roles", ADMIN_ONLY),
    "lms_admin.change_active": Route("POST", "/admin/people/{other_learner}/active", ADMIN_ONLY),
    "lms_admin.confirm_email": Route(
        "POST", "/admin/people/{other_learner}/confirm-email", ADMIN_ONLY
    ),
    "lms_certificates.revoke": Route("POST", "/certificates/{code}/revoke", ADMIN_ONLY),
    "lms_certificates.reissue": Route("POST", "/certificates/{code}/reissue", ADMIN_ONLY),
    "lms_certificates.reissue_after_revocation": Route(
        "POST", "/certificates/{code}/reissue-after-revocation", ADMIN_ONLY
    ),
    "lms_cohorts.close_cohort": Route("POST", "/facilitate/cohorts/{cohort}/close", COHORT_STAFF),
    "lms_cohorts.cancel_cohort": Route("POST", "/facilitate/cohorts/{cohort}/cancel", COHORT_STAFF),
    "lms_learning.delete_account:POST": Route("POST", "/me/delete", SIGNED_IN),
    "lms_accounts.logout": Route("POST", "/auth/logout", SIGNED_IN),
    "lms_accounts.sign_out_everywhere": Route("POST", "/auth/sign-out-everywhere", SIGNED_IN),
}


@dataclass
class World:
    users: dict[str, Any]
    ids: dict[str, Any]


def build_world(app, make_user, db) -> World:
    """The ``world`` fixture (tests/conftest.py): two cohorts of the flagship course, each with
    its facilitator, and a learner's records."""
    from lms.certificates.models import Certificate
    from lms.cohorts.models import Attendance, AttendanceStatus, Cohort, CohortFacilitator
    from lms.courses.models import Course
    from lms.learning.models import (
        Enrollment,
        EnrollmentStatus,
        LearningPath,
        Reflection,
        ReflectionStatus,
    )

    users = {
        "learner": make_user("learner"),
        "other_learner": make_user("learner"),
        "other_facilitator": make_user("facilitator"),
        "facilitator": make_user("facilitator"),
        "admin": make_user("admin"),
    }
    course = db.scalar(select(Course).where(Course.slug == "esp-racial-justice-dialogue"))
    start = utcnow() + timedelta(days=7)
    cohort = Cohort(
        course_id=course.id,
        title="Cohort A",
        starts_at=start,
        time_zone="America/New_York",
        minutes=60,
        capacity=10,
    )
    other_cohort = Cohort(
        course_id=course.id,
        title="Cohort B",
        starts_at=start,
        time_zone="America/New_York",
        minutes=60,
        capacity=10,
    )
    db.add_all([cohort, other_cohort])
    db.flush()
    db.add_all(
        [
            CohortFacilitator(cohort_id=cohort.id, user_id=users["facilitator"].id),
            CohortFacilitator(cohort_id=other_cohort.id, user_id=users["other_facilitator"].id),
        ]
    )
    live = Enrollment(
        user_id=users["learner"].id,
        course_id=course.id,
        path=LearningPath.live,
        cohort_id=cohort.id,
        status=EnrollmentStatus.completed,
        completed_at=utcnow(),
    )
    recording = Enrollment(
        user_id=users["learner"].id,
        course_id=course.id,
        path=LearningPath.recording,
        status=EnrollmentStatus.in_progress,
    )
    db.add_all([live, recording])
    db.flush()
    db.add(Attendance(enrollment_id=live.id, status=AttendanceStatus.present, minutes=60))
    reflection = Reflection(
        enrollment_id=live.id,
        prompt_id="outcome-1",
        body="shared words " * 30,
        status=ReflectionStatus.submitted,
        shared_with_facilitator=True,
        word_count=60,
    )
    certificate = Certificate(
        code="ABCD-EFGH-JKMN-PQRS",
        enrollment_id=live.id,
        learner_name="Learner",
        course_title=course.title,
        hours=1.0,
        session_date=date.today(),
        facilitator_name="Facilitator",
        organisation="NEA",
        locale="en",
    )
    from lms.records.models import Transcript
    from lms.records.services import TranscriptContent

    content = TranscriptContent(
        learner_name="Learner", locale="en", period_start=None, period_end=None
    )
    transcript = Transcript(
        code="TRNS-CRPT-0000-0001",
        user_id=users["learner"].id,
        locale="en",
        content=content.to_json(),
        content_hash=content.content_hash,
    )
    db.add_all([reflection, certificate, transcript])
    from lms.notifications.models import DeliveryStatus, MailDelivery

    delivery = MailDelivery(
        kind="confirmed",
        user_id=users["learner"].id,
        to_address=users["learner"].email,
        cohort_id=cohort.id,
        enrollment_id=live.id,
        data={},
        status=DeliveryStatus.failed,
        attempts=1,
        last_error="550",
        subject="",
    )
    db.add(delivery)
    db.commit()
    from lms.credentials import services as credentials

    credentials.sign(credentials.ensure_credential(certificate))  # signed now: no job to wait for
    db.commit()
    from lms.certificates.jobs import build_cohort_zip
    from lms.jobs import Job, JobStatus, enqueue, wait_for_jobs

    zip_job = enqueue(build_cohort_zip, cohort.id, _key=f"cohort:{cohort.id}")
    failed_job = Job(
        name="lms.accounts.jobs:mail_password_reset",
        args=[None],
        kwargs={},
        status=JobStatus.failed,
        attempts=5,
        max_attempts=5,
        last_error="RuntimeError: the relay was away",
        progress_done=0,
    )
    db.add(failed_job)
    db.commit()
    wait_for_jobs(app)
    return World(
        users=users,
        ids={
            "zip_job": zip_job.id,
            "failed_job": failed_job.id,
            "cohort": cohort.id,
            "other_cohort": other_cohort.id,
            "enrollment": live.id,
            "live_enrollment": live.id,
            "recording_enrollment": recording.id,
            "reflection": reflection.id,
            "code": certificate.code,
            "learner": users["learner"].id,
            "other_learner": users["other_learner"].id,
            "certificate": certificate.id,
            "course": "esp-racial-justice-dialogue",
            "delivery": delivery.id,
            "transcript": transcript.code,
        },
    )
