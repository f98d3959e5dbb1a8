"""Pages that each worker keeps (lms.caching) under versions that a commit bumps afterwards
(lms.invalidation): a write made in another worker, another process or by the clock shows on
the next request; no write means no new work; the report (its totals and its rows)
lags by at most LMS_REPORT_TOTALS_SECONDS and says so, except for the person who just wrote."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from typing import Any

import pytest

from lms import create_app
from tests.helpers import REPO, TEST_PASSWORD, csrf_token_in, csrf_tokens_in, login
from tests.helpers.cohorts import (
    COURSE,
    client_for,
    enrollment_of,
    register,
    schedule,
    submit_reflections,
)
from tests.helpers.learning import post_segments, start
from tests.helpers.stores import PAGE_CACHE_REDIS_URL, page_cache_redis_available

COURSE_PAGE = f"/courses/{COURSE}"
REPORT = "/admin/reports/completions"


def calls_to(monkeypatch, module: Any, name: str) -> list[int]:
    """Count the calls to ``module.name`` (it still runs)."""
    real = getattr(module, name)
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def versions(app, *names: str) -> tuple[str, ...]:
    with app.app_context():
        found = app.extensions["lms"].page_cache.versions(names)
        assert found is not None
        return found


def test_the_dashboard_follows_writes_made_in_another_worker(
    app, store, other_worker, make_user, monkeypatch
):
    from lms.cohorts import registration, services
    from lms.db import db_session
    from lms.learning import dashboard

    facilitator = make_user("facilitator")
    seated, ahead, learner = make_user(), make_user(), make_user()
    cohort_id = schedule(app, facilitator, capacity=1, title="Evening session")
    for person in (seated, ahead, learner):
        register(app, person, cohort_id)
    client = client_for(app, learner)
    renders = calls_to(monkeypatch, dashboard, "dashboard_for")

    assert "Number 2 on the waitlist" in client.get("/me").get_data(as_text=True)
    assert "Number 2 on the waitlist" in client.get("/me").get_data(as_text=True)
    assert len(renders) == 1, "nothing changed: the second visit is served from memory"

    # Someone ahead on the waitlist leaves, in the other worker: this learner moves up.
    with other_worker.test_request_context():
        registration.withdraw(db_session.get(type(ahead), ahead.id), services.get_cohort(cohort_id))
        db_session.commit()
    assert "Number 1 on the waitlist" in client.get("/me").get_data(as_text=True)

    # The facilitator renames the session.
    with other_worker.app_context():
        services.get_cohort(cohort_id).title = "Thursday dialogue"
        db_session.commit()
    assert "Thursday dialogue" in client.get("/me").get_data(as_text=True)

    # The learner's own records: reflections written elsewhere (another tab, another worker).
    assert "You have not written a reflection yet." in client.get("/me").get_data(as_text=True)
    submit_reflections(other_worker, enrollment_of(app, learner, cohort_id).id)
    assert "You have not written a reflection yet." not in client.get("/me").get_data(as_text=True)
    assert len(renders) == 4


def test_a_write_in_another_process_shows_on_the_next_page(app, make_user):
    """A CLI command or a second server process on the machine: it shares the instance
    folder's store, so its commit's bump reaches this process's kept dashboard."""
    facilitator, learner = make_user("facilitator"), make_user()
    cohort_id = schedule(app, facilitator, title="Before the command")
    register(app, learner, cohort_id)
    client = client_for(app, learner)
    assert "Before the command" in client.get("/me").get_data(as_text=True)

    script = (
        "from lms import create_app\n"
        "from lms.cohorts.services import get_cohort\n"
        "from lms.db import transaction\n"
        "app = create_app()\n"
        "with app.app_context(), transaction():\n"
        f"    get_cohort({cohort_id}).title = 'Renamed by another process'\n"
    )
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("LMS_")},
        "LMS_INSTANCE_PATH": app.instance_path,
        "LMS_DATABASE_URL": app.config["LMS_DATABASE_URL"],
        "LMS_COURSES_DIR": app.config["LMS_COURSES_DIR"],
        "SECRET_KEY": "another-process",
    }
    subprocess.run(
        [sys.executable, "-c", script], check=True, cwd=REPO, env=environment, timeout=120
    )
    assert "Renamed by another process" in client.get("/me").get_data(as_text=True)


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
        assert (
            browser.post(
                "/auth/login",
                data={
                    "email": first.email,
                    "password": "correct horse battery staple",
                    "csrf_token": token,
                },
            ).status_code
            == 303
        )
        tokens.append(set(csrf_tokens_in(browser.get("/me").get_data(as_text=True))))
    assert tokens[0] and tokens[1] and not tokens[0] & tokens[1]


