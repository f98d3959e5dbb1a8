"""Reset and registration answer the same for an address with an account and one without: the
same status, page and work, and no mail before the answer.

Nothing here times a request (a ratio of timings fails on a loaded machine). What made the two
paths differ in time is checked as it is: the relay is only reached once the answer is back (a
page that mailed before answering waits on the relay here and is caught), and both paths do
the same work while answering: the same number of SQL statements for a reset, one password
hash each and one mail job each.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select

import lms.accounts.models
import lms.accounts.services
import lms.mail
from lms.jobs import wait_for_jobs
from lms.jobs.models import Job

RELAY_WAIT_SECONDS = 10  # how long the relay waits for the answer before it gives up on it


class Relay:
    """An SMTP relay that answers only once the test has its page: it notes, for each message,
    whether the answer was already back when the relay was reached."""

    def __init__(self) -> None:
        self.answered = threading.Event()
        self.messages: list[tuple[str, bool]] = []

    def smtp(self, host, port, timeout):
        relay = self
        answered_before = self.answered.wait(RELAY_WAIT_SECONDS)

        class Conversation:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def send_message(self, message):
                relay.messages.append((message["To"], answered_before))

        return Conversation()


@pytest.fixture
def relay(app, monkeypatch):
    relay = Relay()
    monkeypatch.setattr(lms.mail.smtplib, "SMTP", relay.smtp)
    app.config.update(LMS_MAIL_BACKEND="smtp", LMS_SMTP_HOST="relay.example.org")
    return relay


@pytest.fixture
def work(app, monkeypatch):
    """What a request does while it answers: SQL statements, password hashes, mail jobs."""
    engine = app.extensions["lms"].database.engine
    counts = {"statements": 0, "hashes": 0}

    answering = threading.get_ident()  # the test client answers in this thread

    def statement(_conn, _cursor, sql, *_args):
        # The request's own statements: not those of the mail job the commit hands to another
        # thread, nor the catalog's periodic look for a newer sync, which any request may make.
        if threading.get_ident() == answering and "lms_course.synced_at" not in sql:
            counts["statements"] += 1

    def counted_hash(real):
        def hashed(password, *args, **kwargs):
            counts["hashes"] += 1
            return real(password, *args, **kwargs)

        return hashed

    for module in (lms.accounts.models, lms.accounts.services):
        monkeypatch.setattr(
            module, "generate_password_hash", counted_hash(module.generate_password_hash)
        )

    def jobs() -> int:
        with app.app_context():
            from lms.db import db_session

            return db_session.scalar(select(func.count(Job.id)))

    def measure(client, url, data):
        wait_for_jobs(app)  # earlier mail is out of the way
        before_jobs = jobs()
        counts.update(statements=0, hashes=0)
        event.listen(engine, "before_cursor_execute", statement)
        try:
            response = client.post(url, data=data)
        finally:
            event.remove(engine, "before_cursor_execute", statement)
        done = dict(counts, jobs=jobs() - before_jobs)
        return response, done

    return measure


def _answered(relay, response):
    assert response.status_code == 303
    relay.answered.set()  # the page is back: the relay may now take the message


def _same_answers(app, url, forms):
    """Status, redirect and the page it leads to are the same, the typed address aside (each
    asked by a new visitor, so no earlier message waits in the session)."""
    shapes = set()
    for form in forms:
        client = app.test_client()
        response = client.post(url, data=form)
        follow = client.get(response.headers["Location"]).get_data(as_text=True)
        shapes.add(
            (
                response.status_code,
                response.headers["Location"],
                response.get_data(as_text=True),
                follow.replace(form["email"], "ADDRESS"),
            )
        )
    assert len(shapes) == 1, f"the answers differ: {shapes}"


def test_a_reset_request_answers_the_same_whether_or_not_the_address_has_an_account(
    app, client, make_user, relay, work
):
    make_user(email="known@example.org")
    done = {}
    for address in ("known@example.org", "unknown@example.org", "known@example.org"):
        response, done[address] = work(client, "/auth/reset", {"email": address})
        _answered(relay, response)
        wait_for_jobs(app)
        relay.answered.clear()
    assert done["known@example.org"] == done["unknown@example.org"], done
    assert done["known@example.org"]["jobs"] == 1
    assert relay.messages == [("known@example.org", True)] * 2, "mailed after the answer"
    relay.answered.set()
    _same_answers(app, "/auth/reset", [{"email": "known@example.org"}, {"email": "x@example.org"}])


def test_registration_answers_the_same_for_a_new_address_and_one_with_an_account(
    app, client, make_user, relay, work
):
    make_user(email="owner@example.org")

    def form(address):
        return {
            "display_name": "Someone",
            "email": address,
            "password": "a long enough password",
            "confirm": "a long enough password",
        }

    done = {}
    for kind, address in (("existing", "owner@example.org"), ("new", "newcomer@example.org")):
        response, done[kind] = work(client, "/auth/register", form(address))
        _answered(relay, response)
        wait_for_jobs(app)
        relay.answered.clear()
    # A new account writes its row; what costs time is the same on both paths.
    for kind in done:
        assert done[kind]["hashes"] == 1, (kind, done)
        assert done[kind]["jobs"] == 1, (kind, done)
    assert sorted(relay.messages) == [("newcomer@example.org", True), ("owner@example.org", True)]
    relay.answered.set()
    _same_answers(app, "/auth/register", [form("owner@example.org"), form("one.more@example.org")])
