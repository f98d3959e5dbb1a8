"""Scheduling form, public cohort page, calendar file, course page panel, manual attendance."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
from sqlalchemy import select

from tests.helpers import login
from tests.helpers.cohorts import (
    cohort_form,
    enrollment_of,
    hold_session,
    register,
    schedule,
    schedule_via_client,
    submit_reflections,
)


def test_schedule_form_keeps_what_was_typed_and_explains_errors(app, make_user, login_as):
    facilitator = make_user("facilitator")
    client = login_as(facilitator)
    page = client.get("/facilitate/cohorts/new")
    assert page.status_code == 200 and "America/Chicago" in page.get_data(as_text=True)
    response = client.post(
        "/facilitate/cohorts/new",
        data=cohort_form(
            facilitator.email, join_url="http://insecure.example.org/x", title="My special title"
        ),
    )
    html = response.get_data(as_text=True)
    assert (
        response.status_code == 422
        and "must start with https://" in html
        and "My special title" in html
    )
    response = client.post(
        "/facilitate/cohorts/new",
        data=cohort_form(
            facilitator.email, facilitators=f"{facilitator.email}\nnobody@example.org"
        ),
    )
    assert response.status_code == 422 and "nobody@example.org" in response.get_data(as_text=True)
    # 02:30 on the day clocks spring forward does not exist in New York.
    response = client.post(
        "/facilitate/cohorts/new",
        data=cohort_form(facilitator.email, start_date="2027-03-14", start_time="02:30"),
    )
    assert response.status_code == 422 and "does not exist" in response.get_data(as_text=True)


def test_schedule_stores_utc_and_zone_with_co_facilitators(app, make_user, login_as):
    from lms.cohorts.models import Cohort
    from lms.db import db_session

    facilitator = make_user("facilitator")
    co = make_user("facilitator", email="co@example.org")
    cohort_id = schedule_via_client(
        login_as(facilitator),
        facilitator.email,
        start_date="2026-12-01",
        start_time="17:00",
        facilitators=f"{facilitator.email}, CO@example.org",
    )
    with app.app_context():
        cohort = db_session.get(Cohort, cohort_id)
        assert (
            cohort.starts_at.isoformat() == "2026-12-01T22:00:00+00:00"
            and cohort.time_zone == "America/New_York"
        )
        assert {u.id for u in cohort.facilitators} == {facilitator.id, co.id}
    assert login_as(co).get(f"/facilitate/cohorts/{cohort_id}").status_code == 200


def test_ics_is_valid_and_times_show_in_the_viewers_zone(app, make_user, login_as):
    facilitator = make_user("facilitator")
    cohort_id = schedule_via_client(
        login_as(facilitator), facilitator.email, start_date="2026-12-01", start_time="17:00"
    )
    response = app.test_client().get(f"/cohorts/{cohort_id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.get_data())
    event = calendar.walk("VEVENT")[0]
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (17, 0, "America/New_York")
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert event.decoded("DURATION") == timedelta(minutes=60)
    assert str(event["UID"]).startswith(f"cohort-{cohort_id}@")
    assert "Tuesday evening session" in str(event["SUMMARY"])
    assert (
        str(event["URL"]).endswith(f"/cohorts/{cohort_id}") and str(event["LOCATION"]) == "Online"
    )

    chicago = make_user(time_zone="America/Chicago")
    page = login_as(chicago).get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    when = page.split("<dt>When</dt>")[1].split("</dd>")[0]
    assert "4:00:00\u202fPM" in when or "4:00:00 PM" in when
    assert "Central" in when


def test_course_page_lists_upcoming_cohorts_with_register_button(app, make_user, login_as):
    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator, title="Evening cohort")
    anonymous = app.test_client().get("/courses/esp-racial-justice-dialogue").get_data(as_text=True)
    assert (
        "Upcoming live sessions" in anonymous
        and "Evening cohort" in anonymous
        and "Sign in to register" in anonymous
    )
    learner = make_user()
    client = login_as(learner)
    page = client.get("/courses/esp-racial-justice-dialogue").get_data(as_text=True)
    assert f'action="/cohorts/{cohort_id}/register"' in page
    client.post(f"/cohorts/{cohort_id}/register")
    page = client.get("/courses/esp-racial-justice-dialogue").get_data(as_text=True)
    assert f'action="/cohorts/{cohort_id}/register"' not in page and "Registered" in page
    # A self-paced course has no live panel.
    assert "Upcoming live sessions" not in client.get("/courses/community-partnerships").get_data(
        as_text=True
    )


def test_course_page_lists_the_soonest_sessions_and_links_to_all(app, make_user):
    from datetime import timedelta

    from lms.cohorts.views.panels import COURSE_PAGE_SESSIONS
    from lms.db import utcnow

    facilitator = make_user("facilitator")
    total = COURSE_PAGE_SESSIONS + 3
    # Scheduled latest first, so the page's order comes from the start times, not the ids.
    for day in reversed(range(total)):
        schedule(
            app,
            facilitator,
            title=f"Session on day {day + 2:02d}",
            starts_at=utcnow() + timedelta(days=day + 2),
        )
    schedule(
        app, facilitator, title="Already over", starts_at=utcnow() - timedelta(hours=3), minutes=60
    )
    client = app.test_client()
    page = client.get("/courses/esp-racial-justice-dialogue").get_data(as_text=True)
    shown = re.findall(r">Session on day (\d\d)</a></h3>", page)
    assert shown == [f"{day + 2:02d}" for day in range(COURSE_PAGE_SESSIONS)]
    assert "Already over" not in page
    assert (
        f"Show all {total} upcoming sessions" in page
        and 'href="/courses/esp-racial-justice-dialogue?sessions=all#live-sessions-title"' in page
    )
    everything = client.get("/courses/esp-racial-justice-dialogue?sessions=all").get_data(
        as_text=True
    )
    assert re.findall(r">Session on day (\d\d)</a></h3>", everything) == [
        f"{day + 2:02d}" for day in range(total)
    ]
    assert "Show all" not in everything


def test_a_session_under_way_is_listed_first_and_counted(app, make_user):
    """Running sessions come from their own query, future ones from a count and a limited read:
    together they are the soonest first, and the total counts both."""
    from datetime import timedelta

    from lms.cohorts.views.panels import COURSE_PAGE_SESSIONS
    from lms.db import utcnow

    facilitator = make_user("facilitator")
    now = utcnow()
    schedule(
        app,
        facilitator,
        title="Day-long, started yesterday",
        starts_at=now - timedelta(hours=23),
        minutes=24 * 60,
    )
    schedule(app, facilitator, title="Under way", starts_at=now - timedelta(minutes=30), minutes=60)
    schedule(
        app, facilitator, title="Ended an hour ago", starts_at=now - timedelta(hours=2), minutes=60
    )
    for day in range(COURSE_PAGE_SESSIONS):
        schedule(
            app,
            facilitator,
            title=f"Session on day {day + 1:02d}",
            starts_at=now + timedelta(days=day + 1),
        )
    page = app.test_client().get("/courses/esp-racial-justice-dialogue").get_data(as_text=True)
    shown = re.findall(r'/cohorts/\d+">([^<]+)</a></h3>', page)
    assert shown == ["Day-long, started yesterday", "Under way"] + [
        f"Session on day {day + 1:02d}" for day in range(COURSE_PAGE_SESSIONS - 2)
    ]
    assert f"Show all {COURSE_PAGE_SESSIONS + 2} upcoming sessions" in page


def test_facilitator_list_counts_seats_and_waitlist(app, make_user, login_as):
    facilitator = make_user("facilitator")
    full = schedule(app, facilitator, title="Small room", capacity=1)
    empty = schedule(app, facilitator, title="Empty room", capacity=5)
    for person in (make_user(), make_user(), make_user()):
        register(app, person, full)
    page = login_as(facilitator).get("/facilitate/").get_data(as_text=True)
    rows = {
        title: row
        for row in page.split("<tr>")[1:]
        for title in ("Small room", "Empty room")
        if title in row
    }
    assert "<td>1 of 1</td>" in rows["Small room"] and "<td>2</td>" in rows["Small room"]
    assert "<td>0 of 5</td>" in rows["Empty room"] and "<td>0</td>" in rows["Empty room"]
    assert empty


def test_manual_attendance_for_the_whole_roster(app, make_user, login_as):
    from lms.audit.models import AuditEvent
    from lms.cohorts.models import Attendance
    from lms.db import db_session

    facilitator = make_user("facilitator")
    a, b, c = make_user(), make_user(), make_user()
    cohort_id = schedule(app, facilitator)
    for p in (a, b, c):
        register(app, p, cohort_id)
    hold_session(app, cohort_id)
    ea, eb, ec = (enrollment_of(app, p, cohort_id) for p in (a, b, c))
    submit_reflections(app, ea.id)
    client = login_as(facilitator)
    roster = client.get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
    assert f'name="status_{ea.id}"' in roster and f"Attendance of {a.display_name}" in roster
    # Late without minutes is refused and nothing is saved; what was typed stays.
    response = client.post(
        f"/facilitate/cohorts/{cohort_id}/attendance",
        data={f"status_{ea.id}": "present", f"status_{eb.id}": "late", f"minutes_{ec.id}": ""},
    )
    assert response.status_code == 422 and "were late" in response.get_data(as_text=True)
    with app.app_context():
        assert db_session.scalars(select(Attendance)).all() == []
    response = client.post(
        f"/facilitate/cohorts/{cohort_id}/attendance",
        data={
            f"status_{ea.id}": "present",
            f"status_{eb.id}": "late",
            f"minutes_{eb.id}": "20",
            f"status_{ec.id}": "absent",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        rows = {
            r.enrollment_id: (str(r.status), r.minutes, str(r.source))
            for r in db_session.scalars(select(Attendance))
        }
        assert rows == {
            ea.id: ("present", 60, "manual"),
            eb.id: ("late", 20, "manual"),
            ec.id: ("absent", 0, "manual"),
        }
        assert (
            len(
                db_session.scalars(
                    select(AuditEvent).where(AuditEvent.action == "attendance.recorded")
                ).all()
            )
            == 3
        )
    assert enrollment_of(app, a, cohort_id).status == "completed"  # attended and reflected
    assert enrollment_of(app, b, cohort_id).status == "registered"
    # Correcting to absent takes the completion back; clearing removes the record.
    client.post(
        f"/facilitate/cohorts/{cohort_id}/attendance",
        data={f"status_{ea.id}": "absent", f"status_{eb.id}": "", f"status_{ec.id}": "absent"},
    )
    assert enrollment_of(app, a, cohort_id).status == "in_progress"
    with app.app_context():
        assert {r.enrollment_id for r in db_session.scalars(select(Attendance))} == {ea.id, ec.id}
        assert (
            db_session.scalar(select(AuditEvent).where(AuditEvent.action == "attendance.cleared"))
            is not None
        )


def test_import_errors_are_clear_and_apply_is_all_or_nothing(app, make_user, login_as):
    import io
    import re

    from lms.cohorts.models import Attendance
    from lms.db import db_session

    facilitator = make_user("facilitator")
    a, b = make_user(email="a@example.org"), make_user(email="b@example.org")
    cohort_id = schedule(app, facilitator)
    register(app, a, cohort_id)
    register(app, b, cohort_id)
    client = login_as(facilitator)
    url = f"/facilitate/cohorts/{cohort_id}/attendance/import"
    response = client.post(
        url,
        data={"report": (io.BytesIO(b"Name,Email\nA,a@example.org\n"), "r.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "no duration column" in response.get_data(as_text=True)
    app.config["LMS_ATTENDANCE_UPLOAD_MAX_ROWS"] = 1
    csv = (
        b"Name (original name),Email,Join time,Leave time,Duration (minutes)\n"
        b"A,a@example.org,,,50\nB,b@example.org,,,10\n"
    )
    response = client.post(
        url, data={"report": (io.BytesIO(csv), "r.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "more than 1 rows" in response.get_data(as_text=True)
    app.config["LMS_ATTENDANCE_UPLOAD_MAX_ROWS"] = 100
    response = client.post(
        url,
        data={"report": (io.BytesIO(csv.decode().encode("utf-16")), "r.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "UTF-16" in html
    token = re.search(r'name="token"[^>]*value="([^"]+)"', html).group(1)
    # A tampered token, or a roster that changed since the preview, changes nothing.
    assert (
        client.post(
            url + "/apply", data={"token": token[:-2] + "xx"}, follow_redirects=True
        ).status_code
        == 200
    )
    client_b = app.test_client()

    login(client_b, b)
    client_b.post(f"/cohorts/{cohort_id}/withdraw")
    response = client.post(url + "/apply", data={"token": token}, follow_redirects=True)
    assert "roster changed" in response.get_data(as_text=True)
    with app.app_context():
        assert db_session.scalars(select(Attendance)).all() == []
    # Another facilitator's token is refused even on a cohort they manage.
    other = make_user("admin")
    response = login_as(other).post(url + "/apply", data={"token": token}, follow_redirects=True)
    assert "another cohort or person" in response.get_data(as_text=True)


def test_the_roster_links_to_evaluation_results_only_for_a_course_that_has_an_evaluation(
    app, make_user, login_as
):
    facilitator = make_user("facilitator")
    with_evaluation = schedule(app, facilitator)  # the flagship course has an [evaluation]
    without = schedule(app, facilitator, course="social-justice-training")
    client = login_as(facilitator)
    for cohort_id, linked in ((with_evaluation, True), (without, False)):
        page = client.get(f"/facilitate/cohorts/{cohort_id}").get_data(as_text=True)
        assert (f"/facilitate/cohorts/{cohort_id}/evaluation" in page) is linked
        assert ("Session evaluation results" in page) is linked


def test_a_link_that_needs_the_sites_address_says_so_when_it_is_not_configured(app, make_user):
    """Without LMS_BASE_URL or SERVER_NAME no absolute link can be built (never from the Host
    header): the calendar file answers 503 with what to do, in the visitor's language."""
    cohort_id = schedule(app, make_user("facilitator"))
    app.config.update(SERVER_NAME=None, LMS_BASE_URL=None)
    client = app.test_client()
    response = client.get(f"/cohorts/{cohort_id}.ics", base_url="http://localhost")
    assert response.status_code == 503
    assert "LMS_BASE_URL" in response.get_data(as_text=True)
    spanish = client.get(
        f"/cohorts/{cohort_id}.ics", base_url="http://localhost", headers={"Accept-Language": "es"}
    )
    assert spanish.status_code == 503 and "Avisa a quien administra" in spanish.get_data(
        as_text=True
    )
