"""Cohort and certificate mail against a real SMTP server: what it received, parsed."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

import icalendar
import time_machine
from sqlalchemy import func, select

from lms.jobs import wait_for_jobs
from tests.helpers import TEST_PASSWORD
from tests.helpers.cohorts import (
    client_for,
    completed_enrollment,
    future_date,
    register,
    schedule,
)


def subject(message):
    return str(message["Subject"]).strip()  # a long subject is folded after "Subject:"


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def calendar_of(message):
    found = [
        part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
    ]
    assert len(found) == 1, [part.get_content_type() for part in message.iter_attachments()]
    part = found[0]
    assert part.get_content_charset() == "utf-8"
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    event = next(iter(calendar.walk("VEVENT")))
    return part, calendar, event


def starts(app, facilitator, **kwargs):
    from lms.cohorts import clock

    return schedule(
        app,
        facilitator,
        starts_at=clock.local_to_utc(future_date(), time(17, 0), "America/New_York"),
        **kwargs,
    )


def cohort_start(app, cohort_id):
    from lms.cohorts.models import Cohort
    from lms.db import db_session

    with app.app_context():
        return db_session.get(Cohort, cohort_id).starts_at


def run_due(app):
    from lms.db import db_session
    from lms.notifications.schedule import run_due as run

    with app.app_context():
        report = run()
        db_session.commit()
    wait_for_jobs(app)
    return report


def deliveries(app, **where):
    from lms.db import db_session
    from lms.notifications.models import MailDelivery

    with app.app_context():
        query = select(MailDelivery).order_by(MailDelivery.id)
        for name, value in where.items():
            query = query.where(getattr(MailDelivery, name) == value)
        rows = list(db_session.scalars(query))
        for row in rows:
            db_session.expunge(row)
        return rows


# -- registration ---------------------------------------------------------------------------------------


def test_registering_mails_a_confirmation_with_a_calendar_invitation_in_english(
    app, make_user, smtp
):
    facilitator = make_user("facilitator")
    learner = make_user(locale="en", time_zone="America/Chicago", display_name="Ana Learner")
    cohort_id = starts(app, facilitator)
    response = client_for(app, learner).post(f"/cohorts/{cohort_id}/register")
    assert response.status_code == 303
    wait_for_jobs(app)
    [message] = smtp.to(learner.email)
    assert subject(message).startswith("You are registered: ")
    assert message["From"] == "sessions@courses.example.org"
    assert message["Content-Language"] == "en"
    assert "List-Unsubscribe" not in message  # a confirmation always goes
    text, html = parts(message)
    assert "Hello Ana Learner," in text and "You are registered for this live session" in text
    # 17:00 in New York is 16:00 in Chicago: the learner's own zone, named.
    assert (
        "4:00\u202fPM (Central Standard Time)" in text or "4:00 PM (Central Standard Time)" in text
    )
    assert f"https://courses.example.org/cohorts/{cohort_id}" in text
    assert '<html lang="en">' in html and "<h1" in html and "<table" not in html
    assert f'href="https://courses.example.org/cohorts/{cohort_id}"' in html
    part, calendar, event = calendar_of(message)
    assert part.get_content_type() == "text/calendar" and part.get_param("method") == "REQUEST"
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"cohort-{cohort_id}-learner-{learner.id}@courses.example.org"
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["DTSTART"].dt.hour == 17
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert str(event["ORGANIZER"]) == "mailto:sessions@courses.example.org"
    assert str(event["ATTENDEE"]) == f"mailto:{learner.email}"
    assert "https://meet.example.org/x" in str(event["DESCRIPTION"])
    [row] = deliveries(app, kind="confirmed")
    assert (
        row.status.value == "sent"
        and row.attempts == 1
        and row.to_address == learner.email
        and row.cohort_id == cohort_id
    )


def test_the_confirmation_is_in_spanish_and_the_learners_time_zone(app, make_user, smtp):
    facilitator = make_user("facilitator")
    learner = make_user(locale="es", time_zone="Europe/Madrid")
    cohort_id = starts(app, facilitator)
    register(app, learner, cohort_id)
    wait_for_jobs(app)
    [message] = smtp.to(learner.email)
    assert message["Content-Language"] == "es"
    assert subject(message).startswith("Estás inscrito: ")
    text, html = parts(message)
    assert "Hola" in text and "23:00 (hora estándar de Europa central)" in text
    assert '<html lang="es">' in html
    _part, calendar, event = calendar_of(message)
    assert calendar["METHOD"] == "REQUEST" and event["DTSTART"].params["TZID"] == "America/New_York"
    assert "Sesión en vivo" in str(event["DESCRIPTION"])


def test_the_download_is_the_same_builder_and_the_same_uid_for_a_registered_learner(
    app, make_user, smtp
):
    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = starts(app, facilitator)
    register(app, learner, cohort_id)
    wait_for_jobs(app)
    mine = icalendar.Calendar.from_ical(
        client_for(app, learner).get(f"/cohorts/{cohort_id}.ics").data
    )
    public = icalendar.Calendar.from_ical(app.test_client().get(f"/cohorts/{cohort_id}.ics").data)
    _part, _calendar, mailed = calendar_of(smtp.to(learner.email)[0])
    assert str(next(iter(mine.walk("VEVENT")))["UID"]) == str(mailed["UID"])
    assert (
        str(next(iter(public.walk("VEVENT")))["UID"]) == f"cohort-{cohort_id}@courses.example.org"
    )
    assert public["METHOD"] == "PUBLISH" and public.walk("VTIMEZONE")


def test_waitlist_place_then_the_seat_that_opened_each_once(app, make_user, smtp):
    facilitator = make_user("facilitator")
    first, second = make_user(), make_user(locale="es", time_zone="Europe/Madrid")
    cohort_id = starts(app, facilitator, capacity=1)
    register(app, first, cohort_id)
    register(app, second, cohort_id)
    wait_for_jobs(app)
    [waitlisted] = smtp.to(second.email)
    assert subject(waitlisted).startswith("Estás en la lista de espera")
    assert "número 1" in parts(waitlisted)[0]
    assert not list(waitlisted.iter_attachments())  # no seat yet: nothing for the calendar
    response = client_for(app, first).post(f"/cohorts/{cohort_id}/withdraw")
    assert response.status_code == 303
    wait_for_jobs(app)
    confirmation, cancel = smtp.to(first.email)
    _part, calendar, event = calendar_of(cancel)
    assert subject(cancel).startswith("You have withdrawn")
    assert calendar["METHOD"] == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) > int(calendar_of(confirmation)[2]["SEQUENCE"])
    assert str(event["UID"]) == str(calendar_of(confirmation)[2]["UID"])
    _waitlisted, promoted = smtp.to(second.email)
    assert subject(promoted).startswith("Se abrió una plaza")
    assert calendar_of(promoted)[1]["METHOD"] == "REQUEST"
    # Registering again after withdrawing: the same UID with a higher SEQUENCE than the CANCEL.
    register(app, first, cohort_id)
    wait_for_jobs(app)
    again = smtp.to(first.email)[-1]
    assert subject(again).startswith("You are on the waitlist")
    assert len(smtp.messages) == 5


# -- changes and cancellation -------------------------------------------------------------------------------


def update_start(app, facilitator, cohort_id, new_start, **changes):
    from lms.accounts.models import User
    from lms.cohorts import scheduling
    from lms.cohorts.models import Cohort
    from lms.db import db_session

    with app.test_request_context():
        cohort = db_session.get(Cohort, cohort_id)
        data = scheduling.CohortData(
            course_slug=cohort.course.slug,
            title=cohort.title,
            starts_at=new_start,
            time_zone=cohort.time_zone,
            minutes=cohort.minutes,
            capacity=cohort.capacity,
            join_url=changes.get("join_url", cohort.join_url),
            location=cohort.location,
            facilitator_emails=[facilitator.email],
        )
        scheduling.update_cohort(db_session.get(User, facilitator.id), cohort, data)
        db_session.commit()


def test_a_time_change_sends_what_changed_with_the_same_uid_and_a_higher_sequence(
    app, make_user, smtp
):
    facilitator = make_user("facilitator")
    english, spanish = make_user(), make_user(locale="es", time_zone="America/Mexico_City")
    cohort_id = starts(app, facilitator)
    for learner in (english, spanish):
        register(app, learner, cohort_id)
    wait_for_jobs(app)
    later = cohort_start(app, cohort_id) + timedelta(hours=2)
    update_start(app, facilitator, cohort_id, later, join_url="https://meet.example.org/new")
    wait_for_jobs(app)
    confirmation, change = smtp.to(english.email)
    assert subject(change).startswith("Session changed")
    text, html = parts(change)
    assert "Time: was " in text and "5:00" in text and "7:00" in text
    assert "https://meet.example.org/x" in text and "https://meet.example.org/new" in text
    assert "<li>" in html
    _part, calendar, event = calendar_of(change)
    _part, _calendar, first = calendar_of(confirmation)
    assert calendar["METHOD"] == "REQUEST" and str(event["UID"]) == str(first["UID"])
    assert int(event["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert event["DTSTART"].dt.hour == 19
    [_confirmation, cambio] = smtp.to(spanish.email)
    assert subject(cambio).startswith("Sesión modificada") and "Hora: antes" in parts(cambio)[0]
    # A change that does not touch the schedule (the capacity) sends nothing.
    smtp.clear()
    update_start(app, facilitator, cohort_id, later, join_url="https://meet.example.org/new")
    wait_for_jobs(app)
    assert smtp.messages == []


def test_a_cancellation_sends_method_cancel_to_everyone_registered(app, make_user, smtp):
    from lms.accounts.models import User
    from lms.cohorts import scheduling
    from lms.cohorts.models import Cohort
    from lms.db import db_session

    facilitator = make_user("facilitator")
    seat, waiting = make_user(), make_user()
    cohort_id = starts(app, facilitator, capacity=1)
    register(app, seat, cohort_id)
    register(app, waiting, cohort_id)
    wait_for_jobs(app)
    with app.test_request_context():
        scheduling.cancel_cohort(
            db_session.get(User, facilitator.id),
            db_session.get(Cohort, cohort_id),
            "The facilitator is ill.",
        )
        db_session.commit()
    wait_for_jobs(app)
    cancel = smtp.to(seat.email)[-1]
    assert subject(cancel).startswith("Session cancelled")
    assert "The facilitator is ill." in parts(cancel)[0]
    _part, calendar, event = calendar_of(cancel)
    assert (
        calendar["METHOD"] == "CANCEL"
        and str(event["STATUS"]) == "CANCELLED"
        and int(event["SEQUENCE"]) == 1
    )
    waitlist_notice = smtp.to(waiting.email)[-1]
    assert subject(waitlist_notice).startswith("Session cancelled") and not list(
        waitlist_notice.iter_attachments()
    )
    assert len(smtp.messages) == 4


# -- reminders ------------------------------------------------------------------------------------------------


def test_reminders_go_once_at_24_hours_and_1_hour_and_skip_who_should_not_get_them(
    app, make_user, smtp
):
    facilitator = make_user("facilitator")
    english, spanish, leaver, quiet = (
        make_user(),
        make_user(locale="es", time_zone="Europe/Madrid"),
        make_user(),
        make_user(),
    )
    cohort_id = starts(app, facilitator)
    for learner in (english, spanish, leaver, quiet):
        register(app, learner, cohort_id)
    client_for(app, leaver).post(f"/cohorts/{cohort_id}/withdraw")
    quiet_client = client_for(app, quiet)
    assert quiet_client.post("/me/mail", data={"reminders": ""}).status_code == 303
    wait_for_jobs(app)
    smtp.clear()
    start = cohort_start(app, cohort_id)
    with time_machine.travel(start - timedelta(hours=25)):
        assert run_due(app).reminders == 0
    with time_machine.travel(start - timedelta(hours=23, minutes=59)):
        assert run_due(app).reminders == 2
        assert run_due(app).reminders == 0  # a second run finds them sent
    assert [len(smtp.to(p.email)) for p in (english, spanish, leaver, quiet)] == [1, 1, 0, 0]
    reminder = smtp.to(english.email)[0]
    assert subject(reminder).startswith("Reminder: ")
    assert (
        "starts in 24 hours" in parts(reminder)[0]
        and "https://meet.example.org/x" in parts(reminder)[0]
    )
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert reminder["List-Unsubscribe"].startswith("<https://courses.example.org/mail/unsubscribe/")
    recordatorio = smtp.to(spanish.email)[0]
    assert (
        subject(recordatorio).startswith("Recordatorio: ")
        and "empieza dentro de 24 horas" in parts(recordatorio)[0]
    )
    with time_machine.travel(start - timedelta(minutes=59)):
        assert run_due(app).reminders == 2
    assert "starts in 1 hour" in parts(smtp.to(english.email)[1])[0]
    with time_machine.travel(start + timedelta(minutes=1)):
        assert run_due(app).reminders == 0  # started: no reminder about it
    assert len(smtp.messages) == 4


def test_moving_a_session_moves_its_reminders(app, make_user, smtp):
    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = starts(app, facilitator)
    register(app, learner, cohort_id)
    wait_for_jobs(app)
    start = cohort_start(app, cohort_id)
    with time_machine.travel(start - timedelta(hours=23)):
        assert run_due(app).reminders == 1
        update_start(app, facilitator, cohort_id, start + timedelta(days=2))
        wait_for_jobs(app)
        assert run_due(app).reminders == 0  # the new start is three days away
    smtp.clear()
    with time_machine.travel(start + timedelta(days=2) - timedelta(minutes=30)):
        assert run_due(app).reminders == 1
    [reminder] = smtp.to(learner.email)
    assert "starts in 1 hour" in parts(reminder)[0]


def test_a_cohort_sets_its_own_reminders(app, make_user, smtp):
    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = starts(app, facilitator)
    register(app, learner, cohort_id)
    client = client_for(app, facilitator)
    response = client.post(
        f"/facilitate/cohorts/{cohort_id}/mail/reminders", data={"minutes": ["15"]}
    )
    assert response.status_code == 303
    wait_for_jobs(app)
    start = cohort_start(app, cohort_id)
    with time_machine.travel(start - timedelta(minutes=59)):
        assert run_due(app).reminders == 0  # this cohort has no 1-hour reminder
    with time_machine.travel(start - timedelta(minutes=14)):
        assert run_due(app).reminders == 1
    assert "starts in 15 minutes" in parts(smtp.to(learner.email)[-1])[0]


def test_two_schedulers_at_once_send_each_reminder_once(app, make_user, smtp):
    facilitator = make_user("facilitator")
    learners = [make_user() for _ in range(6)]
    cohort_id = starts(app, facilitator)
    for learner in learners:
        register(app, learner, cohort_id)
    wait_for_jobs(app)
    smtp.clear()
    start = cohort_start(app, cohort_id)
    barrier = threading.Barrier(2)
    counts, errors = [], []

    def scheduler():
        from lms.db import db_session
        from lms.notifications.schedule import run_due as run

        try:
            with app.app_context():
                barrier.wait(timeout=10)
                counts.append(run().reminders)
                db_session.commit()
        except Exception as error:
            errors.append(error)

    with time_machine.travel(start - timedelta(minutes=30)):
        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        wait_for_jobs(app)
    assert not errors, errors
    assert sum(counts) == 6
    assert sorted(m["To"] for m in smtp.messages) == sorted(learner.email for learner in learners)


# -- unsubscribe -----------------------------------------------------------------------------------------------


def test_one_click_unsubscribe_works_without_a_session_and_refuses_a_forged_token(
    app, make_user, smtp
):
    from lms.db import db_session
    from lms.notifications.services import preference

    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = starts(app, facilitator)
    register(app, learner, cohort_id)
    wait_for_jobs(app)
    with time_machine.travel(cohort_start(app, cohort_id) - timedelta(minutes=30)):
        run_due(app)
    reminder = smtp.to(learner.email)[-1]
    url = reminder["List-Unsubscribe"].strip("<>")
    assert url in parts(reminder)[0]
    path = urlsplit(url).path
    signed_in = client_for(app, learner)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        anonymous = app.test_client()
        page = anonymous.get(path)
        assert page.status_code == 200 and "Stop receiving reminders" in page.get_data(as_text=True)
        with app.app_context():
            assert (
                preference(learner.id).reminders is True
            )  # a GET (a link scanner) changes nothing
        forged = anonymous.post(path[:-3] + "xyz", data={"List-Unsubscribe": "One-Click"})
        assert forged.status_code == 400
        other = anonymous.post(
            f"/mail/unsubscribe/{path.rsplit('/', 1)[1].split('.')[0]}.AAAA.BBBB",
            data={"List-Unsubscribe": "One-Click"},
        )
        assert other.status_code == 400
        with app.app_context():
            assert preference(learner.id).reminders is True
        done = anonymous.post(path, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200, done.get_data(as_text=True)[:500]
        assert not any("lms_session" in c for c in done.headers.getlist("Set-Cookie"))
        # Other POSTs still need their CSRF token.
        assert signed_in.post("/me/mail", data={"reminders": "y"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        row = preference(learner.id)
        assert row.reminders is False and row.digest is False
        db_session.rollback()


# -- certificates ----------------------------------------------------------------------------------------------


def test_certificate_ready_then_replaced_then_revoked(app, make_user, smtp):
    from lms.accounts.models import User
    from lms.certificates import services as certificates
    from lms.db import db_session
    from lms.learning.models import Enrollment

    facilitator, admin = make_user("facilitator"), make_user("admin")
    learner = make_user(locale="es")
    _cohort_id, enrollment_id = completed_enrollment(app, facilitator, learner)
    wait_for_jobs(app)
    smtp.clear()
    with app.test_request_context():
        result = certificates.issue_certificate(
            db_session.get(Enrollment, enrollment_id), db_session.get(User, facilitator.id)
        )
        code = result.certificate.code
        db_session.commit()
    wait_for_jobs(app)
    [ready] = smtp.to(learner.email)
    assert subject(ready).startswith("Tu certificado está listo")
    text, html = parts(ready)
    assert f"https://courses.example.org/certificates/{code}.pdf" in text
    assert f'href="https://courses.example.org/verify/{code}"' in html
    with app.test_request_context():
        certificate = certificates.find_certificate(code)
        new = certificates.reissue_certificate(certificate, db_session.get(User, admin.id))
        new_code = new.code
        db_session.commit()
    wait_for_jobs(app)
    reissued = smtp.to(learner.email)[-1]
    assert len(smtp.to(learner.email)) == 2  # one message for a replacement, not two
    assert code in parts(reissued)[0] and new_code in parts(reissued)[0]
    with app.test_request_context():
        certificates.revoke_certificate(
            certificates.find_certificate(new_code),
            db_session.get(User, admin.id),
            "Registrado por error",
        )
        db_session.commit()
    wait_for_jobs(app)
    revoked = smtp.to(learner.email)[-1]
    assert (
        subject(revoked).startswith("Tu certificado fue revocado")
        and "Registrado por error" in parts(revoked)[0]
    )
    assert len(smtp.to(learner.email)) == 3


# -- delivery ------------------------------------------------------------------------------------------------------


def test_a_refused_address_fails_once_and_does_not_stop_the_others(app, make_user, smtp):
    facilitator = make_user("facilitator")
    bad = make_user(email="bounce@example.org")
    good = make_user()
    cohort_id = starts(app, facilitator)
    register(app, bad, cohort_id)
    register(app, good, cohort_id)
    wait_for_jobs(app)
    assert len(smtp.to(good.email)) == 1
    [failed] = deliveries(app, to_address=bad.email)
    assert failed.status.value == "failed" and failed.attempts == 1 and "550" in failed.last_error
    admin = make_user("admin")
    page = client_for(app, admin).get("/admin/mail?status=failed")
    assert page.status_code == 200 and "bounce@example.org" in page.get_data(as_text=True)


def test_a_temporary_failure_is_retried_and_recorded(app, make_user, smtp):
    facilitator = make_user("facilitator")
    learner = make_user()
    smtp.flaky.add(learner.email)
    cohort_id = starts(app, facilitator)
    register(app, learner, cohort_id)
    wait_for_jobs(app)
    assert len(smtp.to(learner.email)) == 1
    [row] = deliveries(app, to_address=learner.email)
    assert row.status.value == "sent" and row.attempts == 2


def test_the_roster_shows_confirmations_and_a_facilitator_writes_to_the_waitlist(
    app, make_user, smtp
):
    from lms.audit.models import AuditEvent
    from lms.db import db_session

    facilitator = make_user("facilitator")
    seat, waiting = make_user(display_name="Seat Holder"), make_user(locale="es")
    cohort_id = starts(app, facilitator, capacity=1)
    register(app, seat, cohort_id)
    register(app, waiting, cohort_id)
    wait_for_jobs(app)
    client = client_for(app, facilitator)
    roster = client.get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Confirmation mail" in roster and "<td>Sent</td>" in roster
    smtp.clear()
    response = client.post(
        f"/facilitate/cohorts/{cohort_id}/mail/message",
        data={"audience": "waitlist", "subject": "Seats may open", "body": "Line one\nLine <two>"},
    )
    assert response.status_code == 303
    wait_for_jobs(app)
    [message] = smtp.messages
    assert message["To"] == waiting.email and subject(message) == "Seats may open"
    assert message["Reply-To"] == facilitator.email
    text, html = parts(message)
    assert "Line <two>" in text and "Line &lt;two&gt;" in html
    with app.app_context():
        assert (
            db_session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "cohort.message_sent")
            )
            == 1
        )
    page = client.get(f"/facilitate/cohorts/{cohort_id}/mail").get_data(as_text=True)
    assert waiting.email in page
    refused = client.post(
        f"/facilitate/cohorts/{cohort_id}/mail/message",
        data={"audience": "all", "subject": "", "body": "x"},
    )
    assert refused.status_code == 422


MANY = int(
    os.environ.get("LMS_TEST_MAIL_MANY", "120")
)  # LMS_TEST_MAIL_MANY=1000: a cohort of 1,000, as large as the mail must handle


def test_a_cohort_of_many_is_mailed_through_the_queue(app, make_user, smtp):
    """The request that cancels commits two rows and one job; the job writes one message per person."""
    from lms.accounts.models import User
    from lms.cohorts import scheduling
    from lms.cohorts.models import Cohort
    from lms.db import db_session
    from lms.jobs.models import Job
    from lms.learning.models import Enrollment, EnrollmentStatus, LearningPath

    facilitator = make_user("facilitator")
    cohort_id = starts(app, facilitator, capacity=max(MANY, 1))
    with app.app_context():
        cohort = db_session.get(Cohort, cohort_id)
        people = [
            User(
                email=f"many{n}@example.org", display_name=f"Many {n}", locale="en", time_zone="UTC"
            )
            for n in range(MANY)
        ]
        db_session.add_all(people)
        db_session.flush()
        db_session.add_all(
            Enrollment(
                user_id=p.id,
                course_id=cohort.course_id,
                path=LearningPath.live,
                cohort_id=cohort_id,
                status=EnrollmentStatus.registered,
            )
            for p in people
        )
        db_session.commit()
    with app.test_request_context():
        before = db_session.scalar(select(func.count()).select_from(Job))
        scheduling.cancel_cohort(
            db_session.get(User, facilitator.id), db_session.get(Cohort, cohort_id), "Moved online"
        )
        db_session.flush()
        assert db_session.scalar(select(func.count()).select_from(Job)) == before + 1
        db_session.commit()
    wait_for_jobs(app, timeout=max(120, MANY))
    assert len(smtp.messages) == MANY
    assert {row.status.value for row in deliveries(app, kind="cancelled")} == {"sent"}


def test_the_daily_digest_lists_registrations_and_withdrawals_for_those_who_asked(
    app, make_user, smtp
):
    facilitator, silent = make_user("facilitator"), make_user("facilitator")
    client = client_for(app, facilitator)
    assert client.post("/me/mail", data={"reminders": "y", "digest": "y"}).status_code == 303
    cohort_id = starts(app, facilitator)
    starts(app, silent)
    now = datetime.now(UTC)
    joiner, leaver = (
        make_user(display_name="Joining Person"),
        make_user(display_name="Leaving Person"),
    )
    register(app, joiner, cohort_id)
    register(app, leaver, cohort_id)
    client_for(app, leaver).post(f"/cohorts/{cohort_id}/withdraw")
    wait_for_jobs(app)
    smtp.clear()
    next_morning = datetime.combine(now.date() + timedelta(days=1), time(7, 5), tzinfo=UTC)
    with time_machine.travel(next_morning):
        assert run_due(app).digests == 1
        assert run_due(app).digests == 0
    [digest] = smtp.messages
    assert (
        digest["To"] == facilitator.email
        and digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    )
    text, _html = parts(digest)
    assert "Joining Person" in text and "Leaving Person" in text


# -- settings, commands ------------------------------------------------------------------------------------------


def test_mail_settings_page_and_who_may_choose_the_digest(app, make_user, smtp):
    from lms.notifications.services import preference

    learner, facilitator = make_user(locale="es"), make_user("facilitator")
    page = client_for(app, learner).get("/me/mail")
    assert (
        page.status_code == 200
        and "Recordarme antes de mis sesiones en directo" in page.get_data(as_text=True)
    )
    assert "digest" not in page.get_data(as_text=True)  # a learner facilitates nothing
    assert client_for(app, learner).post("/me/mail", data={"digest": "y"}).status_code == 303
    assert (
        client_for(app, facilitator)
        .post("/me/mail", data={"reminders": "y", "digest": "y"})
        .status_code
        == 303
    )
    with app.app_context():
        assert (preference(learner.id).reminders, preference(learner.id).digest) == (False, False)
        assert (preference(facilitator.id).reminders, preference(facilitator.id).digest) == (
            True,
            True,
        )
    profile = client_for(app, learner).get("/auth/profile").get_data(as_text=True)
    assert 'href="/me/mail"' in profile


def test_run_due_and_deliveries_commands(app, make_user, smtp):
    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = starts(app, facilitator)
    register(app, learner, cohort_id)
    wait_for_jobs(app)
    runner = app.test_cli_runner()
    with time_machine.travel(cohort_start(app, cohort_id) - timedelta(minutes=20)):
        first = runner.invoke(args=["lms", "mail", "run-due"])
        wait_for_jobs(app)
        second = runner.invoke(args=["lms", "mail", "run-due"])
    assert first.exit_code == 0 and "1 reminder(s), 0 digest(s) queued" in first.output
    assert "0 reminder(s)" in second.output
    listed = runner.invoke(args=["lms", "mail", "deliveries"])
    assert listed.exit_code == 0
    assert (
        "reminder" in listed.output
        and "confirmed" in listed.output
        and learner.email in listed.output
    )
    assert len(smtp.to(learner.email)) == 2


def test_deleting_an_account_deletes_its_messages(app, make_user, smtp):
    facilitator = make_user("facilitator")
    learner = make_user()
    register(app, learner, starts(app, facilitator))
    wait_for_jobs(app)
    assert deliveries(app, to_address=learner.email)
    response = client_for(app, learner).post("/me/delete", data={"password": TEST_PASSWORD})
    assert response.status_code in (302, 303)
    assert deliveries(app, to_address=learner.email) == []
