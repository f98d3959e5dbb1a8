"""Two requests of one learner at the same moment, as browsers send them: the player's pagehide
report while its last report is still under way, a reflection's autosave still under way when
the form is submitted, a reading's link clicked twice. ``python -m bench.load`` found each of
these answering 500 or losing what was sent.

Each test makes the race happen every time: the first request runs in this thread and, as soon
as it has read the row it is about to change, the second request runs in another thread and is
given half a second to finish before the first goes on. Without a lock the second finishes in
that window and the first then writes over it (or inserts the same row again); with the
enrollment locked the second waits until the first has committed, then reads what it wrote.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from lms.learning.models import Reflection, ReflectionStatus, StepProgress
from tests.helpers import login
from tests.helpers.cohorts import client_for, enrollment_of, hold_session, register, schedule
from tests.helpers.learning import FORTY_WORDS, SELF_PACED, post_segments, start, submit

SECOND_REQUEST_HEAD_START = 0.5  # seconds; the second request needs a few milliseconds


@contextmanager
def second_request_after_first_reads(
    app, table: str, second: Callable[[], Any]
) -> Iterator[dict[str, Any]]:
    """While the block runs (the first request, in this thread), run ``second`` in another thread
    right after this thread's first SELECT from ``table``; ``result["second"]`` is its return."""
    engine = app.extensions["lms"].database.engine
    first_thread = threading.get_ident()
    result: dict[str, Any] = {}
    started: list[threading.Thread] = []

    def run_second() -> None:
        result["second"] = second()

    def after_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        if started or threading.get_ident() != first_thread:
            return
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
            thread = threading.Thread(target=run_second)
            started.append(thread)
            thread.start()
            thread.join(SECOND_REQUEST_HEAD_START)  # done by now, unless it waits for our lock

    event.listen(engine, "after_cursor_execute", after_execute)
    try:
        yield result
    finally:
        event.remove(engine, "after_cursor_execute", after_execute)
        for thread in started:
            thread.join(30)
    assert started, f"the first request never read {table}"


@pytest.fixture
def second_client(app, learner):
    """The same learner in another tab: the same person, a request of its own."""
    client = app.test_client()
    login(client, learner)
    return client


def test_two_reports_of_played_time_at_once_both_count(app, learner_client, second_client, in_db):
    enrollment_id = start(learner_client)
    assert post_segments(learner_client, enrollment_id, [[0, 10]]).status_code == 200

    with second_request_after_first_reads(
        app, "lms_step_progress", lambda: post_segments(second_client, enrollment_id, [[20, 30]])
    ) as result:
        first = post_segments(learner_client, enrollment_id, [[10, 20]])

    assert first.status_code == 200 and result["second"].status_code == 200
    with in_db() as db:
        row = db.scalar(
            select(StepProgress).where(
                StepProgress.enrollment_id == enrollment_id, StepProgress.step_id == "recording"
            )
        )
        assert row.segments == "[[0.0, 30.0]]"  # nothing played was lost
        assert row.fraction == 1.0


def test_a_reading_opened_twice_at_once_is_recorded_once(app, learner_client, second_client, in_db):
    enrollment_id = start(learner_client, SELF_PACED, "self_paced")
    url = f"/learn/{enrollment_id}/reading-1"

    with second_request_after_first_reads(
        app, "lms_step_progress", lambda: second_client.get(url)
    ) as result:
        first = learner_client.get(url)

    assert first.status_code == 200 and result["second"].status_code == 200
    with in_db() as db:
        count = db.scalar(
            select(func.count())
            .select_from(StepProgress)
            .where(StepProgress.enrollment_id == enrollment_id)
        )
        assert count == 1


@pytest.mark.parametrize("draft_saved_before", [False, True], ids=["first-words", "draft-exists"])
def test_an_autosave_under_way_never_replaces_the_submitted_text(
    app, learner_client, second_client, in_db, draft_saved_before
):
    enrollment_id = start(learner_client)
    url = f"/learn/{enrollment_id}/outcome-1/reflection"
    if draft_saved_before:
        assert (
            learner_client.post(f"{url}/draft", json={"body": "A first thought"}).status_code == 200
        )
    earlier_text = " ".join(
        FORTY_WORDS.split()[:-5]
    )  # what the autosave carries: typed two seconds before the click

    def submit():
        return second_client.post(url, data={"body": FORTY_WORDS, "submit": "Submit"})

    with second_request_after_first_reads(app, "lms_reflection", submit) as result:
        autosave = learner_client.post(f"{url}/draft", json={"body": earlier_text})

    assert autosave.status_code == 200, autosave.get_data(as_text=True)[:300]
    assert result["second"].status_code == 303
    with in_db() as db:
        reflection = db.scalar(
            select(Reflection).where(
                Reflection.enrollment_id == enrollment_id, Reflection.prompt_id == "outcome-1"
            )
        )
        assert reflection.status is ReflectionStatus.submitted
        assert reflection.body == FORTY_WORDS


def test_a_roster_saved_while_a_learner_holds_their_enrollment_waits_and_both_succeed(
    app, make_user, in_db
):
    """The interleaving that once deadlocked on PostgreSQL: the facilitator's roster save
    locks the enrollments in id order, and reaches a learner who holds their own enrollment
    while submitting a reflection. The save waits for that one lock; the learner's request
    needs no lock the save holds (no counter row is updated any more), so it commits, and then
    the save goes on and completes the enrollment with everything the learner sent."""
    from lms.cohorts.models import Attendance, AttendanceStatus
    from lms.learning.models import Enrollment, EnrollmentStatus

    facilitator, before, writer = make_user("facilitator"), make_user(), make_user()
    cohort_id = schedule(app, facilitator)
    register(app, before, cohort_id)  # a lower id: the save locks this one first
    register(app, writer, cohort_id)
    hold_session(app, cohort_id)  # attendance follows the clock: the session has taken place
    ids = [enrollment_of(app, person, cohort_id).id for person in (before, writer)]
    assert ids[0] < ids[1]
    writer_client = client_for(app, writer)
    for step in ("outcome-1", "outcome-2"):
        assert submit(writer_client, ids[1], step, FORTY_WORDS)().status_code == 303
    roster = {
        key: value
        for enrollment_id in ids
        for key, value in (
            (f"status_{enrollment_id}", "present"),
            (f"minutes_{enrollment_id}", "60"),
        )
    }
    facilitator_client = client_for(app, facilitator)

    def save_roster():
        return facilitator_client.post(f"/facilitate/cohorts/{cohort_id}/attendance", data=roster)

    with second_request_after_first_reads(app, "lms_reflection", save_roster) as result:
        first = submit(writer_client, ids[1], "outcome-3", FORTY_WORDS)()

    assert first.status_code == 303 and result["second"].status_code == 303
    with in_db() as db:
        for enrollment_id in ids:
            attendance = db.scalar(
                select(Attendance).where(Attendance.enrollment_id == enrollment_id)
            )
            assert (attendance.status, attendance.minutes) == (AttendanceStatus.present, 60)
        assert db.get(Enrollment, ids[1]).status is EnrollmentStatus.completed
