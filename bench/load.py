"""Load: the app under gunicorn, virtual learners doing what learners do for a bounded time,
every error counted. It passes only with zero errors.

    python -m bench.load [--seconds 30] [--learners 20] [--workers 2] [--threads 4] [--database FILE]

1. A database: a copy of the generated benchmark organisation at a small scale
   (``bench.generate``: the project's migrations, course sync, learners, cohorts, progress),
   or a copy of ``--database FILE``, brought to the head migration and synced with the shipped
   courses. Then, through the app's own services: one facilitator, ``--learners`` fresh learner
   accounts and two live cohorts with open registration (one with a seat for everybody, one
   small enough to keep a waitlist).
2. gunicorn serving ``lms:create_app()`` on that copy (``bench.common.gunicorn``), with the
   login rate limit raised for the run: every virtual learner signs in from 127.0.0.1, which the
   real limit would (rightly) stop after ten attempts a minute.
3. One thread per virtual learner, each visit a new browser session, until the time is up:
   sign in through the form (CSRF token), the catalog, a course page, start or continue the
   recording or the self-paced course, every step (recording progress posted as JSON with the
   ``X-CSRFToken`` header the player uses, readings opened, reflections autosaved as JSON and
   submitted through the form), a live session's page with register or withdraw, My learning,
   the data export, sign out. Where a browser sends two requests of one session at once, so
   does the learner (see :class:`VirtualLearner`).
4. Per endpoint: requests, status codes, errors, p50/p95/p99 latency; a table on stdout,
   ``bench/results/load.json`` and the server's whole log beside it. An error is a connection
   failure, a 5xx, any status the step does not expect (a 400 CSRF refusal, a 429, a redirect
   to the login page), a response that fails its check (a start that leads nowhere, a
   registration the cohort page does not show, played time or a submitted text missing from
   the learner's data export), an ERROR record or a traceback in the server's log, or a cohort
   left over-full or with a needless waitlist. Exit status 1 on any error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    CACHE_DIR,
    CONNECTION_ERRORS,
    COURSES_DIR,
    RESULTS_DIR,
    Browser,
    Response,
    csrf_token_in,
    format_table,
    gunicorn,
    gunicorn_available,
    lms_environment,
    log,
    machine,
)
from bench.generate import FIRST_NAMES, LAST_NAMES, REFLECTION_WORDS, ensure_dataset

DEFAULT_SCALE = 0.01  # the organisation around the load learners: 1,000 learners, 10,000 enrollments
LOAD_PASSWORD = "load-password-not-secret"
LEARNER_EMAIL = "load-learner-{:03d}@example.org"
FACILITATOR_EMAIL = "load-facilitator@example.org"
# High enough never to fire during a run (every virtual learner signs in from 127.0.0.1), and
# still a limit: the limiter's code runs on every login as it does in production.
LOGIN_RATE_LIMIT = "100000 per minute"
USER_AGENT = "lms-bench-load/1"
REQUEST_TIMEOUT = 30.0
WITHDRAW_CHANCE = 0.3  # of a visit to a cohort the learner is registered for
SECONDS_PER_PROGRESS_POST = 10.0  # the player reports about every 10 s of playback
ERROR_KINDS = ("connection", "5xx", "unexpected status", "failed check", "harness", "server log")
ERROR_EXAMPLES_KEPT = 20


# ------------------------------------------------------------------------------------- statistics


@dataclass
class EndpointStats:
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)


class Stats:
    """What every virtual learner's requests did, per endpoint; shared by the threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.endpoints: dict[str, EndpointStats] = {}
        self.examples: list[dict[str, Any]] = []
        self.visits: Counter[str] = Counter()

    def _endpoint(self, name: str) -> EndpointStats:
        return self.endpoints.setdefault(name, EndpointStats())

    def request(self, name: str, status: int | None, seconds: float) -> None:
        with self._lock:
            endpoint = self._endpoint(name)
            endpoint.requests += 1
            endpoint.statuses[str(status) if status is not None else "no answer"] += 1
            endpoint.latencies_ms.append(seconds * 1000)

    def error(self, name: str, kind: str, detail: str) -> None:
        with self._lock:
            self._endpoint(name).errors[kind] += 1
            if len(self.examples) < ERROR_EXAMPLES_KEPT:
                self.examples.append({"endpoint": name, "kind": kind, "detail": detail[:2000]})

    def visit(self, outcome: str) -> None:
        with self._lock:
            self.visits[outcome] += 1

    def error_counts(self) -> Counter[str]:
        total: Counter[str] = Counter({kind: 0 for kind in ERROR_KINDS})
        for endpoint in self.endpoints.values():
            total.update(endpoint.errors)
        return total


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ------------------------------------------------------------------------------------- server log

