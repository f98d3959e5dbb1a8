"""``python -m bench.load`` (bench/README.md, Load) keeps working: its log reading, its checks of
the database, and a few seconds of the real thing under gunicorn (skipped without gunicorn)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bench.load import database_problems, main, percentile, prepare, server_log_problems

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
STRAY_TRACEBACK = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nRuntimeError: printed by a thread\n'


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


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_the_database_check_finds_a_broken_waitlist(tmp_path: Path):
    db_file, instance = tmp_path / "lms.sqlite", tmp_path / "instance"
    plan = prepare(db_file, instance, learners=4)  # an empty file: migrations, courses, people, cohorts
    assert len(plan.learners) == 4 and len(plan.cohorts) == 2
    assert any(step.kind == "watch" for step in plan.self_directed[("esp-racial-justice-dialogue", "recording")])
    assert database_problems(db_file, instance, plan) == []

    small = max(plan.cohorts)  # the second session has one seat for four learners
    with sqlite3.connect(db_file) as con:
        course_id, capacity = con.execute("SELECT course_id, capacity FROM lms_cohort WHERE id = ?", (small,)).fetchone()
        assert capacity == 1
        learners = [row[0] for row in con.execute("SELECT id FROM lms_user WHERE email LIKE 'load-learner-%' ORDER BY id LIMIT 2")]
        for user_id, status in zip(learners, ("registered", "waitlisted"), strict=True):
            con.execute(
                "INSERT INTO lms_enrollment (user_id, course_id, path, cohort_id, status, created_at) VALUES (?, ?, 'live', ?, ?, '2026-11-24 10:00:00.000000')",
                (user_id, course_id, small, status),
            )
    assert database_problems(db_file, instance, plan) == []
    with sqlite3.connect(db_file) as con:
        con.execute("UPDATE lms_cohort SET capacity = 3 WHERE id = ?", (small,))
    assert database_problems(db_file, instance, plan) == [f"cohort {small} has 2 free seats and 1 on its waitlist"]
    with sqlite3.connect(db_file) as con:
        con.execute("UPDATE lms_cohort SET capacity = 0 WHERE id = ?", (small,))
    assert database_problems(db_file, instance, plan) == [f"cohort {small} holds 1 seats of 0"]


def test_a_short_run_under_gunicorn_has_no_errors(tmp_path: Path, capsys):
    pytest.importorskip("gunicorn")
    output = tmp_path / "load.json"
    status = main(["--seconds", "3", "--learners", "3", "--workers", "1", "--threads", "4", "--think", "0", "--scale", "0.001", "--output", str(output)])
    report = json.loads(output.read_text())
    assert status == 0, capsys.readouterr().out + json.dumps(report["error_examples"], indent=2)
    assert report["errors"] == 0 and report["requests"] > 0
    # Every kind of thing a learner does was done (each learner's first visit does them all).
    for endpoint in ("sign in", "start course", "step: watch", "progress post", "step: read", "draft autosave", "reflection submit",
                     "cohort register", "my learning /me", "data export", "sign out"):
        assert report["endpoints"].get(endpoint, {}).get("requests", 0) > 0, endpoint
    assert Path(report["server_log"]).is_file()
