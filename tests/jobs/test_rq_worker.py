"""With Redis configured, jobs asked for by requests are run by a separate worker process
(``flask lms worker``, RQ through Flask-RQ), the cohort ZIP included. Skipped without Redis.

Uses the Redis database of ``LMS_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/2) and a
queue of its own, emptied at the end.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.jobs import Job, JobStatus
from tests.helpers import COURSES_DIR, REPO
from tests.helpers.cohorts import client_for, completed_enrollment

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/2")
BASE = "https://courses.example.org"


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return connection


@pytest.fixture
def queue_name():
    return f"lms-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def app_config(app_config, queue_name, tmp_path):
    _redis_or_skip()
    return {
        **app_config,
        "LMS_REDIS_URL": REDIS_URL,
        "LMS_JOB_QUEUE": queue_name,
        "LMS_BASE_URL": BASE,
        "LMS_EXPORTS_DIR": str(tmp_path / "exports"),
    }


@pytest.fixture
def redis_queue(app, queue_name):
    connection = _redis_or_skip()
    yield
    from rq import Queue

    Queue(queue_name, connection=connection).empty()
    for key in connection.scan_iter(f"rq:*{queue_name}*"):
        connection.delete(key)


def run_worker(app, tmp_path) -> subprocess.CompletedProcess:
    """``flask lms worker --burst`` in a process of its own, on the same database and queue."""
    config = app.config
    env = {
        **{
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("LMS_", "FLASK_"))
        },
        "LMS_INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "SECRET_KEY": config["SECRET_KEY"],
        "LMS_DATABASE_URL": config["LMS_DATABASE_URL"],
        "LMS_COURSES_DIR": str(COURSES_DIR),
        "LMS_REDIS_URL": config["LMS_REDIS_URL"],
        "LMS_JOB_QUEUE": config["LMS_JOB_QUEUE"],
        "LMS_BASE_URL": config["LMS_BASE_URL"],
        "LMS_EXPORTS_DIR": config["LMS_EXPORTS_DIR"],
        "LMS_MAIL_BACKEND": "log",
    }
    flask = Path(sys.executable).parent / "flask"
    return subprocess.run(
        [str(flask), "--app", "lms", "lms", "worker", "--burst"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _statuses(app) -> dict[str, JobStatus]:
    from lms.db import db_session

    with app.app_context():
        # Cohort mail (lms.notifications: the registration's confirmation, the certificate's
        # notice) rides along in its own jobs; this test is about the others.
        return {
            row.name.rpartition(":")[2]: row.status
            for row in db_session.scalars(
                select(Job)
                .where(Job.name != "lms.notifications.jobs:send_delivery")
                .order_by(Job.id)
            )
        }


def test_jobs_asked_for_by_requests_run_in_a_separate_worker_process(
    app, client, make_user, redis_queue, tmp_path
):
    facilitator = make_user("facilitator")
    make_user(email="forgetful@example.org")
    cohort_id, enrollment_id = completed_enrollment(
        app, facilitator, make_user(display_name="Zoë Ångström")
    )

    # A reset request (its mail), sent with a forged Host, and the cohort's certificates.
    assert (
        client.post(
            "/auth/reset", data={"email": "forgetful@example.org"}, headers={"Host": "evil.example"}
        ).status_code
        == 303
    )
    staff = client_for(app, facilitator)
    issued = staff.post(f"/facilitate/cohorts/{cohort_id}/certificates")
    assert issued.status_code == 303
    assert _statuses(app) == {
        "mail_password_reset": JobStatus.queued,
        "issue_cohort_certificates": JobStatus.queued,
    }
    assert "Waiting for its turn." in staff.get(issued.headers["Location"]).get_data(as_text=True)

    worker = run_worker(app, tmp_path)
    assert worker.returncode == 0, worker.stderr[-3000:]
    # Issuing the certificate asked for its credential's signature, a job the worker ran too.
    assert _statuses(app) == {
        "mail_password_reset": JobStatus.done,
        "issue_cohort_certificates": JobStatus.done,
        "sign_credential": JobStatus.done,
    }
    # The mail went out from the worker (its log), with a link to the configured site.
    link = re.search(r"https?://\S+/auth/reset/\S+", worker.stderr + worker.stdout)
    assert link and link.group(0).startswith(f"{BASE}/auth/reset/"), worker.stderr[-3000:]
    outcome = staff.get(issued.headers["Location"]).get_data(as_text=True)
    assert "1 certificate issued." in outcome

    # The ZIP: asked for by a request, built by the worker, then offered for download.
    started = staff.post(f"/facilitate/cohorts/{cohort_id}/certificates/zip")
    assert started.status_code == 303
    waiting = staff.get(started.headers["Location"]).get_data(as_text=True)
    assert "Waiting for its turn." in waiting and 'http-equiv="refresh"' in waiting
    worker = run_worker(app, tmp_path)
    assert worker.returncode == 0, worker.stderr[-3000:]
    page = staff.get(started.headers["Location"]).get_data(as_text=True)
    assert "The ZIP is ready: 1 certificate." in page and 'http-equiv="refresh"' not in page
    download = re.search(r'href="([^"]+\.zip)"', page).group(1)
    response = staff.get(download)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    [name] = zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()
    assert name.endswith("-Zoë-Ångström.pdf")
    from lms.db import db_session

    with app.app_context():
        row = db_session.scalar(
            select(Job).where(Job.name == "lms.certificates.jobs:build_cohort_zip")
        )
        assert row.status is JobStatus.done and row.progress_done == row.progress_total == 1
        assert row.started_at is not None and row.attempts == 1
