"""Load: the mixed workload of a live session, under gunicorn with several workers and threads,
on SQLite or PostgreSQL; then the data checked. It passes only when nothing went wrong.

    python -m bench.load [--database-url URL] [--workers 4] [--threads 4] [--seconds 60]
                         [--rounds 10] [--learners 60] [--iterations N] ...

1. A database: the generated benchmark organisation at a small scale (``bench.generate``; on
   PostgreSQL copied in by ``bench.pgdata``, the database EMPTIED first), then through the
   app's own services: one live cohort with ``--learners`` learners registered (each also
   started on the recording; half of them one reflection short of done), its two
   co-facilitators, an admin, and a small session whose waitlist the learners queue on.
2. gunicorn serving ``lms:create_app()`` on it (``bench.common.gunicorn``), mail going out over
   SMTP to a local relay that takes ``--smtp-delay`` seconds to answer each message (a slow
   relay, so a transaction held open across SMTP shows as lock waits), and the sign-in and
   account rate limits raised for the run (everybody comes from 127.0.0.1).
3. The people (``bench.crowd``, Locust users run headless in a child process): the learners
   type, autosave and submit reflections and post video progress, sometimes register for or
   withdraw from the small session; the co-facilitators save the whole roster's attendance and
   issue certificates; the admin reads the report and downloads its exports; visitors browse;
   newcomers sign up and ask for password resets. For ``--seconds``, or ``--iterations`` visits
   each; then ``--rounds`` rounds in which a barrier releases the two roster saves, every
   learner's submit, autosave and progress post and a sign-up at the same moment.
4. While it runs, on PostgreSQL: the backends waiting on a lock, sampled every 0.2 s (how many
   at once, the longest wait, and waits behind a transaction left open across the SMTP
   conversation); the deadlocks counted by ``pg_stat_database`` before and after.
5. Then the data (``data_problems``): at most one valid certificate per enrollment, the
   attendance equal to the last roster form saved, every enrollment's status matching its
   evidence, every answered write stored (submitted texts, the last saved drafts, every played
   range, every sign-up), no cohort over-full or with a needless waitlist.

Per endpoint: requests, status codes, errors by kind, p50/p95/p99 (Locust's statistics); a
table on stdout, ``bench/results/load.json`` and the server's whole log beside it. Exit
status 1 on any error, 5xx, deadlock, traceback or ERROR record in the server log, data
problem, or lock wait behind an SMTP conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    CACHE_DIR,
    COURSES_DIR,
    PYTHON,
    REPO_DIR,
    RESULTS_DIR,
    Browser,
    database_url,
    format_table,
    free_port,
    gunicorn,
    gunicorn_available,
    lms_environment,
    log,
    machine,
    tail,
)
from bench.generate import FIRST_NAMES, LAST_NAMES, REFLECTION_WORDS, ensure_dataset
from bench.pgdata import copy_from_sqlite, driver_url, is_postgres

DEFAULT_SCALE = (
    0.01  # the organisation around the load's people: 1,000 learners, 10,000 enrollments
)
LOAD_PASSWORD = "load-password-not-secret"
LEARNER_EMAIL = "load-learner-{:03d}@example.org"
FACILITATOR_EMAILS = ("load-facilitator-1@example.org", "load-facilitator-2@example.org")
ADMIN_EMAIL = "load-admin@example.org"
# High enough never to fire during a run (everybody signs in from 127.0.0.1), and still limits:
# the limiter's code runs on every sign-in and sign-up as it does in production.
RAISED_RATE_LIMIT = "100000 per minute"
WAITLIST_SEATS = 3
ERROR_KINDS = (
    "connection",
    "5xx",
    "unexpected status",
    "failed check",
    "harness",
    "server log",
    "database",
)
LOCK_SAMPLE_SECONDS = 0.2
# Longer than any pause between two requests of one person: with gunicorn's default (2 s) an
# idle connection closed just as the next request goes out on it reads as a reset, which a
# browser would retry and the counts here would call a failure.
KEEPALIVE_SECONDS = 30


# ------------------------------------------------------------------------------------- server log

# A log record's first line: gunicorn's "[time] [pid] [LEVEL] message", Flask's "[time] LEVEL in module: message".
_LOG_RECORD = re.compile(
    r"^\[[^\]]+\] (?:\[\d+\] \[(?P<gunicorn>[A-Z]+)\]|(?P<flask>[A-Z]+) in [\w.]+:) ?(?P<message>.*)$"
)
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b")
_PROBLEM_LEVELS = ("ERROR", "CRITICAL")


def server_log_problems(text: str) -> list[str]:
    """One problem per record of the server's log at level ERROR or CRITICAL (Flask logs every
    unhandled exception so, gunicorn a worker timeout or a failing request), and per record (or
    text outside any record) holding a traceback; each named by its message and last exception.
    A record's traceback lines, chained exceptions included, belong to that one record."""
    records: list[tuple[str | None, str, list[str]]] = [(None, "(outside any log record)", [])]
    for line in text.splitlines():
        match = _LOG_RECORD.match(line)
        if match:
            records.append(
                (match.group("gunicorn") or match.group("flask"), match.group("message"), [])
            )
        else:
            records[-1][2].append(line)
    problems = []
    for level, message, lines in records:
        traceback_shown = any(
            line.startswith("Traceback (most recent call last)") for line in lines
        )
        if level not in _PROBLEM_LEVELS and not traceback_shown:
            continue
        exceptions = [line for line in lines if _EXCEPTION_LINE.match(line)]
        problems.append(
            f"{level or 'stderr'}: {message}" + (f" ({exceptions[-1][:300]})" if exceptions else "")
        )
    return problems


