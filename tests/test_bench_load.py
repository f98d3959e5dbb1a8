"""``python -m bench.load`` (bench/README.md, Load) keeps working: its log reading, its checks of
the data after a run, and a few visits of the real thing under gunicorn (skipped without
gunicorn or Locust). The short run is bounded by a count of visits, never by seconds: on a
loaded machine it takes longer and does the same."""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
from pathlib import Path

import pytest

from bench.load import (
    attendance_problems,
    database_problems,
    last_saved_forms,
    main,
    prepare,
    reflection_problems,
    server_log_problems,
)

FLASK_EXCEPTION = """\
[2026-11-24 18:55:09,413] ERROR in app: Exception on /learn/4/reading-1 [GET]
Traceback (most recent call last):
  File "sqlalchemy/engine/base.py", line 1977, in _exec_single_context
    cursor.execute(statement, parameters)
sqlite3.IntegrityError: UNIQUE constraint failed: lms_step_progress.enrollment_id

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "flask/app.py", line 1511, in wsgi_app
    response = self.full_dispatch_request()
sqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError) UNIQUE constraint failed: lms_step_progress.enrollment_id
[SQL: INSERT INTO lms_step_progress (enrollment_id, step_id) VALUES (?, ?)]
(Background on this error at: https://sqlalche.me/e/21/gkpj)
"""
MAIL_LOGGED = """\
[2026-11-24 18:55:10,001] WARNING in mail: Mail not sent (LMS_MAIL_BACKEND = "log"):
To: ana@example.org
Subject: A seat is yours

Error-free text that merely looks like an exception line.
"""
WORKER_TIMEOUT = "[2026-11-24 18:55:11 +0000] [14960] [CRITICAL] WORKER TIMEOUT (pid:14967)\n"
STRAY_TRACEBACK = (
    'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n'
    "RuntimeError: printed by a thread\n"
)


def test_the_server_log_counts_records_not_lines():
    problems = server_log_problems(STRAY_TRACEBACK + FLASK_EXCEPTION + MAIL_LOGGED + WORKER_TIMEOUT)
    assert problems == [
        "stderr: (outside any log record) (RuntimeError: printed by a thread)",
        "ERROR: Exception on /learn/4/reading-1 [GET] (sqlalchemy.exc.IntegrityError: (sqlite3.IntegrityError) "
        "UNIQUE constraint failed: lms_step_progress.enrollment_id)",
        "CRITICAL: WORKER TIMEOUT (pid:14967)",
    ]
    assert server_log_problems(MAIL_LOGGED) == []
    assert server_log_problems("") == []


def _save(number: int, started: float, answered: float, attendance: dict[str, list[str]]) -> dict:
    return {
        "kind": "attendance",
        "started": started,
        "answered": answered,
        "by": f"facilitator {number}",
        "attendance": attendance,
    }


def test_the_attendance_must_be_one_whole_form_that_may_have_been_saved_last():
    first = _save(1, 0.0, 1.0, {"1": ["present", "60"], "2": ["absent", "0"]})
    second = _save(2, 2.0, 3.0, {"1": ["late", "30"], "2": ["", ""]})
    overlapping = _save(3, 2.5, 3.5, {"1": ["excused", "0"], "2": ["present", ""]})
    assert last_saved_forms([first, second]) == [second]
    assert last_saved_forms([first, second, overlapping]) == [second, overlapping]
    assert attendance_problems({1: ("late", 30), 2: None}, [first, second], 60) == []
    # Present with the minutes left empty: the session's length.
    assert (
        attendance_problems(
            {1: ("excused", 0), 2: ("present", 60)}, [first, second, overlapping], 60
        )
        == []
    )
    # The earlier form, or half of each: not what was saved last.
    assert attendance_problems({1: ("present", 60), 2: ("absent", 0)}, [first, second], 60)
    assert attendance_problems(
        {1: ("late", 30), 2: ("present", 60)}, [first, second, overlapping], 60
    )
    # A save that got no answer may have committed.
    unanswered = {
        **_save(4, 4.0, 0, {"1": ["absent", "0"], "2": ["absent", "0"]}),
        "kind": "attendance unanswered",
    }
    assert (
        attendance_problems({1: ("absent", 0), 2: ("absent", 0)}, [first, second, unanswered], 60)
        == []
    )
    # No save answered: the roster as prepared (nothing recorded), or a save that got no answer.
    assert attendance_problems({1: None, 2: None}, [], 60) == []
    assert attendance_problems({1: None, 2: None}, [unanswered], 60) == []
    assert attendance_problems({1: ("absent", 0), 2: ("absent", 0)}, [unanswered], 60) == []
    assert attendance_problems({1: ("present", 60), 2: None}, [], 60)