def test_a_course_pages_sessions_follow_seats_taken_in_another_worker(
    app, store, client, other_worker, make_user, monkeypatch
):
    from lms.cohorts import registration

    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator, capacity=2, title="Morning session")
    counts = calls_to(monkeypatch, registration, "seat_counts")

    page = client.get(COURSE_PAGE).get_data(as_text=True)
    assert (
        "2 seats left" in page
        and "csrf_token" not in page.split("live-sessions-title")[1].split("</section>")[0]
    )
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


def test_a_course_pages_sessions_follow_the_clock(app, client, make_user, time_machine):
    """Kept until the next moment that changes the list: here, registration closing."""
    from lms.db import utcnow

    facilitator = make_user("facilitator")
    closes = utcnow() + timedelta(hours=2)
    schedule(app, facilitator, title="Closing soon", registration_closes_at=closes)
    assert "Registration for this session is closed." not in client.get(COURSE_PAGE).get_data(
        as_text=True
    )

    time_machine.move_to(closes + timedelta(minutes=1), tick=False)
    assert "Registration for this session is closed." in client.get(COURSE_PAGE).get_data(
        as_text=True
    )


def _total(client) -> int:
    return int(re.search(r'data-total="(\d+)"', client.get(REPORT).get_data(as_text=True)).group(1))


def test_the_report_lags_by_a_few_seconds_and_says_so_but_not_for_the_viewers_own_writes(
    app, store, other_worker, make_user, monkeypatch
):
    from lms.reports import queries

    admin, facilitator = make_user("admin"), make_user("facilitator")
    cohort_id = schedule(app, facilitator)
    register(app, make_user(), cohort_id)
    client = client_for(app, admin)
    elsewhere = client_for(other_worker, admin)  # signing in is a write of theirs: done first
    summaries = calls_to(monkeypatch, queries, "completion_summary")

    page = client.get(REPORT).get_data(as_text=True)
    assert 'data-total="1"' in page
    assert "counted again at most every 30 seconds" in page
    assert _total(client) == 1
    assert len(summaries) == 1, "counted once for both views"

    # Someone else's write, in the other worker: the report shows it within 30 s, rows and
    # totals alike, as the page says.
    newcomer = make_user(display_name="Zed Newcomer")
    register(other_worker, newcomer, cohort_id)
    page = client.get(REPORT).get_data(as_text=True)
    assert "Zed Newcomer" not in page and 'data-total="1"' in page

    # The other worker shares the counted totals too.
    assert _total(elsewhere) == 1
    assert len(summaries) == 1

    # The admin's own write: their next report counts again (read-your-writes).
    assert (
        client.post("/language", data={"locale": "es", "next": REPORT}).status_code == 303
    )  # their profile
    page = client.get(REPORT).get_data(as_text=True)
    assert 'data-total="2"' in page and "Zed Newcomer" in page
    assert len(summaries) == 2


def test_the_reports_totals_are_counted_on_every_request_when_no_lag_is_allowed(app, make_user):
    app.config["LMS_REPORT_TOTALS_SECONDS"] = 0
    admin, facilitator = make_user("admin"), make_user("facilitator")
    cohort_id = schedule(app, facilitator)
    client = client_for(app, admin)
    assert _total(client) == 0
    register(app, make_user(), cohort_id)
    page = client.get(REPORT).get_data(as_text=True)
    assert 'data-total="1"' in page and "counted again" not in page


def test_each_write_bumps_the_versions_of_what_it_changes_and_no_others(app, make_user, login_as):
    from lms.caching import course, person
    from lms.learning.models import Enrollment

    facilitator, learner, neighbour, bystander = (
        make_user("facilitator"),
        make_user(),
        make_user(),
        make_user(),
    )
    cohort_id = schedule(app, facilitator, capacity=1)
    register(app, neighbour, cohort_id)
    names = (
        person(learner.id),
        person(neighbour.id),
        person(facilitator.id),
        person(bystander.id),
        course(COURSE),
    )

    before = versions(app, *names)
    register(app, learner, cohort_id)  # waitlisted behind the neighbour: the seats and the waitlist
    after = versions(app, *names)
    assert after[0] != before[0], "the learner's dashboard"
    assert after[1] != before[1], "the cohort's members (their waitlist places)"
    assert after[2:4] == before[2:4], "nobody else's"
    assert after[4] != before[4], "the course's sessions"

    # Progress on a recording: the learner's dashboard, not the seats or anyone else's.

    client = login_as(learner)
    enrollment_id = start(client, COURSE, "recording")
    before = versions(app, *names)
    post_segments(client, enrollment_id, [[0, 5]])
    after = versions(app, *names)
    assert after[0] != before[0]
    assert after[1:] == before[1:]
    with app.app_context():
        from lms.db import db_session

        assert db_session.get(Enrollment, enrollment_id).status.value == "in_progress"


