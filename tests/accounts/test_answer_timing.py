"""Reset and registration answer the same for an address with an account and one without:
status, page, and time.

The time is compared between the two paths in the same test, over many interleaved tries, as
a ratio of medians, never against a clock figure. The relay is made slow (each message takes
``RELAY_SECONDS``): a page that sent its mail before answering would be slower by that much on
the path that mails, far outside the margin, as the reset page was before mail moved into jobs.
"""

from __future__ import annotations

import statistics
import time

import pytest

from lms.jobs import wait_for_jobs

RELAY_SECONDS = 0.08
TRIES = 25
REGISTRATION_TRIES = 12  # each hashes a password (scrypt): fewer tries, each much longer
MARGIN = 1.5  # the slower path's median may be at most this many times the faster one's


@pytest.fixture
def slow_relay(app, monkeypatch):
    sent = []

    class SlowSMTP:
        def __init__(self, host, port, timeout):
            time.sleep(RELAY_SECONDS)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message["To"])

    import lms.mail

    monkeypatch.setattr(lms.mail.smtplib, "SMTP", SlowSMTP)
    app.config.update(LMS_MAIL_BACKEND="smtp", LMS_SMTP_HOST="relay.example.org")
    return sent


def _timed(app, client, url, data):
    wait_for_jobs(app)  # earlier tries' mail is out of the way: only the answer is timed
    start = time.perf_counter()
    response = client.post(url, data=data)
    return time.perf_counter() - start, response


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


def alternately(paths, n):
    """The two paths, in turn first: the request after one that mails runs while that mail's
    job winds down in its thread, so each path takes that place as often as the other."""
    paths = list(paths)
    return paths if n % 2 == 0 else paths[::-1]


def _close(times_a, times_b):
    a, b = statistics.median(times_a), statistics.median(times_b)
    assert max(a, b) <= MARGIN * min(a, b), (
        f"medians {a * 1000:.1f} ms and {b * 1000:.1f} ms differ by more than {MARGIN}x"
    )


def test_a_reset_request_answers_the_same_whether_or_not_the_address_has_an_account(
    app, client, make_user, slow_relay
):
    make_user(email="known@example.org")
    times = {"known@example.org": [], "unknown@example.org": []}
    for n in range(TRIES):
        for address in alternately(times, n):
            elapsed, response = _timed(app, client, "/auth/reset", {"email": address})
            assert response.status_code == 303
            times[address].append(elapsed)
    wait_for_jobs(app)
    assert slow_relay == ["known@example.org"] * TRIES  # the mail did go out, after the answers
    _same_answers(app, "/auth/reset", [{"email": address} for address in times])
    _close(times["known@example.org"], times["unknown@example.org"])


def test_registration_answers_the_same_for_a_new_address_and_one_with_an_account(
    app, client, make_user, slow_relay
):
    make_user(email="owner@example.org")
    times = {"existing": [], "new": []}

    def form(address):
        return {
            "display_name": "Someone",
            "email": address,
            "password": "a long enough password",
            "confirm": "a long enough password",
        }

    for n in range(REGISTRATION_TRIES):
        for kind in alternately(times, n):
            elapsed, response = _timed(
                app,
                client,
                "/auth/register",
                form("owner@example.org" if kind == "existing" else f"newcomer{n}@example.org"),
            )
            assert response.status_code == 303
            times[kind].append(elapsed)
    wait_for_jobs(app)
    assert sorted(set(slow_relay)) == sorted(
        {"owner@example.org", *(f"newcomer{n}@example.org" for n in range(REGISTRATION_TRIES))}
    )
    _same_answers(app, "/auth/register", [form("owner@example.org"), form("one.more@example.org")])
    _close(times["existing"], times["new"])