# ------------------------------------------------------------------------------------- preparation


@contextmanager
def _app_context(url: str, instance_dir: Path, cache_dir: Path | None = None) -> Iterator[Any]:
    """The app on the database at ``url`` in this process, for preparing and checking the data
    through its own services (``cache_dir``: the page caches' store its writes bump)."""
    from lms import create_app

    # create_app reads the instance folder from the environment only.
    previous = os.environ.get("LMS_INSTANCE_PATH")
    os.environ["LMS_INSTANCE_PATH"] = str(instance_dir)
    try:
        app = create_app(
            {
                "SECRET_KEY": "load-preparation",
                "LMS_DATABASE_URL": url,
                "LMS_COURSES_DIR": str(COURSES_DIR),
                "LMS_MAIL_BACKEND": "log",
                "LMS_BASE_URL": "http://127.0.0.1",  # the preparation's mail (confirmations) is only logged
                **({"LMS_CACHE_DIR": str(cache_dir)} if cache_dir is not None else {}),
            }
        )
    finally:
        if previous is None:
            os.environ.pop("LMS_INSTANCE_PATH", None)
        else:
            os.environ["LMS_INSTANCE_PATH"] = previous
    try:
        with app.app_context():
            yield app
    finally:
        app.extensions["lms"].database.engine.dispose()


def prepare(
    url: str, instance_dir: Path, learners: int, cache_dir: Path | None = None
) -> dict[str, Any]:
    """Bring the database to the head migration and the shipped courses, then add the load's
    people and cohorts through the app's own services (as ``flask lms demo`` does); what the
    people need to know, as the plan ``bench.crowd`` reads. ``cache_dir``: the page caches'
    store of the servers that will serve them, which these writes bump."""
    from lms import migrations
    from lms.accounts.services import create_user, find_user_by_email
    from lms.cohorts.registration import register
    from lms.cohorts.scheduling import CohortData, create_cohort
    from lms.db import db_session, make_engine, transaction
    from lms.learning.services import start_enrollment, submit_reflection
    from lms.state import lms_state

    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    with _app_context(url, instance_dir, cache_dir), transaction():
        catalog = lms_state().catalog
        report = catalog.sync(db_session)
        if report.problems:
            raise SystemExit(
                "shipped courses have problems: " + "; ".join(map(str, report.problems))
            )
        loaded = next(
            (c for c in catalog.all() if {"live", "recording"} <= set(c.definition.paths)), None
        )
        if loaded is None:
            raise SystemExit("no shipped course offers both a live session and a recording")
        definition = loaded.definition

        def person(email: str, name: str, **roles: Any) -> Any:
            return find_user_by_email(email) or create_user(email, name, LOAD_PASSWORD, **roles)

        facilitators = [
            person(email, f"Load Facilitator {n}", is_facilitator=True)
            for n, email in enumerate(FACILITATOR_EMAILS, 1)
        ]
        person(ADMIN_EMAIL, "Load Admin", is_admin=True)
        # The session has just ended: attendance for all of it can be saved, and certificates can
        # be issued (both follow the clock). Its registration stays open through the run.
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        starts = now - timedelta(minutes=definition.minutes + 5)
        live = create_cohort(
            facilitators[0],
            CohortData(
                course_slug=loaded.slug,
                title="Load test: the live session",
                starts_at=starts,
                time_zone="America/New_York",
                minutes=definition.minutes,
                capacity=learners,
                location="Online",
                join_url="https://meet.example.org/load",
                registration_opens_at=starts - timedelta(days=14),
                registration_closes_at=now + timedelta(days=1),
                facilitator_emails=list(FACILITATOR_EMAILS),
            ),
        )
        waitlist = create_cohort(
            facilitators[0],
            CohortData(
                course_slug=loaded.slug,
                title="Load test: a small session",
                starts_at=now + timedelta(days=14),
                time_zone="America/New_York",
                minutes=definition.minutes,
                capacity=WAITLIST_SEATS,
                location="Online",
                join_url="https://meet.example.org/load",
                facilitator_emails=list(FACILITATOR_EMAILS),
            ),
        )
        reflections = [step for step in definition.steps_for("live") if step.kind == "reflect"]
        people = []
        for number in range(1, learners + 1):
            email = LEARNER_EMAIL.format(number)
            # Every fifth learner reads the site in Spanish: the checks never read words.
            user = person(
                email,
                f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {LAST_NAMES[number % len(LAST_NAMES)]}",
                locale="es" if number % 5 == 0 else "en",
                audience_role="education-support-professional",
            )
            enrollment = register(user, live)
            recording = start_enrollment(user, loaded, "recording")
            if (
                number % 2
            ):  # half the cohort is one reflection short of done: an attendance save or a submit completes them
                for step in reflections[:-1]:
                    submit_reflection(
                        enrollment,
                        loaded,
                        step,
                        " ".join(
                            REFLECTION_WORDS[i % len(REFLECTION_WORDS)]
                            for i in range(step.min_words + 5)
                        ),
                        False,
                    )
            db_session.flush()
            people.append(
                {
                    "email": email,
                    "live_enrollment": enrollment.id,
                    "recording_enrollment": recording.id,
                }
            )
        watch = next(step for step in definition.steps_for("recording") if step.kind == "watch")
        plan = {
            "password": LOAD_PASSWORD,
            "course_slug": loaded.slug,
            "live_cohort": live.id,
            "waitlist_cohort": waitlist.id,
            "cohort_minutes": live.minutes,
            "learners": people,
            "facilitators": list(FACILITATOR_EMAILS),
            "admin": ADMIN_EMAIL,
            "reflect_steps": [
                {"id": step.id, "min_words": step.min_words}
                for step in definition.steps_for("live")
                if step.kind == "reflect"
            ],
            "watch_step": {"id": watch.id, "duration": watch.duration_seconds},
        }
    if not plan["reflect_steps"]:
        raise SystemExit(f"{plan['course_slug']}: its live path has no reflection")
    return plan


