"""Registration, waitlist and the race for the last seat (real threads, real database file)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.helpers import csrf_token_in
from tests.helpers.cohorts import (
    client_for,
    cohort_form,
    enrollment_of,
    register,
    schedule,
    set_attendance,
)


def _statuses(app, cohort_id):
    from lms.db import db_session
    from lms.learning.models import Enrollment

    with app.app_context():
        return {
            e.user_id: str(e.status)
            for e in db_session.scalars(select(Enrollment).where(Enrollment.cohort_id == cohort_id))
        }


def test_two_learners_racing_for_the_last_seat_do_not_both_get_it(app, make_user):
    facilitator = make_user("facilitator")
    for round_ in range(3):
        cohort_id = schedule(app, facilitator, capacity=1)
        racers = [make_user(), make_user()]
        clients = [client_for(app, user) for user in racers]
        barrier = threading.Barrier(len(clients))
        codes: list[int] = []

        def go(client, barrier=barrier, codes=codes, cohort_id=cohort_id):
            barrier.wait()
            codes.append(client.post(f"/cohorts/{cohort_id}/register").status_code)

        threads = [threading.Thread(target=go, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert codes == [303, 303]
        assert sorted(_statuses(app, cohort_id).values()) == ["registered", "waitlisted"], round_


def test_waitlist_moves_up_in_order_when_capacity_grows(app, make_user, login_as):
    from lms.audit.models import AuditEvent
    from lms.db import db_session

    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator, capacity=1)
    people = [make_user() for _ in range(4)]
    assert [register(app, p, cohort_id) for p in people] == [
        "registered",
        "waitlisted",
        "waitlisted",
        "waitlisted",
    ]
    client = login_as(facilitator)
    form = client.get(f"/facilitate/cohorts/{cohort_id}/edit")
    assert form.status_code == 200

    with app.test_request_context():
        from lms.cohorts import clock, services

        cohort = services.get_cohort(cohort_id)
        local = clock.cohort_local_start(cohort)
    data = cohort_form(
        facilitator.email, capacity=3, start_date=local.date().isoformat(), title="A live session"
    )
    response = client.post(f"/facilitate/cohorts/{cohort_id}/edit", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    statuses = _statuses(app, cohort_id)
    assert [statuses[p.id] for p in people] == [
        "registered",
        "registered",
        "registered",
        "waitlisted",
    ]
    with app.app_context():
        events = db_session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "cohort.waitlist_promoted")
            .order_by(AuditEvent.id)
        ).all()
        assert [e.details["user_id"] for e in events] == [people[1].id, people[2].id]
        assert all(e.actor_id is None and e.details["automatic"] for e in events)
        assert (
            db_session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "cohort.updated")
            )
            == 1
        )


def test_reregistering_after_withdrawal_goes_to_the_back_of_the_queue(app, make_user):
    from lms.accounts.models import User
    from lms.cohorts import registration, services
    from lms.db import db_session

    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator, capacity=1)
    a, b, c = make_user(), make_user(), make_user()
    for p in (a, b, c):
        register(app, p, cohort_id)
    with app.test_request_context():
        registration.withdraw(db_session.get(User, b.id), services.get_cohort(cohort_id))
        db_session.commit()
    assert register(app, b, cohort_id) == "waitlisted"
    with app.test_request_context():
        registration.withdraw(db_session.get(User, a.id), services.get_cohort(cohort_id))
        db_session.commit()
    statuses = _statuses(app, cohort_id)
    assert statuses[c.id] == "registered" and statuses[b.id] == "waitlisted"


def test_registration_window_and_status(app, make_user, login_as):
    from lms.accounts.models import User
    from lms.cohorts import registration, services
    from lms.cohorts.services import CohortError
    from lms.db import db_session, utcnow

    facilitator = make_user("facilitator")
    learner = make_user()
    not_yet = schedule(app, facilitator, registration_opens_at=utcnow() + timedelta(days=1))
    closed = schedule(
        app,
        facilitator,
        registration_closes_at=utcnow() - timedelta(hours=1),
        registration_opens_at=utcnow() - timedelta(days=2),
    )
    past = schedule(app, facilitator, starts_at=utcnow() - timedelta(hours=3))
    with app.test_request_context():
        user = db_session.get(User, learner.id)
        for cohort_id, message in ((not_yet, "not opened"), (closed, "closed"), (past, "closed")):
            with pytest.raises(CohortError, match=message):
                registration.register(user, services.get_cohort(cohort_id))
    client = login_as(learner)
    response = client.post(f"/cohorts/{not_yet}/register", follow_redirects=True)
    assert "Registration has not opened yet." in response.get_data(as_text=True)
    assert enrollment_of(app, learner, not_yet) is None


def test_withdrawing_after_attendance_is_refused(app, make_user, login_as):
    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = schedule(app, facilitator)
    register(app, learner, cohort_id)
    set_attendance(app, facilitator, enrollment_of(app, learner, cohort_id).id, "late", 10)
    response = login_as(learner).post(f"/cohorts/{cohort_id}/withdraw", follow_redirects=True)
    assert "cannot withdraw" in response.get_data(as_text=True)
    assert enrollment_of(app, learner, cohort_id).status == "registered"


def test_cancelled_cohort_shows_cancelled_to_registered_learners(app, make_user, login_as):
    from flask_login import login_user

    from lms.accounts.models import User
    from lms.cohorts.views.panels import my_cohorts_panel
    from lms.db import db_session

    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = schedule(app, facilitator)
    register(app, learner, cohort_id)
    client = client_for(app, facilitator)
    response = client.post(f"/facilitate/cohorts/{cohort_id}/cancel", data={"note": ""})
    assert response.status_code == 422 and "Say why" in response.get_data(as_text=True)
    response = client.post(
        f"/facilitate/cohorts/{cohort_id}/cancel",
        data={"note": "The facilitator is ill; we will reschedule."},
    )
    assert response.status_code == 303
    page = login_as(learner).get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    assert (
        "Cancelled" in page and "The facilitator is ill" in page and "Join the session" not in page
    )
    with app.test_request_context():
        from lms.accounts.services import start_sign_in

        person = db_session.get(User, learner.id)
        start_sign_in(person)
        login_user(person)
        panel = str(my_cohorts_panel())
    assert "Cancelled" in panel and f"/cohorts/{cohort_id}" in panel
    assert (
        login_as(make_user())
        .post(f"/cohorts/{cohort_id}/register", follow_redirects=True)
        .status_code
        == 200
    )
    assert "was cancelled" in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)


def test_register_needs_the_csrf_token_when_csrf_is_on(app, make_user, login_as):
    facilitator = make_user("facilitator")
    learner = make_user()
    cohort_id = schedule(app, facilitator)
    client = login_as(learner)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/cohorts/{cohort_id}/register").status_code == 400
    assert enrollment_of(app, learner, cohort_id) is None
    page = client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)
    token = csrf_token_in(page)
    assert (
        client.post(f"/cohorts/{cohort_id}/register", data={"csrf_token": token}).status_code == 303
    )
    assert enrollment_of(app, learner, cohort_id).status == "registered"
