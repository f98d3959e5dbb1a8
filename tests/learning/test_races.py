"""A learner's writes at the same moment (two tabs, autosave racing a submit) end consistent.

Real threads, each with its own test client (its own session cookie and database connection),
through the real HTTP endpoints, against a real database file (SQLite, one per test) or
PostgreSQL. A barrier starts the requests together; each scenario runs a few rounds on fresh
records, because a race need not show in every round. In tests an exception in a view propagates
to the thread, so a 500 shows as the exception itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import select

from lms.learning.models import (
    Enrollment,
    EnrollmentStatus,
    Reflection,
    ReflectionStatus,
    StepProgress,
)
from lms.learning.progress import count_words, load_segments
from tests.helpers.cohorts import (
    client_for,
    enrollment_of,
    hold_session,
    register,
    schedule,
    set_attendance,
)
from tests.helpers.learning import FORTY_WORDS, post_segments, start, submit

ROUNDS = 4


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released together; their results in order, or the first error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    if errors:
        raise errors[0]
    return results


def tabs(app, learner, count: int) -> list[Any]:
    """``count`` signed-in clients of one learner: their tabs or devices."""
    return [client_for(app, learner) for _ in range(count)]


def reflections(in_db, enrollment_id: int, step: str) -> list[Reflection]:
    with in_db() as db:
        rows = list(
            db.scalars(
                select(Reflection).where(
                    Reflection.enrollment_id == enrollment_id, Reflection.prompt_id == step
                )
            )
        )
        for row in rows:
            db.expunge(row)
        return rows


def draft(client, enrollment_id: int, step: str, body: str) -> Callable[[], Any]:
    return lambda: client.post(
        f"/learn/{enrollment_id}/{step}/reflection/draft", json={"body": body}
    )


def test_first_drafts_from_three_tabs_at_once_make_one_reflection(app, make_user, in_db):
    for round_ in range(ROUNDS):
        learner = make_user()
        clients = tabs(app, learner, 3)
        enrollment_id = start(clients[0])
        bodies = [f"Tab {n} was here first: {'words ' * n}" for n in range(3)]
        responses = race(
            [
                draft(c, enrollment_id, "outcome-1", body)
                for c, body in zip(clients, bodies, strict=True)
            ]
        )
        assert [r.status_code for r in responses] == [200, 200, 200], round_
        assert all(r.get_json()["saved"] for r in responses), round_
        rows = reflections(in_db, enrollment_id, "outcome-1")
        assert len(rows) == 1, round_
        assert rows[0].status is ReflectionStatus.draft and rows[0].body in bodies, round_
        assert rows[0].word_count == count_words(rows[0].body), "the count belongs to the body kept"


def test_a_submit_racing_autosaves_stays_submitted(app, make_user, in_db):
    """The service's rule: a draft never changes a submitted reflection, in whichever order they land."""
    for round_ in range(ROUNDS):
        learner = make_user()
        clients = tabs(app, learner, 3)
        enrollment_id = start(clients[0])
        if round_ % 2:  # half the rounds start from a saved draft, half from nothing
            assert (
                clients[0]
                .post(
                    f"/learn/{enrollment_id}/outcome-2/reflection/draft",
                    json={"body": "an early draft"},
                )
                .status_code
                == 200
            )
        submitted = FORTY_WORDS + f" Submitted in round {round_}."
        responses = race(
            [
                submit(clients[0], enrollment_id, "outcome-2", submitted, shared=True),
                draft(clients[1], enrollment_id, "outcome-2", "an autosave from another tab"),
                draft(clients[2], enrollment_id, "outcome-2", "a later autosave, still typing"),
            ]
        )
        assert [r.status_code for r in responses] == [303, 200, 200], round_
        rows = reflections(in_db, enrollment_id, "outcome-2")
        assert len(rows) == 1, round_
        row = rows[0]
        assert (row.status, row.body, row.word_count, row.shared_with_facilitator) == (
            ReflectionStatus.submitted,
            submitted,
            count_words(submitted),
            True,
        ), round_
        assert row.submitted_at is not None
        for response in responses[1:]:  # each autosave says truthfully whether it was kept
            result = response.get_json()
            assert result["status"] == ("draft" if result["saved"] else "submitted"), (
                round_,
                result,
            )


