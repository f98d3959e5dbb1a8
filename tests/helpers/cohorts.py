"""Helpers shared by the cohort and certificate tests."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import login

COURSE = "esp-racial-justice-dialogue"
REFLECT_STEPS = ("outcome-1", "outcome-2", "outcome-3")
LONG_TEXT = " ".join(["reflection"] * 45)


def future_date(days: int = 14) -> date:
    return (datetime.now(UTC) + timedelta(days=days)).date()


def cohort_form(facilitator_email: str, **overrides: Any) -> dict[str, Any]:
    data = {
        "course": COURSE,
        "title": "Tuesday evening session",
        "start_date": future_date().isoformat(),
        "start_time": "17:00",
        "time_zone": "America/New_York",
        "minutes": "60",
        "join_url": "https://meet.example.org/abc",
        "location": "Online",
        "capacity": "2",
        "registration_opens": "",
        "registration_closes": "",
        "facilitators": facilitator_email,
    }
    data.update({key: str(value) for key, value in overrides.items()})
    return data


def schedule_via_client(client: FlaskClient, facilitator_email: str, **overrides: Any) -> int:
    response = client.post(
        "/facilitate/cohorts/new", data=cohort_form(facilitator_email, **overrides)
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    found = re.search(r"/facilitate/cohorts/(\d+)$", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def schedule(
    app: Flask,
    facilitator: Any,
    *,
    capacity: int = 10,
    starts_at: datetime | None = None,
    zone: str = "America/New_York",
    minutes: int = 60,
    course: str = COURSE,
    **extra: Any,
) -> int:
    """A cohort made through the service (committed); returns its id."""
    from lms.accounts.models import User
    from lms.cohorts import clock, scheduling
    from lms.db import db_session

    with app.test_request_context():
        actor = db_session.get(User, facilitator.id)
        if starts_at is None:
            starts_at = clock.local_to_utc(future_date(), time(17, 0), zone)
        data = scheduling.CohortData(
            course_slug=course,
            title=extra.pop("title", "A live session"),
            starts_at=starts_at,
            time_zone=zone,
            minutes=minutes,
            capacity=capacity,
            join_url="https://meet.example.org/x",
            location="Online",
            facilitator_emails=[facilitator.email],
            **extra,
        )
        cohort = scheduling.create_cohort(actor, data)
        db_session.commit()
        return cohort.id


def register(app: Flask, user: Any, cohort_id: int) -> Any:
    from lms.accounts.models import User
    from lms.cohorts import registration, services
    from lms.db import db_session

    with app.test_request_context():
        enrollment = registration.register(
            db_session.get(User, user.id), services.get_cohort(cohort_id)
        )
        db_session.commit()
        return enrollment.status


def client_for(app: Flask, user: Any) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def enrollment_of(app: Flask, user: Any, cohort_id: int) -> Any:
    from sqlalchemy import select

    from lms.db import db_session
    from lms.learning.models import Enrollment

    with app.app_context():
        enrollment = db_session.scalar(
            select(Enrollment).where(
                Enrollment.user_id == user.id, Enrollment.cohort_id == cohort_id
            )
        )
        if enrollment is not None:
            db_session.expunge(enrollment)
        return enrollment


def submit_reflections(
    app: Flask, enrollment_id: int, *, shared: bool = False, steps: tuple[str, ...] = REFLECT_STEPS
) -> None:
    from lms.db import db_session, utcnow
    from lms.learning.models import Reflection, ReflectionStatus
    from lms.learning.progress import count_words

    with app.app_context():
        for step in steps:
            db_session.add(
                Reflection(
                    enrollment_id=enrollment_id,
                    prompt_id=step,
                    body=LONG_TEXT,
                    status=ReflectionStatus.submitted,
                    shared_with_facilitator=shared,
                    word_count=count_words(LONG_TEXT),
                    submitted_at=utcnow(),
                )
            )
        db_session.commit()


def set_attendance(
    app: Flask, actor: Any, enrollment_id: int, status: str = "present", minutes: int = 60
) -> None:
    from lms.accounts.models import User
    from lms.cohorts import attendance, services
    from lms.cohorts.models import AttendanceSource, AttendanceStatus, Cohort
    from lms.db import db_session
    from lms.learning.models import Enrollment

    with app.test_request_context():
        enrollment = db_session.get(Enrollment, enrollment_id)
        cohort = db_session.get(Cohort, enrollment.cohort_id)
        attendance.record_attendance(
            db_session.get(User, actor.id),
            enrollment,
            AttendanceStatus(status),
            minutes,
            AttendanceSource.manual,
            services.course_definition(cohort),
        )
        db_session.commit()


def hold_session(app: Flask, cohort_id: int, *, ended_minutes_ago: int = 60) -> None:
    """The session takes place: it is moved to have ended ``ended_minutes_ago``. Its registration
    stays open (until tomorrow), so a test can still add people to it."""
    from lms.cohorts.models import Cohort
    from lms.db import db_session, utcnow

    with app.app_context():
        cohort = db_session.get(Cohort, cohort_id)
        cohort.starts_at = utcnow() - timedelta(minutes=cohort.minutes + ended_minutes_ago)
        cohort.registration_opens_at = None
        cohort.registration_closes_at = utcnow() + timedelta(days=1)
        db_session.commit()


def completed_enrollment(
    app: Flask, facilitator: Any, learner: Any, cohort_id: int | None = None
) -> tuple[int, int]:
    """A learner who attended a session that has ended, and reflected: (cohort id, enrollment id)."""
    cohort_id = cohort_id or schedule(app, facilitator)
    register(app, learner, cohort_id)
    hold_session(app, cohort_id)
    enrollment = enrollment_of(app, learner, cohort_id)
    submit_reflections(app, enrollment.id)
    set_attendance(app, facilitator, enrollment.id)
    return cohort_id, enrollment.id


def download_cohort_zip(app, client, cohort_id):
    """Ask for the cohort's ZIP, let its job build it, follow its page to the download."""
    from lms.jobs import wait_for_jobs

    started = client.post(f"/facilitate/cohorts/{cohort_id}/certificates/zip")
    assert started.status_code == 303
    wait_for_jobs(app)
    page = client.get(started.headers["Location"])
    link = re.search(r'href="([^"]+\.zip)"', page.get_data(as_text=True))
    assert page.status_code == 200 and link, page.get_data(as_text=True)[:3000]
    response = client.get(link.group(1))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return response


def issue_to_everyone(app, client, cohort_id):
    """ "Issue certificates to everyone who completed": the page the facilitator ends on once the
    job has run (the job's outcome, or the roster with a message when nothing was started)."""
    from lms.jobs import wait_for_jobs

    started = client.post(f"/facilitate/cohorts/{cohort_id}/certificates")
    assert started.status_code in (302, 303), started.get_data(as_text=True)[:2000]
    wait_for_jobs(app)
    return client.get(started.headers["Location"], follow_redirects=True).get_data(as_text=True)