def test_every_answered_reflection_is_found_as_sent():
    def entry(kind: str, answered: float, body: str, saved: bool = True) -> dict:
        return {
            "kind": kind,
            "started": answered - 0.1,
            "answered": answered,
            "enrollment": 7,
            "step": "outcome-1",
            "body": body,
            "saved": saved,
        }

    journal = [
        entry("draft", 1, "one two"),
        entry("submit", 2, "one two three"),
        entry("draft", 3, "one", saved=False),
    ]
    assert reflection_problems({(7, "outcome-1"): ("submitted", "one two three")}, journal) == []
    assert reflection_problems(
        {(7, "outcome-1"): ("draft", "one two")}, journal
    )  # the submit was lost
    assert reflection_problems({(7, "outcome-1"): ("draft", "one two")}, journal[:1]) == []
    assert reflection_problems(
        {(7, "outcome-1"): ("draft", "one")}, journal[:1]
    )  # an earlier draft won
    assert reflection_problems({}, journal[:1])
    # A submit that got no answer and was stored all the same is no lost draft.
    sent = {**entry("submit sent", 0, "one two three four"), "answered": 0}
    assert (
        reflection_problems(
            {(7, "outcome-1"): ("submitted", "one two three four")}, [*journal[:1], sent]
        )
        == []
    )


def test_the_database_check_finds_a_broken_waitlist(tmp_path: Path):
    db_file, instance = tmp_path / "lms.sqlite", tmp_path / "instance"
    url = f"sqlite:///{db_file}"
    plan = prepare(url, instance, learners=4)  # an empty file: migrations, courses, people, cohorts
    assert len(plan["learners"]) == 4 and len(plan["facilitators"]) == 2
    assert plan["watch_step"]["id"] == "recording" and plan["reflect_steps"]
    cohorts = [plan["live_cohort"], plan["waitlist_cohort"]]
    assert database_problems(url, instance, cohorts) == []

    small = plan["waitlist_cohort"]  # three seats, nobody registered yet
    with sqlite3.connect(db_file) as con:
        course_id = con.execute(
            "SELECT course_id FROM lms_cohort WHERE id = ?", (small,)
        ).fetchone()[0]
        con.execute("UPDATE lms_cohort SET capacity = 1 WHERE id = ?", (small,))
        learners = [
            row[0]
            for row in con.execute(
                "SELECT id FROM lms_user WHERE email LIKE 'load-learner-%' ORDER BY id LIMIT 2"
            )
        ]
        for user_id, status in zip(learners, ("registered", "waitlisted"), strict=True):
            con.execute(
                "INSERT INTO lms_enrollment (user_id, course_id, path, cohort_id, status, created_at)"
                " VALUES (?, ?, 'live', ?, ?, '2026-11-24 10:00:00.000000')",
                (user_id, course_id, small, status),
            )
    assert database_problems(url, instance, cohorts) == []
    with sqlite3.connect(db_file) as con:
        con.execute("UPDATE lms_cohort SET capacity = 3 WHERE id = ?", (small,))
    assert database_problems(url, instance, cohorts) == [
        f"cohort {small} has 2 free seats and 1 on its waitlist"
    ]
    with sqlite3.connect(db_file) as con:
        con.execute("UPDATE lms_cohort SET capacity = 0 WHERE id = ?", (small,))
    assert database_problems(url, instance, cohorts) == [f"cohort {small} holds 1 seats of 0"]