def test_versions_move_only_when_the_transaction_commits(app, make_user):
    """Before the commit a reader must still see the old version (else it could file records
    read before the commit under the new one); a rollback moves nothing."""
    from lms.accounts.models import User
    from lms.caching import course, person
    from lms.cohorts import registration, services
    from lms.db import db_session

    facilitator, learner, other = make_user("facilitator"), make_user(), make_user()
    cohort_id = schedule(app, facilitator)
    names = (person(learner.id), person(other.id), course(COURSE))

    start = versions(app, *names)
    with app.test_request_context():
        registration.register(db_session.get(User, learner.id), services.get_cohort(cohort_id))
        db_session.flush()
        assert versions(app, *names) == start, "flushed, not committed"
        db_session.rollback()
    assert versions(app, *names) == start, "rolled back: nothing to show"

    with app.test_request_context():
        with db_session.begin_nested():  # a savepoint released inside the transaction
            registration.register(db_session.get(User, learner.id), services.get_cohort(cohort_id))
        assert versions(app, *names) == start, "a released savepoint is not a commit"
        db_session.commit()
    moved = versions(app, *names)
    assert moved[0] != start[0] and moved[2] != start[2] and moved[1] == start[1]


def test_a_store_that_does_not_answer_serves_every_page_afresh(app, make_user, monkeypatch, caplog):
    from lms.cohorts import services
    from lms.db import db_session
    from lms.learning import dashboard

    facilitator, learner = make_user("facilitator"), make_user()
    cohort_id = schedule(app, facilitator, title="Seen while the store is down")
    register(app, learner, cohort_id)
    client = client_for(app, learner)
    client.get("/me")
    store = app.extensions["lms"].page_cache.store

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("the store is down")

    monkeypatch.setattr(store, "get_many", unreachable)
    monkeypatch.setattr(store, "set_many", unreachable)
    renders = calls_to(monkeypatch, dashboard, "dashboard_for")
    with app.app_context():
        services.get_cohort(cohort_id).title = "Renamed while the store is down"
        db_session.commit()  # the bump fails: logged, the commit stands
    page = client.get("/me").get_data(as_text=True)
    assert "Renamed while the store is down" in page
    client.get("/me")
    assert len(renders) == 2, "nothing is served from memory while the versions cannot be read"
    assert "did not answer" in caplog.text and "Could not bump" in caplog.text


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


def test_two_deployments_sharing_a_redis_database_do_not_share_totals(
    app_config, tmp_path, monkeypatch
):
    """The keys are named after the database: another deployment's report is never served."""
    if not page_cache_redis_available():
        pytest.skip(f"no Redis at {PAGE_CACHE_REDIS_URL}")
    from lms.caching import PageCache

    first = create_app({**app_config, "LMS_REDIS_URL": PAGE_CACHE_REDIS_URL})
    key = ("probe", uuid.uuid4().hex)
    with first.app_context():
        assert (
            first.extensions["lms"].page_cache.shared(key, lambda: "first", seconds=30)[0]
            == "first"
        )
        other = PageCache(first, "postgresql://elsewhere/another")
        assert other.shared(key, lambda: "second", seconds=30)[0] == "second"
    first.extensions["lms"].database.engine.dispose()