def test_two_submits_of_one_reflection_at_once_keep_one_of_them_whole(app, make_user, in_db):
    for round_ in range(ROUNDS):
        learner = make_user()
        clients = tabs(app, learner, 2)
        enrollment_id = start(clients[0])
        texts = [FORTY_WORDS + " First tab.", FORTY_WORDS + " Second tab, a little longer."]
        responses = race(
            [
                submit(c, enrollment_id, "outcome-3", text)
                for c, text in zip(clients, texts, strict=True)
            ]
        )
        assert [r.status_code for r in responses] == [303, 303], round_
        rows = reflections(in_db, enrollment_id, "outcome-3")
        assert len(rows) == 1 and rows[0].status is ReflectionStatus.submitted, round_
        assert rows[0].body in texts and rows[0].word_count == count_words(rows[0].body), round_


def test_the_last_two_reflections_submitted_at_once_complete_the_course(app, make_user, in_db):
    """Each submit recomputes completion: the later one must see the other's reflection."""
    for round_ in range(ROUNDS):
        learner = make_user()
        clients = tabs(app, learner, 2)
        enrollment_id = start(clients[0])
        assert post_segments(clients[0], enrollment_id, [[0, 30]]).get_json()["done"]
        assert submit(clients[0], enrollment_id, "outcome-1", FORTY_WORDS)().status_code == 303
        responses = race(
            [
                submit(clients[0], enrollment_id, "outcome-2", FORTY_WORDS),
                submit(clients[1], enrollment_id, "outcome-3", FORTY_WORDS),
            ]
        )
        assert [r.status_code for r in responses] == [303, 303], round_
        with in_db() as db:
            enrollment = db.get(Enrollment, enrollment_id)
            assert (
                enrollment.status is EnrollmentStatus.completed
                and enrollment.completed_at is not None
            ), round_


def test_progress_from_two_tabs_at_once_keeps_both_segments(app, make_user, in_db):
    for round_ in range(ROUNDS):
        learner = make_user()
        clients = tabs(app, learner, 2)
        enrollment_id = start(clients[0])
        responses = race(
            [
                partial(post_segments, clients[0], enrollment_id, [[0, 10]]),
                partial(post_segments, clients[1], enrollment_id, [[15, 25]]),
            ]
        )
        assert [r.status_code for r in responses] == [200, 200], round_
        with in_db() as db:
            rows = list(
                db.scalars(
                    select(StepProgress).where(
                        StepProgress.enrollment_id == enrollment_id,
                        StepProgress.step_id == "recording",
                    )
                )
            )
            assert len(rows) == 1, round_
            assert load_segments(rows[0]) == [(0.0, 10.0), (15.0, 25.0)], round_
            assert abs(rows[0].fraction - 20 / 30) < 1e-6, round_


def test_the_last_reflection_and_the_attendance_at_once_complete_a_live_enrollment(
    app, make_user, in_db
):
    """The learner submits while the facilitator corrects the roster: whichever lands last completes it."""
    facilitator = make_user("facilitator")
    for round_ in range(ROUNDS):
        learner = make_user()
        cohort_id = schedule(app, facilitator)
        register(app, learner, cohort_id)
        hold_session(app, cohort_id)  # attendance follows the clock: the session has taken place
        enrollment_id = enrollment_of(app, learner, cohort_id).id
        learner_client, facilitator_client = client_for(app, learner), client_for(app, facilitator)
        for step in ("outcome-1", "outcome-2"):
            assert submit(learner_client, enrollment_id, step, FORTY_WORDS)().status_code == 303
        set_attendance(
            app, facilitator, enrollment_id, "absent", 0
        )  # first marked absent by mistake
        roster = {f"status_{enrollment_id}": "present", f"minutes_{enrollment_id}": "60"}
        responses = race(
            [
                submit(learner_client, enrollment_id, "outcome-3", FORTY_WORDS),
                partial(
                    facilitator_client.post,
                    f"/facilitate/cohorts/{cohort_id}/attendance",
                    data=roster,
                ),
            ]
        )
        assert [r.status_code for r in responses] == [303, 303], round_
        with in_db() as db:
            assert db.get(Enrollment, enrollment_id).status is EnrollmentStatus.completed, round_


