"""Side effects after commit: jobs.

Anything that talks to the outside world (mail, files that take long to build, signing) or that
takes long (bulk certificates, the cohort ZIP, large exports) runs as a **job**, after the
transaction that asked for it has committed, never inside it.

Writing a job
-------------
A job is a module-level function decorated with :func:`job`::

    from lms.jobs import job

    @job(max_attempts=5)
    def send_cohort_mail(message_id: int, *, resend: bool = False) -> dict | None:
        message = db_session.get(CohortMessage, message_id)
        if message is None:           # deleted since: nothing to do
            return None
        ...
        return {"sent": 12}           # optional: stored on the job row (JSON)

The rules:

- **It takes ids, not ORM objects**: every argument is a JSON value (ints, strings, bools,
  lists, dicts of them). Objects are read again inside the job, since the world may have
  changed between the request and the run.
- **It is idempotent**: a job runs at least once. It is retried with back-off when it raises
  (``LMS_JOB_RETRY_DELAYS``, at most ``max_attempts`` runs), and a failed job can be retried by
  an admin. Check what is already done before doing it (a certificate already issued, a
  recipient already mailed: keep a row that says so).
- **It runs inside an app context, with its own transaction**: use ``lms.db.db_session`` as a
  service does and only flush; the runner commits when the function returns (together with
  marking the job done) and rolls back when it raises. There is no request: no
  ``request``, no ``current_user``, no session cookie. Build links with
  :func:`lms.links.external_url` (from ``LMS_BASE_URL``), and choose the language with
  ``flask_babel.force_locale(user.locale)``.
- **No lock across I/O**: send mail or call out before writing rows, or write, let the job
  finish, and send from a second job. A long job commits its own progress with
  :func:`report_progress`, which needs no lock either. A long job whose steps are each
  idempotent may ``db_session.commit()`` between batches, so it never holds many row locks
  for long (``lms.certificates.jobs.issue_cohort_certificates`` commits every 50).
- ``enqueue(..., _key="cohort:12")`` files a job under what it is about, so a page can find
  the latest one again (``lms.jobs.services.latest_job``); ``_key`` is not passed on.
- Raise to fail (``lms.mail.MailError`` does when a message could not go out): the attempt is
  recorded with its error and retried; the last failure shows on ``/admin/jobs`` and in
  ``flask lms jobs list --status failed``.

Asking for a job
----------------
Inside a request, a CLI command's ``transaction()`` or another job::

    from lms.jobs import enqueue

    job_row = enqueue(send_cohort_mail, message.id, resend=True)
    # or by name, "module:function": enqueue("lms.notifications.jobs:send_delivery", row.id)

:func:`enqueue` adds a row to ``lms_job`` in the current transaction (flushed, so ``job_row.id``
is there for a progress page) and returns it. Nothing runs until that transaction commits; if it
rolls back, the job never existed. After the commit the job is handed over:

- with ``LMS_REDIS_URL`` set, to RQ (through Flask-RQ) on Redis; a separate worker process
  (``flask lms worker``) runs it;
- without it (``make run``, tests), to a small thread pool in this process, so the response does
  not wait for it.

Because the row is committed with the request, a job is not lost if the process dies between
the commit and the hand-over: ``flask lms worker`` looks for jobs left waiting every
``LMS_JOB_SWEEP_SECONDS`` (and ``flask lms jobs dispatch`` does it once).

Sending mail from a job
-----------------------
:func:`lms.mail.send_message` sends one message, with a plain-text body, an optional HTML
alternative and attachments::

    from lms.mail import Attachment, send_message

    send_message(
        user.email, subject, text_body,
        html=html_body,
        attachments=[Attachment("session.ics", ics_bytes, "text/calendar; method=REQUEST")],
    )

It refuses to run inside a request (mail goes through a job) and raises ``MailError`` when the
relay does not take the message, so the job is retried.

Tests
-----
Without Redis, :func:`wait_for_jobs` waits until this app's in-process jobs (and their retries)
have finished; the test ``app`` fixture calls it before it tears the app down.
"""

from __future__ import annotations

from lms.jobs.models import Job, JobStatus
from lms.jobs.runner import current_job_id, enqueue, job, report_progress, wait_for_jobs

__all__ = [
    "Job",
    "JobStatus",
    "current_job_id",
    "enqueue",
    "job",
    "report_progress",
    "wait_for_jobs",
]