# ------------------------------------------------------------------------------------- the data after the run


def database_problems(url: str, instance_dir: Path, cohort_ids: list[int]) -> list[str]:
    """What must hold however the requests interleaved: no cohort holds more seats than it has,
    and nobody waits on the list of a cohort with a free seat (a withdrawal promotes the next)."""
    from lms.cohorts.registration import seats_taken, waitlist_length
    from lms.cohorts.services import get_cohort

    problems = []
    with _app_context(url, instance_dir):
        for cohort_id in sorted(cohort_ids):
            cohort = get_cohort(cohort_id)
            seats, waiting = seats_taken(cohort), waitlist_length(cohort)
            if seats > cohort.capacity:
                problems.append(f"cohort {cohort_id} holds {seats} seats of {cohort.capacity}")
            if waiting and seats < cohort.capacity:
                problems.append(
                    f"cohort {cohort_id} has {cohort.capacity - seats} free seats and {waiting} on its waitlist"
                )
    return problems


def last_saved_forms(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answered roster saves that may have committed last: every save such that no other
    save was sent after it was answered (a save sent after another's answer commits after it).
    With saves one after another that is the last one; saves under way together are all
    candidates, since either may have committed second."""
    saves = [entry for entry in journal if entry["kind"] == "attendance"]
    return [
        save for save in saves if not any(other["started"] > save["answered"] for other in saves)
    ]


def attendance_problems(
    final: dict[int, tuple[str, int] | None], journal: list[dict[str, Any]], minutes: int
) -> list[str]:
    """The roster's attendance must equal, for every learner, one whole form that may have been
    saved last (``last_saved_forms``): a mix of two forms is a save that half happened."""
    # A save that got no answer at all (a connection cut, a timeout) may have committed all the same.
    unanswered = [entry for entry in journal if entry["kind"] == "attendance unanswered"]
    candidates = last_saved_forms(journal) + unanswered
    if len(candidates) == len(
        unanswered
    ):  # no save answered: the roster may still be as it was (nothing recorded)
        candidates.append(
            {"by": "nobody (as prepared)", "attendance": {str(e): ["", ""] for e in final}}
        )

    def expected(form: dict[str, list[str]]) -> dict[int, tuple[str, int] | None]:
        values: dict[int, tuple[str, int] | None] = {}
        for enrollment_id, (status, typed) in form.items():
            values[int(enrollment_id)] = (
                None
                if not status
                else (status, int(typed) if typed else (minutes if status == "present" else 0))
            )
        return values

    differences = []
    for save in candidates:
        wanted = expected(save["attendance"])
        wrong = sorted(e for e in wanted if final.get(e) != wanted[e])
        if not wrong:
            return []
        differences.append((len(wrong), wrong, save))
    count, wrong, save = min(differences, key=lambda d: d[0])
    first = wrong[0]
    return [
        f"the attendance matches no roster form saved last ({len(candidates)} candidates): {count} "
        "learners differ from the "
        f"closest, saved by {save['by']}; enrollment {first} holds {final.get(first)}, the form "
        f"said {save['attendance'][str(first)]}"
    ]


def reflection_problems(
    final: dict[tuple[int, str], tuple[str, str]], journal: list[dict[str, Any]]
) -> list[str]:
    """Every answered submit is stored: the last one's text, submitted. Where no submit was
    answered, the last draft the server said it saved is the text kept, unless a submit that
    got no answer (a connection cut, an error) was stored after all: its text, submitted."""
    submits: dict[tuple[int, str], dict[str, Any]] = {}
    drafts: dict[tuple[int, str], dict[str, Any]] = {}
    sent: dict[tuple[int, str], set[str]] = defaultdict(set)
    for entry in sorted(journal, key=lambda e: e["answered"]):
        key = (entry.get("enrollment"), entry.get("step"))
        if entry["kind"] == "submit":
            submits[key] = entry
        elif entry["kind"] == "submit sent":
            sent[key].add(entry["body"])
        elif entry["kind"] == "draft" and entry["saved"]:
            drafts[key] = entry
    problems = []
    for key, entry in submits.items():
        stored = final.get(key)
        if stored is None or stored[0] != "submitted" or stored[1] != entry["body"]:
            problems.append(
                f"reflection {key[1]} of enrollment {key[0]} was submitted with "
                f"{len(entry['body'].split())} words; it holds "
                + (f"a {stored[0]} with {len(stored[1].split())} words" if stored else "nothing")
            )
    for key, entry in drafts.items():
        if key in submits:
            continue
        stored = final.get(key)
        unanswered_submit_stored = (
            stored is not None and stored[0] == "submitted" and stored[1] in sent[key]
        )
        if (stored is None or stored[1] != entry["body"]) and not unanswered_submit_stored:
            problems.append(
                f"the draft of reflection {key[1]} of enrollment {key[0]} was saved with "
                f"{len(entry['body'].split())} words; it holds "
                + (f"a {stored[0]} with {len(stored[1].split())} words" if stored else "nothing")
            )
    return problems


def data_problems(
    url: str, instance_dir: Path, plan: dict[str, Any], journal: list[dict[str, Any]]
) -> tuple[list[str], dict[str, Any]]:
    """Everything the run wrote, read back through the app's models: the problems, and what was found."""
    from sqlalchemy import func, select

    from lms.accounts.models import User
    from lms.certificates.models import Certificate
    from lms.cohorts.models import Attendance
    from lms.db import db_session
    from lms.learning.models import Enrollment, EnrollmentStatus, Reflection, StepProgress
    from lms.learning.progress import is_complete, load_segments
    from lms.state import lms_state

    problems: list[str] = []
    facts: dict[str, Any] = {}
    with _app_context(url, instance_dir):
        catalog = lms_state().catalog
        doubled = db_session.execute(
            select(Certificate.enrollment_id, func.count())
            .where(Certificate.revoked_at.is_(None))
            .group_by(Certificate.enrollment_id)
            .having(func.count() > 1)
        ).all()
        problems += [
            f"enrollment {enrollment_id} holds {count} valid certificates"
            for enrollment_id, count in doubled
        ]
        live_ids = [learner["live_enrollment"] for learner in plan["learners"]]
        watched_ids = [learner["recording_enrollment"] for learner in plan["learners"]]
        facts["valid certificates in the live cohort"] = db_session.scalar(
            select(func.count())
            .select_from(Certificate)
            .where(Certificate.enrollment_id.in_(live_ids), Certificate.revoked_at.is_(None))
        )

        final_attendance: dict[int, tuple[str, int] | None] = dict.fromkeys(live_ids)
        for row in db_session.scalars(
            select(Attendance).where(Attendance.enrollment_id.in_(live_ids))
        ):
            final_attendance[row.enrollment_id] = (str(row.status), row.minutes)
        problems += attendance_problems(final_attendance, journal, plan["cohort_minutes"])

        mismatched = []
        statuses: Counter[str] = Counter()
        for enrollment in db_session.scalars(
            select(Enrollment)
            .where(Enrollment.id.in_(live_ids + watched_ids))
            .order_by(Enrollment.id)
        ):
            statuses[str(enrollment.status)] += 1
            if enrollment.status in (EnrollmentStatus.waitlisted, EnrollmentStatus.withdrawn):
                continue
            complete = is_complete(enrollment, catalog.get(enrollment.course.slug).definition)
            if complete != (enrollment.status is EnrollmentStatus.completed):
                mismatched.append(
                    f"enrollment {enrollment.id} is {enrollment.status} while its evidence says "
                    f"{'complete' if complete else 'not complete'}"
                )
        problems += mismatched
        facts["statuses"] = dict(statuses)

        final_reflections = {
            (r.enrollment_id, r.prompt_id): (str(r.status), r.body or "")
            for r in db_session.scalars(
                select(Reflection).where(Reflection.enrollment_id.in_(live_ids))
            )
        }
        problems += reflection_problems(final_reflections, journal)

        segments = {
            (p.enrollment_id, p.step_id): load_segments(p)
            for p in db_session.scalars(
                select(StepProgress).where(StepProgress.enrollment_id.in_(watched_ids))
            )
        }
        for entry in journal:
            if entry["kind"] == "progress":
                start, end = entry["played"]
                recorded = segments.get((entry["enrollment"], entry["step"]), [])
                if not any(s <= start + 0.01 and e >= end - 0.01 for s, e in recorded):
                    problems.append(
                        f"played [{start}, {end}] of enrollment {entry['enrollment']} is not in the "
                        f"recorded segments {recorded}"
                    )

        signed_up = [entry["email"] for entry in journal if entry["kind"] == "signup"]
        found = (
            set(db_session.scalars(select(User.email).where(User.email.in_(signed_up))))
            if signed_up
            else set()
        )
        problems += [
            f"{email} was answered as signed up and has no account"
            for email in signed_up
            if email not in found
        ]
        facts["writes answered"] = dict(
            Counter(entry["kind"] for entry in journal if entry["answered"])
        )
    problems += database_problems(url, instance_dir, [plan["live_cohort"], plan["waitlist_cohort"]])
    return problems, facts


# ------------------------------------------------------------------------------------- a slow mail relay


class SlowRelay:
    """A local SMTP relay (aiosmtpd) that takes ``delay`` seconds to accept each message, as a
    relay slow to answer does; it keeps when each conversation was under way."""

    def __init__(self, delay: float) -> None:
        from aiosmtpd.controller import Controller

        self.delay = delay
        self.messages = 0
        self.windows: list[tuple[float, float]] = []
        relay = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                started = time.time()
                await asyncio.sleep(relay.delay)
                relay.messages += 1
                relay.windows.append((started, time.time()))
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SlowRelay:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


# ------------------------------------------------------------------------------------- PostgreSQL's view


def deadlocks(url: str) -> int:
    """``pg_stat_database.deadlocks`` of the run's database (a fresh snapshot)."""
    import psycopg

    with psycopg.connect(driver_url(url), autocommit=True) as con:
        con.execute("SELECT pg_stat_clear_snapshot()")
        return int(
            con.execute(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
            ).fetchone()[0]
        )


@dataclass
class LockWaits:
    """Backends waiting on a lock, sampled: how many at once, the longest wait seen, and the
    samples in which a waiter's blocker was a transaction idle (the app doing something else
    with its transaction open) for at least the relay's delay while a mail conversation was open."""

    samples: int = 0
    waiting_samples: int = 0
    most_at_once: int = 0
    longest_seconds: float = 0.0
    behind_idle_transaction: int = 0
    behind_smtp: int = 0
    examples: list[str] = field(default_factory=list)


class LockSampler(threading.Thread):
    QUERY = """
        SELECT w.pid, extract(epoch FROM now() - w.query_start), left(w.query, 120),
               b.pid, b.state, extract(epoch FROM now() - b.state_change), left(b.query, 120)
          FROM pg_stat_activity w
          LEFT JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid) ON true
          LEFT JOIN pg_stat_activity b ON b.pid = blocker.pid
         WHERE w.datname = current_database() AND w.wait_event_type = 'Lock' AND w.pid <> pg_backend_pid()
    """

    def __init__(self, url: str, relay: SlowRelay | None) -> None:
        super().__init__(name="lock-sampler", daemon=True)
        self.url = url
        self.relay = relay
        self.waits = LockWaits()
        self.long_idle: list[tuple[float, tuple[Any, ...]]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(driver_url(self.url), autocommit=True) as con:
            while not self.stopping.wait(LOCK_SAMPLE_SECONDS):
                rows = con.execute(self.QUERY).fetchall()
                self.record(rows, time.time())

    def record(self, rows: list[tuple[Any, ...]], at: float) -> None:
        waits = self.waits
        waits.samples += 1
        waiting = {row[0] for row in rows}
        if not waiting:
            return
        waits.waiting_samples += 1
        waits.most_at_once = max(waits.most_at_once, len(waiting))
        waits.longest_seconds = max(waits.longest_seconds, *(float(row[1] or 0) for row in rows))
        idle = [row for row in rows if row[4] == "idle in transaction"]
        if idle:
            waits.behind_idle_transaction += 1
            delay = self.relay.delay if self.relay else 0
            long_idle = [row for row in idle if delay and float(row[5] or 0) >= 0.8 * delay]
            if long_idle:
                self.long_idle.append((at, long_idle[0]))

    def stop(self) -> LockWaits:
        """Stop sampling; the waits behind a long idle transaction that fell inside a mail
        conversation (the relay notes each conversation when it answers, so this is done at the end)."""
        self.stopping.set()
        self.join(timeout=10)
        windows = self.relay.windows if self.relay else []
        for at, row in self.long_idle:
            if any(start <= at <= end + LOCK_SAMPLE_SECONDS for start, end in windows):
                self.waits.behind_smtp += 1
                if len(self.waits.examples) < 5:
                    self.waits.examples.append(
                        f"backend {row[0]} waited {float(row[1]):.1f} s on {row[2]!r} behind backend {row[3]}, "
                        f"idle in transaction for {float(row[5]):.1f} s after {row[6]!r}"
                    )
        return self.waits


# ------------------------------------------------------------------------------------- run


def crowd_plan(plan: dict[str, Any], **settings: Any) -> dict[str, Any]:
    """The prepared plan with how the crowd runs: the defaults of a timed run, ``settings`` over them."""
    return {
        **plan,
        "run": uuid.uuid4().hex[:8],
        "seconds": 0,
        "iterations": 0,
        "rounds": 0,
        "round_learners": len(plan["learners"]),
        "visitors": 4,
        "newcomers": 2,
        "think": 1.0,
        "submit_chance": 0.5,
        "seed": 20261201,
        "safety_seconds": 900.0,
        "deadline": 0,
        **settings,
    }


def server_environment(
    url: str, instance_dir: Path, relay: SlowRelay, cache_dir: Path | None = None
) -> dict[str, str]:
    """The app's environment for the load: the rate limits raised (everybody comes from
    127.0.0.1), mail over SMTP to the slow relay; ``cache_dir``: the page caches' store of
    another server of the site to share (else the instance folder's own)."""
    return lms_environment(
        url,
        instance_dir,
        **({"LMS_CACHE_DIR": str(cache_dir)} if cache_dir is not None else {}),
        LMS_LOGIN_RATE_LIMIT=RAISED_RATE_LIMIT,
        LMS_ACCOUNT_RATE_LIMIT=RAISED_RATE_LIMIT,
        LMS_MAIL_BACKEND="smtp",
        LMS_SMTP_HOST="127.0.0.1",
        LMS_SMTP_PORT=str(relay.port),
    )


@dataclass
class Writing:
    """What the mixed load did while it ran behind a measurement (filled in when it stops)."""

    requests: int = 0
    errors: int = 0
    note: str = ""


@contextmanager
def writing(
    url: str,
    work_dir: Path,
    *,
    learners: int = 20,
    workers: int = 2,
    threads: int = 4,
    think: float = 1.0,
    cache_dir: Path | None = None,
) -> Iterator[Writing]:
    """The mixed load (``bench.crowd``) writing to the database at ``url`` from a gunicorn of its
    own until the block ends, as another app server of the same site would: for measuring pages
    while people write. The people and cohorts it needs are added to the database first.

    ``cache_dir`` is the page caches' store of the server being measured: shared, as the servers
    of one site share theirs, so every write's bump reaches its kept pages."""
    work = work_dir / "writers"
    shutil.rmtree(work, ignore_errors=True)
    (work / "instance").mkdir(parents=True)
    plan = prepare(url, work / "instance", learners, cache_dir)
    stop_file, plan_file, result_file = work / "stop", work / "plan.json", work / "crowd.json"
    state = Writing()
    with (
        SlowRelay(0.0) as relay,
        gunicorn(
            "lms:create_app()",
            server_environment(url, work / "instance", relay, cache_dir),
            work / "gunicorn.log",
            workers=workers,
            threads=threads,
            keepalive=KEEPALIVE_SECONDS,
        ) as base,
    ):
        plan_file.write_text(
            json.dumps(
                crowd_plan(
                    plan, base=base, think=think, stop_file=str(stop_file), visitors=2, newcomers=1
                )
            )
        )
        with open(work / "crowd.log", "wb") as out:
            process = subprocess.Popen(
                [PYTHON, "-m", "bench.crowd", str(plan_file), str(result_file)],
                cwd=REPO_DIR,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            time.sleep(3)  # the people have signed in and are writing before the first measurement
            yield state
        finally:
            stop_file.touch()
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    if result_file.exists():
        result = json.loads(result_file.read_text())
        state.requests = result["requests"]
        state.errors = sum(e["errors"] for e in result["endpoints"].values())
        writes = Counter(entry["kind"] for entry in result["journal"] if entry["answered"])
        seconds = result["phases"].get("mixed", {}).get("seconds", 0)
        state.note = (
            f"the mixed load ({learners} learners, 2 facilitators, an admin, visitors, newcomers; "
            f"its own gunicorn {workers}x{threads}): "
            f"{state.requests:,} requests in {seconds:.0f} s, {state.errors} errors; writes answered: "
            + ", ".join(f"{count} {kind}" for kind, count in sorted(writes.items()))
        )
    else:
        state.note = f"the mixed load left no result: {tail(work / 'crowd.log')}"


def run_crowd(plan: dict[str, Any], work_dir: Path, timeout: float) -> dict[str, Any]:
    """``bench.crowd`` in its own process (Locust patches the standard library for gevent); its result."""
    plan_file, result_file = work_dir / "plan.json", work_dir / "crowd.json"
    plan_file.write_text(json.dumps(plan))
    log_file = work_dir / "crowd.log"
    with open(log_file, "wb") as out:
        try:
            process = subprocess.run(
                [PYTHON, "-m", "bench.crowd", str(plan_file), str(result_file)],
                cwd=REPO_DIR,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"bench.crowd was still running after {timeout:.0f} s: {tail(log_file)}"
            ) from None
    if process.returncode != 0 or not result_file.exists():
        raise RuntimeError(f"bench.crowd exited with {process.returncode}: {tail(log_file)}")
    return json.loads(result_file.read_text())


def error_counts(endpoints: dict[str, Any]) -> Counter[str]:
    total: Counter[str] = Counter(dict.fromkeys(ERROR_KINDS, 0))
    for endpoint in endpoints.values():
        total.update(endpoint["errors_by_kind"])
    return total


def add_errors(
    endpoints: dict[str, Any],
    examples: list[dict[str, str]],
    name: str,
    kind: str,
    details: list[str],
) -> None:
    if not details:
        return
    endpoint = endpoints.setdefault(
        name,
        {
            "requests": 0,
            "statuses": {},
            "errors": 0,
            "errors_by_kind": {},
            "p50_ms": None,
            "p95_ms": None,
            "p99_ms": None,
        },
    )
    endpoint["errors_by_kind"][kind] = endpoint["errors_by_kind"].get(kind, 0) + len(details)
    endpoint["errors"] += len(details)
    examples.extend({"endpoint": name, "kind": kind, "detail": detail} for detail in details[:10])


def print_report(summary: dict[str, Any], out: Any = sys.stdout) -> None:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"

    rows = [
        (
            name,
            str(e["requests"]),
            str(e["errors"]),
            " ".join(f"{code}:{count}" for code, count in e["statuses"].items()) or "-",
            ms(e["p50_ms"]),
            ms(e["p95_ms"]),
            ms(e["p99_ms"]),
        )
        for name, e in sorted(summary["endpoints"].items())
    ]
    rows.append(
        (
            "all",
            str(summary["requests"]),
            str(summary["errors"]),
            "",
            ms(summary["all"]["p50_ms"]),
            ms(summary["all"]["p95_ms"]),
            ms(summary["all"]["p99_ms"]),
        )
    )
    format_table(
        ("endpoint", "requests", "errors", "statuses", "p50 ms", "p95 ms", "p99 ms"), rows, out=out
    )
    print(file=out)
    phases = "; ".join(
        f"{name} {phase['seconds']:.1f} s"
        + (
            f" ({phase['rounds']} rounds of {phase['parties']} parties)"
            if "rounds" in phase
            else ""
        )
        for name, phase in summary["phases"].items()
    )
    print(f"{summary['requests']:,} requests: {phases}", file=out)
    print(f"5xx answers: {summary['5xx']}", file=out)
    database = summary["database"]
    if "deadlocks" in database:
        waits = database["lock_waits"]
        print(f"deadlocks (pg_stat_database, over the run): {database['deadlocks']}", file=out)
        print(
            f"lock waits: seen in {waits['waiting_samples']} of {waits['samples']} samples, at most "
            f"{waits['most_at_once']} backends at once, "
            f"longest {waits['longest_seconds']:.1f} s; behind an idle transaction in "
            f"{waits['behind_idle_transaction']} samples, "
            f"behind a transaction open across the SMTP conversation in {waits['behind_smtp']}",
            file=out,
        )
    relay = summary["mail"]
    print(
        f"mail: {relay['messages']} messages through the relay ({relay['delay_seconds']:g} s each)",
        file=out,
    )
    print(
        f"server log: {summary['server_log_problems']} problems (tracebacks, ERROR/CRITICAL records)",
        file=out,
    )
    print(
        f"data: {summary['data_problems']} problems; "
        + "; ".join(f"{k}: {v}" for k, v in summary["data"].items()),
        file=out,
    )
    print(
        "errors: "
        + ", ".join(f"{kind} {count}" for kind, count in summary["errors_by_kind"].items())
        + f"; total {summary['errors']}",
        file=out,
    )
    for example in summary["error_examples"][:12]:
        lines = example["detail"].strip().splitlines() or [""]
        print(
            f"    {example['kind']} at {example['endpoint']}: {lines[-1 if example['kind'] == 'harness' else 0][:240]}",
            file=out,
        )


def _shown(path: Path) -> Path:
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="The mixed load of a live session under gunicorn, then the data checked; exits "
        "1 on any failure (bench/README.md, Load).",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LMS_LOAD_DATABASE_URL"),
        help="postgresql+psycopg://user@host/DATABASE (EMPTIED first) or sqlite:///FILE; default: a "
        "SQLite copy of the generated organisation",
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="gunicorn worker processes (default 4 on PostgreSQL, 2 on SQLite)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per worker (gthread); 1 runs sync workers (default 4)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="how long the mixed load runs (default 60; 0 with --iterations)",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=0,
        help="instead of a time: every user makes this many visits (what a test can rely on)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="then this many rounds of writes released together by a barrier (default 10)",
    )
    parser.add_argument(
        "--learners", type=int, default=60, help="learners of the live cohort (default 60)"
    )
    parser.add_argument(
        "--round-learners", type=int, help="learners taking part in each round (default: all)"
    )
    parser.add_argument("--visitors", type=int, default=4, help="signed-out visitors (default 4)")
    parser.add_argument("--newcomers", type=int, default=2, help="people signing up (default 2)")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean pause before each request, in seconds (default 1)",
    )
    parser.add_argument(
        "--submit-chance",
        type=float,
        default=0.5,
        help="of a learner's visit ending with a submit (default 0.5)",
    )
    parser.add_argument(
        "--smtp-delay",
        type=float,
        default=1.0,
        help="seconds the mail relay takes per message (default 1)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help=f"size of the generated organisation (default {DEFAULT_SCALE:g}: 1,000 learners)",
    )
    parser.add_argument(
        "--safety-seconds",
        type=float,
        default=900.0,
        help="with --iterations: stop if the visits are not done by then (default 900)",
    )
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "load.json",
        help="where the JSON report goes (default bench/results/load.json)",
    )
    args = parser.parse_args(argv)
    postgres = is_postgres(args.database_url)
    args.workers = args.workers or (4 if postgres else 2)
    if (
        args.learners < 1
        or args.workers < 1
        or args.threads < 1
        or args.seconds < 0
        or args.iterations < 0
        or args.rounds < 0
    ):
        parser.error(
            "--learners, --workers and --threads must be positive; --seconds, --iterations and --rounds not negative"
        )
    if not (args.seconds or args.iterations or args.rounds):
        parser.error("nothing to run: give --seconds, --iterations or --rounds")
    if args.database_url and not (postgres or args.database_url.startswith("sqlite:///")):
        parser.error("--database-url: a postgresql+psycopg:// or sqlite:/// URL")
    if not gunicorn_available():
        print(
            "gunicorn is not installed: .venv/bin/pip install -e '.[bench]' (make load does it)",
            file=sys.stderr,
        )
        return 2

    started_at = datetime.now(UTC)
    work_dir = CACHE_DIR / f"load-{os.getpid()}"
    shutil.rmtree(work_dir, ignore_errors=True)
    (work_dir / "instance").mkdir(parents=True)
    server_log = work_dir / "gunicorn.log"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    log_copy = args.output.with_name(f"{args.output.stem}-server.log")
    try:
        generated = ensure_dataset(args.scale)
        dataset = {
            k: v for k, v in generated.meta.items() if k in ("scale", "learners", "enrollments")
        }
        if postgres:
            url = args.database_url
            log(
                f"load: copying the organisation ({generated.meta['enrollments']:,} enrollments) "
                "into PostgreSQL, the database emptied first"
            )
            copy_from_sqlite(generated.path, url)
        else:
            db_file = (
                Path(args.database_url.removeprefix("sqlite:///"))
                if args.database_url
                else work_dir / "lms.sqlite"
            )
            if not args.database_url:
                for suffix in ("", "-wal"):  # a copy: the run writes, the cache stays as it was
                    if Path(f"{generated.path}{suffix}").exists():
                        shutil.copyfile(f"{generated.path}{suffix}", f"{db_file}{suffix}")
            url = database_url(db_file)
        log(
            f"load: preparing the live cohort of {args.learners} learners, its two facilitators, an admin"
        )
        plan = crowd_plan(
            prepare(url, work_dir / "instance", args.learners),
            seconds=args.seconds if not args.iterations else 0,
            iterations=args.iterations,
            rounds=args.rounds,
            round_learners=args.round_learners or args.learners,
            visitors=args.visitors,
            newcomers=args.newcomers,
            think=args.think,
            submit_chance=args.submit_chance,
            seed=args.seed,
            safety_seconds=args.safety_seconds,
        )
        server = "sync" if args.threads == 1 else f"gthread, {args.threads} threads each"
        with SlowRelay(args.smtp_delay) as relay:
            env = server_environment(url, work_dir / "instance", relay)
            with gunicorn(
                "lms:create_app()",
                env,
                server_log,
                workers=args.workers,
                threads=args.threads,
                keepalive=KEEPALIVE_SECONDS,
            ) as base:
                ready = Browser(base).get(
                    "/"
                )  # the workers have loaded the app before the clock starts
                if ready.status != 200:
                    raise RuntimeError(f"GET / answered {ready.status} before the run")
                plan["base"] = base
                deadlocks_before = deadlocks(url) if postgres else None
                sampler = LockSampler(url, relay) if postgres else None
                if sampler:
                    sampler.start()
                what = (
                    f"{args.iterations} visits each" if args.iterations else f"{args.seconds:g} s"
                )
                log(
                    f"load: {args.learners} learners, 2 facilitators, an admin, {args.visitors} "
                    f"visitors, {args.newcomers} newcomers for {what}, "
                    f"then {args.rounds} rounds, against gunicorn ({args.workers} workers, "
                    f"{server}) on {'PostgreSQL' if postgres else 'SQLite'}"
                )
                try:
                    timeout = (
                        (args.safety_seconds if args.iterations else args.seconds)
                        + 60
                        + args.rounds * 60
                    )
                    crowd = run_crowd(plan, work_dir, timeout)
                finally:
                    waits = sampler.stop() if sampler else None
            mail = {"messages": relay.messages, "delay_seconds": args.smtp_delay}
        database: dict[str, Any] = {"kind": "postgresql" if postgres else "sqlite"}
        if postgres:
            time.sleep(
                1.0
            )  # the backends have ended; their statistics reach pg_stat_database within a second
            database["deadlocks"] = deadlocks(url) - deadlocks_before
            database["lock_waits"] = vars(waits)
        # After the server has stopped: its log is complete and nothing writes any more.
        log_problems = server_log_problems(server_log.read_text(errors="replace"))
        problems, facts = data_problems(url, work_dir / "instance", plan, crowd["journal"])
    finally:
        if server_log.exists():
            shutil.copyfile(server_log, log_copy)  # the server's log, whole, beside the report
        shutil.rmtree(work_dir, ignore_errors=True)

    endpoints, examples = crowd["endpoints"], crowd["error_examples"]
    add_errors(endpoints, examples, "(server log)", "server log", log_problems)
    add_errors(endpoints, examples, "(data after the run)", "failed check", problems)
    if postgres:
        add_errors(
            endpoints,
            examples,
            "(PostgreSQL)",
            "database",
            [f"{database['deadlocks']} deadlocks detected"] if database["deadlocks"] else [],
        )
        add_errors(
            endpoints,
            examples,
            "(PostgreSQL)",
            "database",
            waits.examples[:1]
            and [
                f"{waits.behind_smtp} lock-wait samples behind a transaction left open across the "
                f"SMTP conversation: {waits.examples[0]}"
            ],
        )
    errors = error_counts(endpoints)
    summary = {
        "phases": crowd["phases"],
        "requests": crowd["requests"],
        "5xx": sum(
            count
            for e in endpoints.values()
            for code, count in e["statuses"].items()
            if code.isdigit() and int(code) >= 500
        ),
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "all": crowd["all"],
        "endpoints": endpoints,
        "visits": crowd["visits"],
        "database": database,
        "mail": mail,
        "server_log_problems": len(log_problems),
        "data_problems": len(problems),
        "data": facts,
        "error_examples": examples,
    }
    print()
    print(
        f"Load, {started_at:%Y-%m-%d %H:%M} UTC: {args.learners} learners, gunicorn {args.workers} "
        f"workers ({server}) on {database['kind']}, think {args.think:g} s"
    )
    print_report(summary)
    report = {
        "started_at": started_at.isoformat(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": machine(),
        "dataset": dataset,
        **summary,
        "server_log": str(log_copy),
    }
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"results: {_shown(args.output)}; the server's log: {_shown(log_copy)}")
    if summary["requests"] == 0:
        print("no request was made: that is not a pass", file=sys.stderr)
        return 1
    return 1 if summary["errors"] or summary["5xx"] else 0


if __name__ == "__main__":
    sys.exit(main())
