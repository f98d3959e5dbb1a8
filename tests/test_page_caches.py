"""Pages that each worker keeps (lms.caching) under the change stamps of what they show
(lms.stamps): a write made in another worker, or by the clock, shows on the next request; no
write means no new work."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from lms import create_app
from tests.cohorts.helpers import COURSE, client_for, enrollment_of, register, schedule, submit_reflections
from tests.conftest import csrf_token_in, csrf_tokens_in, login

COURSE_PAGE = f"/courses/{COURSE}"
REPORT = "/admin/reports/completions"


@pytest.fixture
def other_worker(app_config: dict[str, Any], tmp_path, monkeypatch):
    """A second app on the same database: another gunicorn worker, with its own memory."""
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "other-instance"))
    worker = create_app(app_config)
    yield worker
    worker.extensions["lms"].database.engine.dispose()


def calls_to(monkeypatch, module: Any, name: str) -> list[int]:
    """Count the calls to ``module.name`` (it still runs)."""
    real = getattr(module, name)
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def stamps(app) -> dict[str, Any]:
    from lms.accounts.models import User
    from lms.courses.models import Course
    from lms.db import db_session
    from lms.stamps import read_completions

    with app.app_context():
        return {
            "users": dict(db_session.execute(select(User.email, User.records_version)).all()),
            "course": db_session.scalar(select(Course.sessions_version).where(Course.slug == COURSE)),
            "completions": read_completions(),
        }


def test_the_dashboard_follows_writes_made_in_another_worker(app, other_worker, make_user, monkeypatch):
    from lms.cohorts import services as cohort_services
    from lms.db import db_session
    from lms.learning import services as learning_services

    facilitator = make_user("facilitator")
    seated, ahead, learner = make_user(), make_user(), make_user()
    cohort_id = schedule(app, facilitator, capacity=1, title="Evening session")
    for person in (seated, ahead, learner):
        register(app, person, cohort_id)
    client = client_for(app, learner)
    renders = calls_to(monkeypatch, learning_services, "dashboard_for")

    assert "Number 2 on the waitlist" in client.get("/me").get_data(as_text=True)
    assert "Number 2 on the waitlist" in client.get("/me").get_data(as_text=True)
    assert len(renders) == 1, "nothing changed: the second visit is served from memory"

    # Someone ahead on the waitlist leaves, in the other worker: this learner moves up.
    with other_worker.test_request_context():
        cohort_services.withdraw(db_session.get(type(ahead), ahead.id), cohort_services.get_cohort(cohort_id))
        db_session.commit()
    assert "Number 1 on the waitlist" in client.get("/me").get_data(as_text=True)

    # The facilitator renames the session.
    with other_worker.app_context():
        cohort_services.get_cohort(cohort_id).title = "Thursday dialogue"
        db_session.commit()
    assert "Thursday dialogue" in client.get("/me").get_data(as_text=True)

    # The learner's own records: reflections written elsewhere (another tab, another worker).
    assert "You have not written a reflection yet." in client.get("/me").get_data(as_text=True)
    submit_reflections(other_worker, enrollment_of(app, learner, cohort_id).id)
    assert "You have not written a reflection yet." not in client.get("/me").get_data(as_text=True)
    assert len(renders) == 4


def test_the_dashboard_is_never_shared_between_people_or_sessions(app, make_user):
    first, second = make_user(display_name="Ada First"), make_user(display_name="Bo Second")
    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator, title="Only for Ada")
    register(app, first, cohort_id)
    assert "Only for Ada" in client_for(app, first).get("/me").get_data(as_text=True)
    page = client_for(app, second).get("/me").get_data(as_text=True)
    assert "Only for Ada" not in page and "Bo Second" in page

    # Two browsers of one person: each page carries its own session's CSRF token.
    app.config["WTF_CSRF_ENABLED"] = True
    tokens = []
    for _ in range(2):
        browser = app.test_client()
        login_page = browser.get("/auth/login").get_data(as_text=True)
        token = csrf_token_in(login_page)
        assert browser.post("/auth/login", data={"email": first.email, "password": "correct horse battery staple", "csrf_token": token}).status_code == 303
        tokens.append(set(csrf_tokens_in(browser.get("/me").get_data(as_text=True))))
    assert tokens[0] and tokens[1] and not tokens[0] & tokens[1]


def test_a_course_pages_sessions_follow_seats_taken_in_another_worker(app, client, other_worker, make_user, monkeypatch):
    from lms.cohorts import services as cohort_services

    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator, capacity=2, title="Morning session")
    counts = calls_to(monkeypatch, cohort_services, "seat_counts")

    page = client.get(COURSE_PAGE).get_data(as_text=True)
    assert "2 seats left" in page and "csrf_token" not in page.split("live-sessions-title")[1].split("</section>")[0]
    client.get(COURSE_PAGE)
    assert len(counts) == 1, "no seat changed: the second visitor is served from memory"

    register(other_worker, make_user(), cohort_id)
    assert "1 seat left" in client.get(COURSE_PAGE).get_data(as_text=True)

    schedule(other_worker, facilitator, title="A session added elsewhere")
    assert "A session added elsewhere" in client.get(COURSE_PAGE).get_data(as_text=True)

    # Signed in, the list is the person's own (their registration, a form with their token).
    learner = make_user()
    register(app, learner, cohort_id)
    login(client, learner)
    mine = client.get(COURSE_PAGE).get_data(as_text=True)
    assert "Registered" in mine and "Sign in to register" not in mine


def test_a_course_pages_sessions_follow_the_clock(app, client, make_user, monkeypatch):
    """Kept until the next moment that changes the list: here, registration closing."""
    import lms.caching
    import lms.cohorts.services
    import lms.cohorts.views
    from lms.db import utcnow

    facilitator = make_user("facilitator")
    closes = utcnow() + timedelta(hours=2)
    schedule(app, facilitator, title="Closing soon", registration_closes_at=closes)
    assert "Registration for this session is closed." not in client.get(COURSE_PAGE).get_data(as_text=True)

    later = closes + timedelta(minutes=1)
    for module in (lms.caching, lms.cohorts.services, lms.cohorts.views):
        monkeypatch.setattr(module, "utcnow", lambda: later)
    assert "Registration for this session is closed." in client.get(COURSE_PAGE).get_data(as_text=True)


def test_the_report_counts_once_until_something_it_shows_changes(app, other_worker, make_user, monkeypatch):
    from lms.reports import queries

    admin, facilitator = make_user("admin"), make_user("facilitator")
    cohort_id = schedule(app, facilitator)
    register(app, make_user(), cohort_id)
    client = client_for(app, admin)
    summaries = calls_to(monkeypatch, queries, "completion_summary")

    def total() -> int:
        return int(re.search(r'data-total="(\d+)"', client.get(REPORT).get_data(as_text=True)).group(1))

    assert total() == 1
    assert total() == 1
    assert len(summaries) == 1

    learner = make_user(display_name="Zed Newcomer")
    register(other_worker, learner, cohort_id)
    assert total() == 2

    # A learner renamed in the other worker shows under the new name.
    from lms.accounts.models import User
    from lms.db import db_session

    with other_worker.app_context():
        db_session.get(User, learner.id).display_name = "Zed Renamed"
        db_session.commit()
    assert "Zed Renamed" in client.get(REPORT).get_data(as_text=True)
    assert len(summaries) == 3


def test_each_write_bumps_the_stamps_of_what_it_changes_and_no_others(app, make_user, login_as):
    from lms.learning.models import Enrollment

    facilitator, learner, neighbour = make_user("facilitator"), make_user(), make_user()
    cohort_id = schedule(app, facilitator, capacity=1)
    register(app, neighbour, cohort_id)

    before = stamps(app)
    register(app, learner, cohort_id)  # waitlisted behind the neighbour
    after = stamps(app)
    assert after["users"][learner.email] > before["users"][learner.email]
    assert after["users"][neighbour.email] > before["users"][neighbour.email], "the cohort's members"
    assert after["users"][facilitator.email] == before["users"][facilitator.email]
    assert after["course"] > before["course"] and after["completions"] > before["completions"]

    # Signing in writes the person's row, which no report shows.
    before = stamps(app)
    login_as(learner)
    assert stamps(app) == before

    # Progress on a recording: the learner's dashboard, not the report's counts or the seats.
    from tests.learning.conftest import post_segments, start

    client = login_as(learner)
    enrollment_id = start(client, COURSE, "recording")
    before = stamps(app)
    post_segments(client, enrollment_id, [[0, 5]])
    after = stamps(app)
    assert after["users"][learner.email] > before["users"][learner.email]
    assert after["users"][neighbour.email] == before["users"][neighbour.email]
    assert (after["course"], after["completions"]) == (before["course"], before["completions"])
    with app.app_context():
        from lms.db import db_session

        assert db_session.get(Enrollment, enrollment_id).status.value == "in_progress"


def test_deleting_an_account_frees_its_seat_on_the_kept_pages(app, client, make_user):
    facilitator, leaving = make_user("facilitator"), make_user()
    cohort_id = schedule(app, facilitator, capacity=2)
    register(app, leaving, cohort_id)
    assert "1 seat left" in client.get(COURSE_PAGE).get_data(as_text=True)

    from lms.accounts.models import User
    from lms.accounts.services import delete_account
    from lms.db import db_session

    with app.test_request_context():
        delete_account(db_session.get(User, leaving.id), "correct horse battery staple")
        db_session.commit()
    assert "2 seats left" in client.get(COURSE_PAGE).get_data(as_text=True)


def test_a_stamp_reads_the_same_with_or_without_the_requests_session(app):
    from sqlalchemy import update

    from lms.cohorts.views import _SESSIONS_STAMP
    from lms.courses.models import Course
    from lms.db import db_session, get_session, read_stamp
    from lms.stamps import read_completions

    with app.app_context():
        db_session.execute(update(Course).where(Course.slug == COURSE).values(sessions_version=41))
        db_session.commit()
    with app.test_request_context():  # no session yet: a driver connection of its own
        assert read_stamp(_SESSIONS_STAMP, {"slug": COURSE}) == 41
        assert read_stamp(_SESSIONS_STAMP, {"slug": "no-such-course"}) is None
        assert read_completions() is not None
        get_session()
        assert read_stamp(_SESSIONS_STAMP, {"slug": COURSE}) == 41  # on the open session