def test_a_whole_rosters_attendance_saved_while_its_learners_write_never_deadlocks(
    app, make_user, in_db
):
    """The interleaving a live session makes: two co-facilitators save the whole
    roster's attendance while every learner of the cohort autosaves and submits reflections and
    posts video progress, and a newcomer joins the waitlist. Each write locks only the rows it
    changes, in one order (cohort, then enrollments by id): no request fails, nothing is lost,
    and every learner whose last piece of evidence landed completes."""
    from lms.cohorts.models import Attendance, AttendanceStatus, CohortFacilitator

    learners_per_cohort = 5
    first, second = make_user("facilitator"), make_user("facilitator")
    for round_ in range(3):
        learners = [make_user() for _ in range(learners_per_cohort)]
        cohort_id = schedule(app, first, capacity=learners_per_cohort)
        with in_db() as db:
            db.add(CohortFacilitator(cohort_id=cohort_id, user_id=second.id))  # a co-facilitator
            db.commit()
        for learner in learners:
            register(app, learner, cohort_id)
        hold_session(app, cohort_id)  # attendance follows the clock: the session has taken place
        enrollments = [enrollment_of(app, learner, cohort_id).id for learner in learners]
        learner_clients = [client_for(app, learner) for learner in learners]
        recordings = [
            start(client) for client in learner_clients
        ]  # the same course's recording, on the side
        roster = {}
        for enrollment_id in enrollments:
            roster[f"status_{enrollment_id}"] = "present"
            roster[f"minutes_{enrollment_id}"] = "60"
        facilitators = [client_for(app, first), client_for(app, second)]
        newcomer = client_for(app, make_user())

        def learner_writes(client, enrollment_id):
            def run():
                answers = [draft(client, enrollment_id, "outcome-1", "a first thought")()]
                for step in ("outcome-1", "outcome-2", "outcome-3"):
                    answers.append(draft(client, enrollment_id, step, FORTY_WORDS[:80])())
                    answers.append(submit(client, enrollment_id, step, FORTY_WORDS)())
                return answers

            return run

        def progress(client, enrollment_id):
            return lambda: [
                post_segments(client, enrollment_id, [[n * 5, n * 5 + 5]]) for n in range(3)
            ]

        url = f"/facilitate/cohorts/{cohort_id}/attendance"
        calls = [partial(client.post, url, data=roster) for client in facilitators]
        calls += [learner_writes(c, e) for c, e in zip(learner_clients, enrollments, strict=True)]
        calls += [progress(c, e) for c, e in zip(learner_clients, recordings, strict=True)]
        calls.append(partial(newcomer.post, f"/cohorts/{cohort_id}/register"))
        results = race(calls)

        assert [r.status_code for r in results[:2]] == [303, 303], (
            round_,
            [r.get_data(as_text=True)[:300] for r in results[:2]],
        )
        for answers in results[2 : 2 + learners_per_cohort]:
            assert [r.status_code for r in answers] == [200] + [200, 303] * 3, round_
        for answers in results[2 + learners_per_cohort : -1]:
            assert [r.status_code for r in answers] == [200, 200, 200], round_
        assert results[-1].status_code == 303, round_
        with in_db() as db:
            for enrollment_id, recording_id in zip(enrollments, recordings, strict=True):
                attendance = db.scalar(
                    select(Attendance).where(Attendance.enrollment_id == enrollment_id)
                )
                assert (attendance.status, attendance.minutes) == (AttendanceStatus.present, 60), (
                    round_
                )
                submitted = db.scalars(
                    select(Reflection).where(Reflection.enrollment_id == enrollment_id)
                ).all()
                assert sorted(r.prompt_id for r in submitted) == [
                    "outcome-1",
                    "outcome-2",
                    "outcome-3",
                ], round_
                assert all(r.status is ReflectionStatus.submitted for r in submitted), round_
                assert db.get(Enrollment, enrollment_id).status is EnrollmentStatus.completed, (
                    round_
                )
                played = db.scalar(
                    select(StepProgress).where(
                        StepProgress.enrollment_id == recording_id,
                        StepProgress.step_id == "recording",
                    )
                )
                assert load_segments(played) == [(0.0, 15.0)], round_
