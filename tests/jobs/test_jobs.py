"""Jobs in process (no Redis): after commit only, retried with back-off, failures visible to
admins and retried by them, progress, the sweep, and mail sent from jobs."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from lms.jobs import Job, JobStatus, enqueue, wait_for_jobs
from tests.helpers.jobs import count_to, fail_until, rename_user


def _job(app, job_id):
    """Job ``job_id`` as its row is now (plain values, read in an app context of its own)."""
    from types import SimpleNamespace

    from lms.db import db_session

    with app.app_context():
        row = db_session.get(Job, job_id)
        return (
            None
            if row is None
            else SimpleNamespace(
                **{column.key: getattr(row, column.key) for column in Job.__table__.columns}
            )
        )


def _name(app, user_id):
    from lms.accounts.models import User
    from lms.db import db_session

    with app.app_context():
        return db_session.get(User, user_id).display_name


def test_a_job_runs_after_its_transaction_commits_and_never_before(app, make_user):
    from lms.db import db_session

    user = make_user(display_name="Before")
    with app.app_context():
        row = enqueue(rename_user, user.id, "After")
        db_session.flush()
        wait_for_jobs(app)  # nothing was handed over yet: the transaction is open
        assert _job(app, row.id) is None  # not even visible outside the transaction
        assert _name(app, user.id) == "Before"
        db_session.commit()
    wait_for_jobs(app)
    done = _job(app, row.id)
    assert done.status is JobStatus.done and done.attempts == 1 and done.result == {"renamed": True}
    assert _name(app, user.id) == "After"


def test_a_rolled_back_transaction_leaves_no_job(app, make_user):
    from lms.db import db_session

    user = make_user(display_name="Kept")
    with app.app_context():
        enqueue(rename_user, user.id, "Lost")
        with db_session.begin_nested():  # a savepoint released does not hand the job over
            pass
        db_session.rollback()
    wait_for_jobs(app)
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Job)) == 0
    assert _name(app, user.id) == "Kept"


def test_job_arguments_are_ids_and_only_marked_functions_run(app, make_user):
    user = make_user()
    with app.app_context():
        with pytest.raises(TypeError, match="JSON"):
            enqueue(rename_user, user, "x")  # an ORM object, not its id
        with pytest.raises(TypeError):
            enqueue(len, 1)
        with pytest.raises(LookupError):
            enqueue("os:system", "true")  # a name that is not a job function


def test_a_failing_job_is_retried_with_back_off_until_it_succeeds(app, make_user):
    from lms.db import db_session
    from lms.jobs.runner import retry_delay

    app.config["LMS_JOB_RETRY_DELAYS"] = [0.05, 0.1]
    assert [retry_delay(app, n) for n in (1, 2, 3, 4)] == [0.05, 0.1, 0.1, 0.1]
    user = make_user()
    with app.app_context():
        row = enqueue(fail_until, user.id, 3)
        db_session.commit()
    wait_for_jobs(app)
    done = _job(app, row.id)
    assert done.status is JobStatus.done and done.attempts == 3 and done.result == 3
    assert done.last_error == ""


def test_a_job_that_fails_every_time_is_shown_to_admins_who_can_retry_it(
    app, make_user, login_as, runner
):
    from lms.db import db_session

    user = make_user()
    with app.app_context():
        row = enqueue(fail_until, user.id, 99)
        db_session.commit()
    wait_for_jobs(app)
    failed = _job(app, row.id)
    assert failed.status is JobStatus.failed and failed.attempts == failed.max_attempts == 3
    assert "attempt 3 fails on purpose" in failed.last_error

    listed = runner.invoke(args=["lms", "jobs", "list", "--status", "failed"])
    assert (
        listed.exit_code == 0
        and f"{row.id}" in listed.output
        and "fail_until" in listed.output
        and "fails on purpose" in listed.output
    )

    admin = login_as(make_user("admin"))
    page = admin.get("/admin/jobs?status=failed").get_data(as_text=True)
    assert "tests.helpers.jobs:fail_until" in page and "attempt 3 fails on purpose" in page
    assert f'action="/admin/jobs/{row.id}/retry"' in page
    response = admin.post(f"/admin/jobs/{row.id}/retry")
    assert response.status_code == 303
    wait_for_jobs(app)
    again = _job(app, row.id)
    assert (
        again.status is JobStatus.failed and again.attempts == 3
    )  # three fresh attempts, failed again
    assert admin.post("/admin/jobs/999999/retry").status_code == 404

    # The CLI retries too; a job that has not failed is left alone.
    with app.app_context():
        ok = enqueue(rename_user, user.id, "Fine")
        db_session.commit()
    wait_for_jobs(app)
    result = runner.invoke(args=["lms", "jobs", "retry", str(row.id), str(ok.id)])
    assert (
        result.exit_code == 0
        and "1 job(s) queued again" in result.output
        and f"job {ok.id}: not failed" in result.output
    )
    wait_for_jobs(app)
    assert _job(app, row.id).attempts == 3 and _job(app, ok.id).status is JobStatus.done
    with app.app_context():
        from lms.audit.models import AuditEvent

        assert (
            db_session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "job.retried")
            )
            == 1
        )


def test_a_long_job_reports_its_progress(app):
    from lms.db import db_session

    with app.app_context():
        row = enqueue(count_to, 7)
        db_session.commit()
    wait_for_jobs(app)
    done = _job(app, row.id)
    assert (done.progress_done, done.progress_total, done.result) == (7, 7, 7)


def test_the_sweep_runs_jobs_a_stopped_process_left_behind(app, make_user, runner):
    """A job committed by a process that died before handing it over, and one whose worker
    stopped in the middle of it, both run when the sweep looks."""
    from lms.db import db_session, utcnow

    user = make_user(display_name="Old")
    long_ago = utcnow() - timedelta(hours=3)
    with app.app_context():
        waiting = Job(
            name=rename_user.lms_job.name,
            args=[user.id, "Swept"],
            kwargs={},
            status=JobStatus.queued,
            attempts=0,
            max_attempts=3,
            created_at=long_ago,
            last_error="",
            progress_done=0,
        )
        stuck = Job(
            name=count_to.lms_job.name,
            args=[2],
            kwargs={},
            status=JobStatus.running,
            attempts=1,
            max_attempts=3,
            created_at=long_ago,
            started_at=long_ago,
            last_error="",
            progress_done=0,
        )
        fresh = Job(
            name=count_to.lms_job.name,
            args=[1],
            kwargs={},
            status=JobStatus.queued,
            attempts=0,
            max_attempts=3,
            last_error="",
            progress_done=0,
        )
        db_session.add_all([waiting, stuck, fresh])
        db_session.commit()  # added as rows, not through enqueue: nothing handed over
    wait_for_jobs(app)
    assert _job(app, waiting.id).status is JobStatus.queued
    result = runner.invoke(args=["lms", "jobs", "dispatch"])
    assert result.exit_code == 0 and "2 job(s) handed over" in result.output
    wait_for_jobs(app)
    assert _job(app, waiting.id).status is JobStatus.done and _name(app, user.id) == "Swept"
    resumed = _job(app, stuck.id)
    assert resumed.status is JobStatus.done and resumed.attempts == 2
    assert _job(app, fresh.id).status is JobStatus.queued  # too new to be called lost


# -- mail ---------------------------------------------------------------------------------------


def test_send_message_carries_text_html_and_an_ics_attachment(app):
    from lms.mail import Attachment, outbox, send_message

    app.config["LMS_MAIL_BACKEND"] = "memory"
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    with app.app_context():
        send_message(
            "ana@example.org",
            "Your session",
            "Plain words",
            html="<p>Rich words</p>",
            attachments=[Attachment("session.ics", ics, "text/calendar; method=REQUEST")],
        )
    [message] = outbox(app)
    assert message["To"] == "ana@example.org" and message["Subject"] == "Your session"
    assert message.get_body(("plain",)).get_content().strip() == "Plain words"
    assert message.get_body(("html",)).get_content().strip() == "<p>Rich words</p>"
    [attachment] = list(message.iter_attachments())
    assert (
        attachment.get_filename() == "session.ics"
        and attachment.get_content_type() == "text/calendar"
    )
    assert (
        attachment.get_param("method") == "REQUEST" and attachment.get_payload(decode=True) == ics
    )
    with app.test_request_context(), pytest.raises(RuntimeError, match="job"):
        send_message("ana@example.org", "Not from a request", "x")


def test_a_mail_the_relay_refuses_fails_its_job_which_is_retried(
    app, make_user, monkeypatch, client
):
    calls = []

    class RefusingSMTP:
        def __init__(self, host, port, timeout):
            calls.append(host)
            raise smtplib.SMTPConnectError(421, "try later")

    import lms.mail

    monkeypatch.setattr(lms.mail.smtplib, "SMTP", RefusingSMTP)
    app.config.update(LMS_MAIL_BACKEND="smtp", LMS_SMTP_HOST="relay.example.org")
    make_user(email="forgetful@example.org")
    response = client.post("/auth/reset", data={"email": "forgetful@example.org"})
    assert response.status_code == 303  # the page answers at once, whatever the relay does
    wait_for_jobs(app)
    from lms.db import db_session

    with app.app_context():
        row = _job(
            app,
            db_session.scalar(
                select(Job.id).where(Job.name == "lms.accounts.jobs:mail_password_reset")
            ),
        )
    assert row.status is JobStatus.failed and row.attempts == row.max_attempts == len(calls)
    assert "MailError" in row.last_error and "try later" in row.last_error