# A log record's first line: gunicorn's "[time] [pid] [LEVEL] message", Flask's "[time] LEVEL in module: message".
_LOG_RECORD = re.compile(r"^\[[^\]]+\] (?:\[\d+\] \[(?P<gunicorn>[A-Z]+)\]|(?P<flask>[A-Z]+) in [\w.]+:) ?(?P<message>.*)$")
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
            records.append((match.group("gunicorn") or match.group("flask"), match.group("message"), []))
        else:
            records[-1][2].append(line)
    problems = []
    for level, message, lines in records:
        traceback_shown = any(line.startswith("Traceback (most recent call last)") for line in lines)
        if level not in _PROBLEM_LEVELS and not traceback_shown:
            continue
        exceptions = [line for line in lines if _EXCEPTION_LINE.match(line)]
        problems.append(f"{level or 'stderr'}: {message}" + (f" ({exceptions[-1][:300]})" if exceptions else ""))
    return problems


# ------------------------------------------------------------------------------------- preparation


@dataclass(frozen=True)
class Step:
    id: str
    kind: str  # watch | read | reflect | attend
    min_words: int = 0


@dataclass(frozen=True)
class Plan:
    """What the virtual learners need to know: who they are and what there is to do."""

    learners: tuple[str, ...]
    password: str
    # (course slug, self-directed path) -> the steps of that path, in order
    self_directed: dict[tuple[str, str], tuple[Step, ...]]
    # live cohort id -> its course slug
    cohorts: dict[int, str]


@contextmanager
def _app_context(db_file: Path, instance_dir: Path) -> Iterator[Any]:
    """The app on ``db_file`` in this process, for preparing the data through its services."""
    from lms import create_app

    # create_app reads the instance folder from the environment only.
    previous = os.environ.get("LMS_INSTANCE_PATH")
    os.environ["LMS_INSTANCE_PATH"] = str(instance_dir)
    try:
        app = create_app({
            "SECRET_KEY": "load-preparation", "LMS_DATABASE_URL": f"sqlite:///{db_file}",
            "LMS_COURSES_DIR": str(COURSES_DIR), "LMS_MAIL_BACKEND": "log",
        })
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