def test_signed_out_pages_carry_validators_and_answer_304_until_they_change(app, client, make_user):
    facilitator = make_user("facilitator")
    cohort_id = schedule(app, facilitator, capacity=3)
    first = client.get(COURSE_PAGE)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    assert first.cache_control.public and first.cache_control.no_cache
    assert {"cookie", "accept-language"} <= {value.lower() for value in first.vary}

    again = client.get(COURSE_PAGE, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""

    register(
        app, make_user(), cohort_id
    )  # a seat taken: the page is no longer what the cache holds
    changed = client.get(COURSE_PAGE, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "2 seats left" in changed.get_data(as_text=True)

    app.config["LMS_PUBLIC_PAGE_MAX_AGE"] = 60
    assert client.get("/").cache_control.max_age == 60


def test_pages_for_one_visitor_are_never_marked_public(app, client, make_user):
    # A message shown once changes the visitor's session: that answer is theirs alone.
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Shown to this visitor once")]
    flashed = client.get("/")
    assert "Shown to this visitor once" in flashed.get_data(as_text=True)
    assert "ETag" not in flashed.headers and not flashed.cache_control.public

    login(client, make_user())
    signed_in = client.get(COURSE_PAGE)
    assert (
        signed_in.status_code == 200
        and "ETag" not in signed_in.headers
        and not signed_in.cache_control.public
    )
    assert client.get(COURSE_PAGE, headers={"If-None-Match": "*"}).status_code == 200


# -- whole pages (lms.web.caching.kept_page) ----------------------------------------------------


def test_a_kept_signed_in_page_is_built_once_and_carries_each_sessions_own_working_token(
    app, make_user, monkeypatch
):
    from flask import templating

    app.config["WTF_CSRF_ENABLED"] = True
    learner = make_user(display_name="Ada Kept")
    browsers = []
    for _ in range(2):
        browser = app.test_client()
        token = csrf_token_in(browser.get("/auth/login").get_data(as_text=True))
        signed_in = browser.post(
            "/auth/login",
            data={"email": learner.email, "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert signed_in.status_code == 303
        browsers.append(browser)
    browsers[0].get("/me")  # built here, in this worker
    renders = calls_to(monkeypatch, templating, "_render")
    pages = [browser.get("/me").get_data(as_text=True) for browser in browsers]
    assert renders == [], "both browsers were served the kept page"
    assert all("Signed in as Ada Kept." in page for page in pages)
    first, second = (set(csrf_tokens_in(page)) for page in pages)
    assert len(first) == len(second) == 1 and first != second
    # The kept page's structure is the built one's: only the token differs.
    assert pages[0].replace(first.pop(), "T") == pages[1].replace(second.copy().pop(), "T")

    # Each token works for its own session only: the second browser signs out with its own.
    other_token = csrf_tokens_in(pages[0])[0]
    refused = browsers[1].post("/auth/logout", data={"csrf_token": other_token})
    assert refused.status_code == 400
    own_token = csrf_tokens_in(pages[1])[0]
    assert browsers[1].post("/auth/logout", data={"csrf_token": own_token}).status_code in (
        302,
        303,
    )
    assert browsers[1].get("/me").status_code == 302, "signed out: the kept page is not served"
    assert browsers[0].get("/me").status_code == 200


def test_a_kept_page_is_built_again_for_a_message_shown_once(app, make_user):
    client = client_for(app, make_user())
    client.get("/me")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Shown on the kept page once")]
    assert "Shown on the kept page once" in client.get("/me").get_data(as_text=True)
    assert "Shown on the kept page once" not in client.get("/me").get_data(as_text=True)
    assert "Shown on the kept page once" not in client.get("/").get_data(as_text=True)


def test_the_kept_catalog_follows_each_persons_header(app, store, other_worker, make_user):
    """Signed out, one catalog for everyone, with no token in it; signed in, the header names
    what the person may do, kept under their version: a role granted in another worker shows
    on their next page."""
    from lms.admin import services as admin
    from lms.db import db_session

    app.config["WTF_CSRF_ENABLED"] = True
    anonymous = app.test_client().get("/").get_data(as_text=True)
    assert csrf_tokens_in(anonymous) == [] and ">Sign in<" in anonymous
    app.config["WTF_CSRF_ENABLED"] = False  # the helpers sign in without a token
    admin_user, learner = make_user("admin"), make_user()
    for_admin = client_for(app, admin_user).get("/").get_data(as_text=True)
    learner_client = client_for(app, learner)
    for_learner = learner_client.get("/").get_data(as_text=True)
    assert ">Admin<" in for_admin and ">Admin<" not in for_learner
    assert app.test_client().get("/").get_data(as_text=True) == anonymous, "kept as it was"

    with other_worker.test_request_context():
        User = type(learner)
        admin.set_role(
            db_session.get(User, admin_user.id), db_session.get(User, learner.id), "admin", True
        )
        db_session.commit()
    assert ">Admin<" in learner_client.get("/").get_data(as_text=True)


def test_a_course_page_is_kept_whole_only_while_every_panel_keeps_its_parts(app, client):
    from lms.courses.presentation import register_course_panel

    app.config["LMS_PUBLIC_PAGE_MAX_AGE"] = 0
    visits = []

    def visit_counter(course) -> str:  # a host's panel that reads something on every request
        visits.append(1)
        return f"<p>Visit number {len(visits)}</p>"

    kept_page = client.get(COURSE_PAGE).get_data(as_text=True)
    assert client.get(COURSE_PAGE).get_data(as_text=True) == kept_page
    register_course_panel(app, visit_counter)
    assert "Visit number 1" in client.get(COURSE_PAGE).get_data(as_text=True)
    assert "Visit number 2" in client.get(COURSE_PAGE).get_data(as_text=True)