def require_modules(*names: str) -> None:
    """Skip unless the modules are installed, without importing them here: importing Locust
    patches the standard library with gevent's, which deadlocks a process that already runs
    threads (the app's job threads); the load runs Locust in a child process of its own."""
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


def test_a_short_run_under_gunicorn_has_no_errors(tmp_path: Path, capsys):
    require_modules("gunicorn", "locust", "aiosmtpd")
    output = tmp_path / "load.json"
    # Two visits per person and one round, however long they take: nothing here counts seconds.
    status = main(
        [
            "--iterations",
            "2",
            "--seconds",
            "0",
            "--rounds",
            "1",
            "--learners",
            "3",
            "--visitors",
            "1",
            "--newcomers",
            "1",
            "--workers",
            "1",
            "--threads",
            "4",
            "--think",
            "0",
            "--smtp-delay",
            "0",
            "--scale",
            "0.001",
            "--output",
            str(output),
        ]
    )
    report = json.loads(output.read_text())
    assert status == 0, capsys.readouterr().out + json.dumps(report["error_examples"], indent=2)
    assert report["errors"] == 0 and report["5xx"] == 0 and report["data_problems"] == 0
    # Every visit was made: each learner's two and the round's (three learners, two facilitators, a newcomer).
    visits = report["visits"]
    assert visits.get("LearnerUser: visit") == 6 and visits.get("CoFacilitatorUser: visit") == 4, (
        visits
    )
    assert (
        visits.get("AdminUser: visit") == 2
        and visits.get("VisitorUser: visit") == 2
        and visits.get("NewcomerUser: visit") == 2
    ), visits
    assert report["phases"]["rounds"]["parties"] == 6
    # Every kind of write was answered and then found in the database.
    written = report["data"]["writes answered"]
    for kind in ("draft", "submit", "progress", "attendance", "signup"):
        assert written.get(kind, 0) > 0, (kind, written)
    for endpoint in (
        "sign in",
        "step: reflect",
        "draft autosave",
        "reflection submit",
        "step: watch",
        "progress post",
        "roster",
        "attendance save",
        "report page",
        "report CSV",
        "catalog",
        "course page",
        "sign up",
    ):
        assert report["endpoints"].get(endpoint, {}).get("requests", 0) > 0, endpoint
    assert report["mail"]["messages"] >= 2  # the newcomers' welcome mail went through the relay
    assert Path(report["server_log"]).is_file()


@pytest.mark.postgres
def test_a_short_run_on_postgresql(tmp_path: Path, capsys):
    """The same few visits on PostgreSQL, 2 workers x 4 threads. Opt-in: the database of
    ``LMS_LOAD_DATABASE_URL`` is emptied, so it must be one kept for the load alone."""
    url = os.environ.get("LMS_LOAD_DATABASE_URL")
    if not url:
        pytest.skip("LMS_LOAD_DATABASE_URL is not set (a PostgreSQL database the load may empty)")
    require_modules("locust")
    output = tmp_path / "load.json"
    status = main(
        [
            "--database-url",
            url,
            "--iterations",
            "2",
            "--seconds",
            "0",
            "--rounds",
            "1",
            "--learners",
            "3",
            "--visitors",
            "1",
            "--newcomers",
            "1",
            "--workers",
            "2",
            "--threads",
            "4",
            "--think",
            "0",
            "--smtp-delay",
            "0",
            "--scale",
            "0.001",
            "--output",
            str(output),
        ]
    )
    report = json.loads(output.read_text())
    assert report["database"]["kind"] == "postgresql" and "deadlocks" in report["database"]
    assert report["data_problems"] == 0, json.dumps(report["error_examples"], indent=2)
    assert report["data"]["writes answered"].get("submit", 0) > 0
    assert (
        report["errors_by_kind"]["harness"] == 0 and report["errors_by_kind"]["connection"] == 0
    ), capsys.readouterr().out
    # Not ``status == 0`` yet: before issue 16's fix three learners and two roster saves can deadlock
    # (a 500, a failure of the run); once it is merged, assert it (make load checks it either way).
    assert report["requests"] > 0 and status in (0, 1)