def prepare(db_file: Path, instance_dir: Path, learners: int) -> Plan:
    """Bring ``db_file`` to the head migration and the shipped courses, then add the load's
    people and cohorts through the app's own services (as ``flask lms setup`` and ``flask lms
    demo`` do)."""
    from lms import migrations
    from lms.accounts.services import create_user, find_user_by_email
    from lms.cohorts.services import CohortData, create_cohort
    from lms.db import db_session, make_engine, transaction
    from lms.extension import lms_state
    from lms.learning.services import startable_paths

    engine = make_engine(f"sqlite:///{db_file}")
    migrations.upgrade(engine)
    engine.dispose()
    with _app_context(db_file, instance_dir), transaction():
        catalog = lms_state().catalog
        report = catalog.sync(db_session)
        if report.problems:
            raise SystemExit("shipped courses have problems: " + "; ".join(map(str, report.problems)))
        facilitator = find_user_by_email(FACILITATOR_EMAIL) or create_user(
            FACILITATOR_EMAIL, "Load Facilitator", LOAD_PASSWORD, is_facilitator=True)
        emails = []
        for number in range(1, learners + 1):
            email = LEARNER_EMAIL.format(number)
            if find_user_by_email(email) is None:
                name = f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {LAST_NAMES[number % len(LAST_NAMES)]}"
                # Every fifth learner reads the site in Spanish: the checks below never read words.
                create_user(email, name, LOAD_PASSWORD, locale="es" if number % 5 == 0 else "en", audience_role="education-support-professional")
            emails.append(email)
        self_directed: dict[tuple[str, str], tuple[Step, ...]] = {}
        live: list[str] = []
        for loaded in catalog.all():
            definition = loaded.definition
            for path in startable_paths(loaded):
                self_directed[(loaded.slug, path)] = tuple(
                    Step(step.id, step.kind, getattr(step, "min_words", 0)) for step in definition.steps_for(path))
            if "live" in definition.paths:
                live.append(loaded.slug)
        # Open now, starting in two weeks: one session with a seat for every learner, one small
        # enough that registrations queue on its waitlist and withdrawals promote from it.
        starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=14)
        cohorts: dict[int, str] = {}
        for index, slug in enumerate(live[:2]):
            capacity = learners if index == 0 else max(1, learners // 4)
            cohort = create_cohort(facilitator, CohortData(
                course_slug=slug, title=f"Load test session {index + 1}", starts_at=starts + timedelta(days=index),
                time_zone="America/New_York", minutes=60, capacity=capacity,
                location="Online", join_url="https://meet.example.org/load",
            ))
            cohorts[cohort.id] = slug
    if not self_directed:
        raise SystemExit("no shipped course has a recording or self-paced path: nothing to start")
    return Plan(tuple(emails), LOAD_PASSWORD, self_directed, cohorts)


def database_problems(db_file: Path, instance_dir: Path, plan: Plan) -> list[str]:
    """What must hold however the learners' requests interleaved: no cohort holds more seats
    than it has, and nobody waits on the list of a cohort with a free seat (a withdrawal
    promotes the next in line)."""
    from lms.cohorts.services import get_cohort, seats_taken, waitlist_length

    problems = []
    with _app_context(db_file, instance_dir):
        for cohort_id in sorted(plan.cohorts):
            cohort = get_cohort(cohort_id)
            seats, waiting = seats_taken(cohort), waitlist_length(cohort)
            if seats > cohort.capacity:
                problems.append(f"cohort {cohort_id} holds {seats} seats of {cohort.capacity}")
            if waiting and seats < cohort.capacity:
                problems.append(f"cohort {cohort_id} has {cohort.capacity - seats} free seats and {waiting} on its waitlist")
    return problems


# ------------------------------------------------------------------------------------- learners


class VisitOver(Exception):
    """The visit cannot go on: an error (already counted) or the end of the run."""


def _data_attribute(page: str, name: str) -> str | None:
    match = re.search(rf'data-{name}="([^"]*)"', page)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Call:
    """One request of a step: what it is counted as, and what answer it must get."""

    name: str
    method: str
    path: str
    expect: int = 200
    json_body: Any = None
    form: Mapping[str, str] | None = None
    redirect_to: str | Callable[[str], bool] | None = None


class VirtualLearner:
    """One person with one browser session per visit, going through the site as a learner does.

    Where a real browser sends two requests of one session at once, so does this learner: the
    player's last report still under way when the page is left (the player reports again on
    ``pagehide``), a reflection's autosave still under way when the form is submitted, a
    reading's link clicked twice. Each visit ends by checking in the learner's data export that
    nothing sent in the visit was lost.
    """

    def __init__(self, number: int, email: str, password: str, plan: Plan, base: str, stats: Stats, deadline: float,
                 think: float, seed: int) -> None:
        self.number = number
        self.email = email
        self.password = password
        self.plan = plan
        self.base = base
        self.stats = stats
        self.deadline = deadline
        self.think = think
        self.random = random.Random(seed)
        self.browser = Browser(base, USER_AGENT, timeout=REQUEST_TIMEOUT)
        self.token = ""  # the session's CSRF token, read from the last page that had one
        self.enrollments: dict[tuple[str, str], int] = {}  # what this learner started, remembered as a person would
        self.visits = 0
        # What this visit sent, to find in the export: played ranges and submitted reflections.
        self.played: dict[tuple[int, str], list[tuple[float, float]]] = {}
        self.submitted: dict[tuple[int, str], str] = {}

    # -- the loop

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            try:
                self.visit()
                self.stats.visit("completed")
            except VisitOver:
                self.stats.visit("ended early" if time.monotonic() < self.deadline else "cut by the deadline")
            except Exception:  # noqa: BLE001 - a bug in this harness is an error too, never a silent thread death
                self.stats.error("(harness)", "harness", traceback.format_exc())
                self.stats.visit("harness error")
            self.visits += 1

    def visit(self) -> None:
        self.browser = Browser(self.base, USER_AGENT, timeout=REQUEST_TIMEOUT)  # a new session each visit
        self.played, self.submitted = {}, {}
        self.sign_in()
        self.call(Call("catalog", "GET", "/"))
        paths = sorted(self.plan.self_directed)
        slug, path = paths[(self.number + self.visits) % len(paths)]
        self.take_course(slug, path)
        if self.plan.cohorts:
            cohort_ids = sorted(self.plan.cohorts)
            self.live_session(cohort_ids[(self.number + self.visits) % len(cohort_ids)])
        self.my_learning()
        self.call(Call("sign out", "POST", "/auth/logout", expect=303, form={"csrf_token": self.token}))

    # -- requests

    def pause(self) -> None:
        if self.think:
            time.sleep(self.random.uniform(0, 2 * self.think))
        if time.monotonic() >= self.deadline:
            raise VisitOver

    def call(self, call: Call, browser: Browser | None = None, pause: bool = True) -> Response:
        """One request, timed and counted; anything but the expected answer is an error and ends the visit."""
        if pause:
            self.pause()
        headers = {}
        if call.json_body is not None:  # as the player and the reflection script send it
            headers = {"X-CSRFToken": self.token, "Accept": "application/json"}
        started = time.perf_counter()
        try:
            response = (browser or self.browser).request(call.method, call.path, json_body=call.json_body, form=call.form, headers=headers)
        except CONNECTION_ERRORS as error:
            self.stats.request(call.name, None, time.perf_counter() - started)
            self.stats.error(call.name, "connection", f"{call.method} {call.path}: {type(error).__name__}: {error}")
            raise VisitOver from None
        self.stats.request(call.name, response.status, time.perf_counter() - started)
        if response.status != call.expect:
            kind = "5xx" if response.status >= 500 else "unexpected status"
            where = f" to {response.location}" if response.location else ""
            self.stats.error(call.name, kind, f"{call.method} {call.path} as {self.email}: {response.status}{where}, expected {call.expect}: {response.text[:300]}")
            raise VisitOver
        if call.redirect_to is not None:
            target = call.redirect_to
            self.check(call.name, target(response.location) if callable(target) else response.location == target,
                       f"{call.method} {call.path} redirected to {response.location!r}")
        token = csrf_token_in(response.text) if response.headers.get_content_type() == "text/html" else None
        if token:
            self.token = token
        return response

    def together(self, *calls: Call) -> list[Response]:
        """The calls at the same moment, each from its own tab of this browser (same session)."""
        self.pause()
        responses: list[Response | None] = [None] * len(calls)
        failures: list[BaseException] = []

        def send(index: int, tab: Browser) -> None:
            try:
                responses[index] = self.call(calls[index], tab, pause=False)
            except BaseException as error:  # noqa: BLE001 - re-raised below, in the learner's thread
                failures.append(error)

        threads = [threading.Thread(target=send, args=(i, self.browser.tab())) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:  # a bug in the harness before an error it counted
            raise next((failure for failure in failures if not isinstance(failure, VisitOver)), failures[0])
        return [response for response in responses if response is not None]

    def check(self, name: str, ok: bool, problem: str) -> None:
        if not ok:
            self.stats.error(name, "failed check", f"{self.email}: {problem}")
            raise VisitOver

    def json_of(self, name: str, response: Response) -> Any:
        try:
            return response.json()
        except ValueError:
            self.check(name, False, f"not JSON ({response.headers.get_content_type()}): {response.text[:200]}")

    # -- what a learner does

    def sign_in(self) -> None:
        self.call(Call("sign-in page", "GET", "/auth/login"))
        self.call(Call("sign in", "POST", "/auth/login", expect=303, redirect_to="/me",
                       form={"csrf_token": self.token, "email": self.email, "password": self.password, "next": ""}))

    def take_course(self, slug: str, path: str) -> None:
        page = self.call(Call("course page", "GET", f"/courses/{slug}")).text
        enrollment_id = self.enrollments.get((slug, path))
        start_forms = re.findall(rf'<form[^>]*action="/courses/{re.escape(slug)}/start">(.*?)</form>', page, re.S)
        if enrollment_id is None and any(f'name="path" value="{path}"' in form for form in start_forms):
            response = self.call(Call("start course", "POST", f"/courses/{slug}/start", expect=303, form={"csrf_token": self.token, "path": path},
                                      redirect_to=lambda to: bool(re.fullmatch(r"/learn/\d+", to))))
            enrollment_id = int(response.location.rsplit("/", 1)[1])
        elif enrollment_id is None:  # started in a visit cut short before the answer arrived
            panel = page[page.find('class="start-panel"'):]
            found = re.search(r'href="/learn/(\d+)"', panel)
            self.check("course page", found is not None, f"/courses/{slug}: neither a start form nor a continue link for {path}")
            enrollment_id = int(found.group(1))
        else:
            self.check("course page", f'href="/learn/{enrollment_id}"' in page, f"/courses/{slug} has no link to enrollment {enrollment_id}")
        self.enrollments[(slug, path)] = enrollment_id

        steps = self.plan.self_directed[(slug, path)]
        overview = self.call(Call("enrollment page", "GET", f"/learn/{enrollment_id}")).text
        listed = re.findall(rf'href="/learn/{enrollment_id}/([^"/?#]+)"', overview)
        self.check("enrollment page", all(step.id in listed for step in steps),
                   f"/learn/{enrollment_id} lists {sorted(set(listed))}, the course has {[s.id for s in steps]}")
        for step in steps:
            url = f"/learn/{enrollment_id}/{step.id}"
            if step.kind == "read" and self.random.random() < 0.3:
                step_page = self.together(Call("step: read", "GET", url), Call("step: read", "GET", url))[1].text  # a double click
            else:
                step_page = self.call(Call(f"step: {step.kind}", "GET", url)).text
            if step.kind == "watch":
                self.watch(enrollment_id, step, url, step_page)
            elif step.kind == "reflect":
                self.reflect(enrollment_id, step, url, step_page)

    def watch(self, enrollment_id: int, step: Step, url: str, page: str) -> None:
        """Play on from somewhere, reporting every ~10 s; leave the page while the last report
        is still under way, so the pagehide report goes at the same moment."""
        progress_url = _data_attribute(page, "progress-url")
        duration = float(_data_attribute(page, "duration") or 0)
        self.check("step: watch", progress_url == f"{url}/progress" and duration > 0, f"{url}: no player with a progress URL and a duration")
        chunk = min(SECONDS_PER_PROGRESS_POST, duration / 3)
        start = self.random.uniform(0, duration - 3 * chunk)
        ranges = [(round(start + i * chunk, 2), round(start + (i + 1) * chunk, 2)) for i in range(3)]
        self.played[(enrollment_id, step.id)] = ranges

        def report(played: tuple[float, float]) -> Call:
            return Call("progress post", "POST", progress_url, json_body={"segments": [list(played)], "duration": duration})

        responses = [self.call(report(ranges[0])), *self.together(report(ranges[1]), report(ranges[2]))]
        for response in responses:
            result = self.json_of("progress post", response)
            self.check("progress post", {"fraction", "percent", "done"} <= result.keys() and 0 < result["fraction"] <= 1,
                       f"{progress_url} answered {result}")

    def reflect(self, enrollment_id: int, step: Step, url: str, page: str) -> None:
        """Type (autosaved as JSON, as the script does after each pause), then submit the form
        while the autosave of the text as it was two seconds earlier is still under way."""
        draft_url = _data_attribute(page, "draft-url")
        self.check("step: reflect", draft_url == f"{url}/reflection/draft", f"{url}: no reflection form with a draft URL")
        words = [self.random.choice(REFLECTION_WORDS) for _ in range(max(step.min_words, 20) + 20)]
        text = " ".join(words)

        def autosave(typed: list[str]) -> Call:
            return Call("draft autosave", "POST", draft_url, json_body={"body": " ".join(typed)})

        if self.random.random() < 0.5:  # a pause halfway through typing: the draft exists before the race below
            self.check_draft(self.call(autosave(words[: len(words) // 2])))
        submit = Call("reflection submit", "POST", f"{url}/reflection", expect=303, redirect_to=url, form={
            "csrf_token": self.token, "body": text, "submit": "Submit", **({"shared": "y"} if self.random.random() < 0.5 else {}),
        })
        draft_response, _submitted = self.together(autosave(words[:-5]), submit)
        self.check_draft(draft_response)
        self.submitted[(enrollment_id, step.id)] = text

    def check_draft(self, response: Response) -> None:
        result = self.json_of("draft autosave", response)
        self.check("draft autosave", isinstance(result.get("saved"), bool) and result.get("status") in ("draft", "submitted"),
                   f"autosave answered {result}")

    def live_session(self, cohort_id: int) -> None:
        slug = self.plan.cohorts[cohort_id]
        course = self.call(Call("course page", "GET", f"/courses/{slug}")).text
        self.check("course page", f'href="/cohorts/{cohort_id}"' in course, f"/courses/{slug} does not list cohort {cohort_id}")
        url = f"/cohorts/{cohort_id}"
        page = self.call(Call("cohort page", "GET", url)).text
        if f'action="{url}/register"' in page:
            self.call(Call("cohort register", "POST", f"{url}/register", expect=303, redirect_to=url, form={"csrf_token": self.token}))
            after = self.call(Call("cohort page", "GET", url)).text
            self.check("cohort register", f'action="{url}/withdraw"' in after, f"{url}: registered, yet the page offers no withdrawal")
        elif f'action="{url}/withdraw"' in page:
            if self.random.random() < WITHDRAW_CHANCE:
                self.call(Call("cohort withdraw", "POST", f"{url}/withdraw", expect=303, redirect_to=url, form={"csrf_token": self.token}))
                after = self.call(Call("cohort page", "GET", url)).text
                self.check("cohort withdraw", f'action="{url}/register"' in after, f"{url}: withdrawn, yet the page offers no registration")
        else:
            self.check("cohort page", False, f"{url} offers neither registration nor withdrawal")

    def my_learning(self) -> None:
        dashboard = self.call(Call("my learning /me", "GET", "/me")).text
        missing = [e for e in self.enrollments.values() if f'href="/learn/{e}"' not in dashboard]
        self.check("my learning /me", not missing, f"/me does not list enrollments {missing}")
        export = self.json_of("data export", self.call(Call("data export", "GET", "/me/export.json")))
        exported = {e["id"] for e in export.get("enrollments", [])}
        self.check("data export", export.get("profile", {}).get("email") == self.email and set(self.enrollments.values()) <= exported,
                   f"the export of {export.get('profile', {}).get('email')} holds enrollments {sorted(exported)}, expected {sorted(self.enrollments.values())}")
        self.check_nothing_lost(export)

    def check_nothing_lost(self, export: dict[str, Any]) -> None:
        """Every range played in this visit is in the recorded segments; every reflection
        submitted is submitted with the text sent, not with an autosave's earlier text."""
        progress = {(p["enrollment_id"], p["step_id"]): p["segments"] for p in export.get("step_progress", [])}
        for key, ranges in self.played.items():
            recorded = progress.get(key, [])
            lost = [r for r in ranges if not any(s <= r[0] + 0.01 and e >= r[1] - 0.01 for s, e in recorded)]
            self.check("data export", not lost, f"played {lost} of step {key[1]} (enrollment {key[0]}) are not in the recorded segments {recorded}")
        reflections = {(r["enrollment_id"], r["prompt_id"]): r for r in export.get("reflections", [])}
        for key, text in self.submitted.items():
            found = reflections.get(key)
            self.check("data export", found is not None and found["status"] == "submitted" and found["body"] == text,
                       f"reflection {key[1]} (enrollment {key[0]}) was submitted with {len(text.split())} words; the export has "
                       + (f"{found['status']} with {len((found['body'] or '').split())} words" if found else "none"))


# ------------------------------------------------------------------------------------- run


def drive(base: str, plan: Plan, seconds: float, think: float, seed: int = 20261124) -> tuple[Stats, float]:
    """Every virtual learner in its own thread until ``seconds`` have passed; the stats and the
    wall time until the last one finished (requests under way at the deadline complete)."""
    stats = Stats()
    started = time.monotonic()
    deadline = started + seconds
    learners = [VirtualLearner(n, email, plan.password, plan, base, stats, deadline, think, seed + n) for n, email in enumerate(plan.learners)]
    threads = [threading.Thread(target=learner.run, name=f"learner-{n}", daemon=True) for n, learner in enumerate(learners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT * 2)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    if stuck:
        stats.error("(harness)", "harness", f"still running {REQUEST_TIMEOUT * 2:.0f} s after the deadline: {', '.join(stuck)}")
    return stats, time.monotonic() - started


def summarize(stats: Stats, seconds: float) -> dict[str, Any]:
    endpoints = {}
    for name, endpoint in sorted(stats.endpoints.items()):
        endpoints[name] = {
            "requests": endpoint.requests,
            "statuses": dict(sorted(endpoint.statuses.items())),
            "errors": sum(endpoint.errors.values()),
            "errors_by_kind": dict(endpoint.errors),
            **{f"p{p}_ms": (round(value, 1) if (value := percentile(endpoint.latencies_ms, p)) is not None else None) for p in (50, 95, 99)},
            "max_ms": round(max(endpoint.latencies_ms), 1) if endpoint.latencies_ms else None,
        }
    requests = sum(endpoint.requests for endpoint in stats.endpoints.values())
    errors = stats.error_counts()
    all_latencies = [ms for endpoint in stats.endpoints.values() for ms in endpoint.latencies_ms]
    return {
        "seconds": round(seconds, 2),
        "requests": requests,
        "requests_per_second": round(requests / seconds, 1) if seconds else None,
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "visits": dict(stats.visits),
        **{f"p{p}_ms": (round(value, 1) if (value := percentile(all_latencies, p)) is not None else None) for p in (50, 95, 99)},
        "endpoints": endpoints,
        "error_examples": stats.examples,
    }


def print_report(summary: dict[str, Any], out: Any = sys.stdout) -> None:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"

    rows = [
        (name, str(e["requests"]), str(e["errors"]), " ".join(f"{code}:{count}" for code, count in e["statuses"].items()) or "-",
         ms(e["p50_ms"]), ms(e["p95_ms"]), ms(e["p99_ms"]))
        for name, e in summary["endpoints"].items()
    ]
    rows.append(("all", str(summary["requests"]), str(summary["errors"]), "", ms(summary["p50_ms"]), ms(summary["p95_ms"]), ms(summary["p99_ms"])))
    format_table(("endpoint", "requests", "errors", "statuses", "p50 ms", "p95 ms", "p99 ms"), rows, out=out)
    print(file=out)
    visits = ", ".join(f"{count} {outcome}" for outcome, count in sorted(summary["visits"].items())) or "none"
    print(f"{summary['requests']:,} requests in {summary['seconds']:.1f} s: {summary['requests_per_second']} req/s; visits: {visits}", file=out)
    print("errors: " + ", ".join(f"{kind} {count}" for kind, count in summary["errors_by_kind"].items()) + f"; total {summary['errors']}", file=out)
    for example in summary["error_examples"][:10]:
        first_line = example["detail"].strip().splitlines()[-1 if example["kind"] == "harness" else 0]
        print(f"    {example['kind']} at {example['endpoint']}: {first_line[:240]}", file=out)


def _shown(path: Path) -> Path:
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description="A mixed learner workload under gunicorn; exits 1 on any error (bench/README.md, Load).")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the learners keep going (default 30)")
    parser.add_argument("--learners", type=int, default=20, help="virtual learners, one thread each (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (gthread); 1 runs sync workers (default 4)")
    parser.add_argument("--think", type=float, default=0.1, help="mean pause before each request, in seconds (default 0.1)")
    parser.add_argument("--database", type=Path, help="run on a copy of this SQLite file instead of the generated organisation")
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE, help=f"size of the generated organisation (default {DEFAULT_SCALE:g}: 1,000 learners)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "load.json", help="where the JSON report goes (default bench/results/load.json)")
    args = parser.parse_args(argv)
    if args.learners < 1 or args.seconds <= 0 or args.workers < 1 or args.threads < 1:
        parser.error("--learners, --seconds, --workers and --threads must be positive")
    if not gunicorn_available():
        print("gunicorn is not installed: .venv/bin/pip install -e '.[bench]' (make load does it)", file=sys.stderr)
        return 2
    if args.database and not args.database.is_file():
        parser.error(f"--database {args.database}: no such file")

    started_at = datetime.now(UTC)
    work_dir = CACHE_DIR / f"load-{os.getpid()}"
    shutil.rmtree(work_dir, ignore_errors=True)
    (work_dir / "instance").mkdir(parents=True)
    db_file = work_dir / "lms.sqlite"
    server_log = work_dir / "gunicorn.log"
    try:
        if args.database:
            source, dataset = args.database, {"file": str(args.database)}
        else:
            generated = ensure_dataset(args.scale)
            source, dataset = generated.path, {k: v for k, v in generated.meta.items() if k in ("scale", "learners", "enrollments", "cached")}
        for suffix in ("", "-wal"):  # a copy: the run writes, the source stays as it was
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{db_file}{suffix}")
        log(f"load: preparing {args.learners} learners and two live cohorts on a copy of {source.name}")
        plan = prepare(db_file, work_dir / "instance", args.learners)
        server = "sync" if args.threads == 1 else f"gthread, {args.threads} threads each"
        env = lms_environment(db_file, work_dir / "instance", LMS_LOGIN_RATE_LIMIT=LOGIN_RATE_LIMIT)
        with gunicorn("lms:create_app()", env, server_log, workers=args.workers, threads=args.threads) as base:
            ready = Browser(base, USER_AGENT).get("/")  # the workers have loaded the app before the clock starts
            if ready.status != 200:
                raise RuntimeError(f"GET / answered {ready.status} before the run")
            log(f"load: {args.learners} learners for {args.seconds:g} s against gunicorn ({args.workers} workers, {server})")
            stats, seconds = drive(base, plan, args.seconds, args.think)
        # After the server has stopped: its log is complete and nothing writes any more.
        for problem in server_log_problems(server_log.read_text(errors="replace")):
            stats.error("(server log)", "server log", problem)
        for problem in database_problems(db_file, work_dir / "instance", plan):
            stats.error("(database after the run)", "failed check", problem)
        summary = summarize(stats, seconds)
    finally:
        # The server's log, whole, beside the report: the tracebacks are read there.
        args.output.parent.mkdir(parents=True, exist_ok=True)
        log_copy = args.output.with_name(f"{args.output.stem}-server.log")
        if server_log.exists():
            shutil.copyfile(server_log, log_copy)
        shutil.rmtree(work_dir, ignore_errors=True)

    print()
    print(f"Load, {started_at:%Y-%m-%d %H:%M} UTC: {args.learners} learners, {args.seconds:g} s, gunicorn {args.workers} workers ({server}), think {args.think:g} s")
    print_report(summary)
    report = {
        "started_at": started_at.isoformat(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": machine(),
        "dataset": dataset,
        "cohorts": {str(k): v for k, v in plan.cohorts.items()},
        **summary,
        "server_log": str(log_copy),
    }
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"results: {_shown(args.output)}; the server's log: {_shown(log_copy)}")
    if summary["requests"] == 0:
        print("no request was made: that is not a pass", file=sys.stderr)
        return 1
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
