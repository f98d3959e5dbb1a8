"""The people of the mixed load, as Locust users: learners of one live cohort, its two
co-facilitators, an admin, visitors and newcomers. Run by ``bench.load`` in a child process
(Locust patches the standard library for gevent on import, which the harness's own process,
with its database connections and its gunicorn, must not get):

    python -m bench.crowd PLAN.json RESULT.json

The plan (written by ``bench.load.prepare``) says who everybody is, what there is to do and for
how long: ``seconds`` (a timed run), ``iterations`` (each user does that many visits, then
stops: what a test on a loaded machine can rely on), or until ``stop_file`` appears (the load
behind the pages benchmark), then ``rounds`` (the same writes released
together by a barrier, round after round). The result holds, per endpoint, requests, status
codes, errors by kind and latency percentiles (Locust's statistics), the first errors in full,
and the journal of every write the server answered as done, which ``bench.load`` then looks
for in the database.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
import gevent.pool

# Locust's import patches the standard library for gevent; nothing may import socket or ssl before it.
import locust
from locust import HttpUser, constant
from locust.clients import HttpSession
from locust.env import Environment

from bench.common import csrf_token_in
from bench.generate import FIRST_NAMES, LAST_NAMES, REFLECTION_WORDS

USER_AGENT = "lms-bench-load/2 (locust)"
REQUEST_TIMEOUT = 30.0
ERROR_KINDS = ("connection", "5xx", "unexpected status", "failed check", "harness")
ERROR_EXAMPLES_KEPT = 30
SPAWN_PER_SECOND = 10
# How a facilitator marks a learner: mostly present (completions happen, certificates follow),
# sometimes a correction that takes a completion back.
ATTENDANCE_CHOICES = (
    ("present", 0.6),
    ("late", 0.15),
    ("absent", 0.1),
    ("excused", 0.05),
    ("", 0.1),
)


class VisitOver(Exception):
    """The visit cannot go on: an error (already counted) or the end of the run."""

    def __init__(self, unanswered: bool = False) -> None:
        super().__init__()
        self.unanswered = unanswered  # the request got no answer at all: it may have been done


# ------------------------------------------------------------------------------------- tallies


class Tally:
    """What the answers said, beside Locust's own statistics: status codes and errors by kind
    per endpoint, the first errors in full, and the journal of answered writes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # gevent's, once patched: greenlets of one process
        self.statuses: dict[str, Counter[str]] = defaultdict(Counter)
        self.errors: dict[str, Counter[str]] = defaultdict(Counter)
        self.examples: list[dict[str, str]] = []
        self.journal: list[dict[str, Any]] = []
        self.visits: Counter[str] = Counter()

    def status(self, name: str, status: str) -> None:
        with self.lock:
            self.statuses[name][status] += 1

    def error(self, name: str, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[name][kind] += 1
            if len(self.examples) < ERROR_EXAMPLES_KEPT:
                self.examples.append({"endpoint": name, "kind": kind, "detail": detail[:2000]})

    def wrote(self, kind: str, started: float, answered: float, **what: Any) -> None:
        with self.lock:
            self.journal.append({"kind": kind, "started": started, "answered": answered, **what})


TALLY = Tally()


def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    context: Any = None,
    exception: Any = None,
    **kwargs: Any,
) -> None:
    status = getattr(response, "status_code", None)
    TALLY.status(name, str(status) if status else "no answer")


# ------------------------------------------------------------------------------------- one person


@dataclass(frozen=True)
class Call:
    """One request: what it is counted as, and what answer it must get."""

    name: str
    method: str
    path: str
    expect: int = 200
    json_body: Any = None
    form: Mapping[str, str] | None = None
    redirect_to: str | Callable[[str], bool] | None = None


def _data_attribute(page: str, name: str) -> str | None:
    match = re.search(rf'data-{name}="([^"]*)"', page)
    return match.group(1) if match else None


def _location(response: Any) -> str:
    target = response.headers.get("Location", "")
    return re.sub(r"^https?://[^/]+", "", target)


class Person:
    """One person's browser session (a Locust ``HttpSession``: its cookies, its connections)
    and the checks every request of theirs goes through. A request that is not answered as it
    must be is counted by kind and ends the visit (what follows depends on it)."""

    def __init__(
        self, client: HttpSession, plan: dict[str, Any], rng: random.Random, email: str = ""
    ) -> None:
        self.client = client
        self.plan = plan
        self.random = rng
        self.email = email
        self.token = ""  # the session's CSRF token, read from the last page that had one
        self.deadline = plan["deadline"]

    def pause(self) -> None:
        think = self.plan["think"]
        if think:
            gevent.sleep(self.random.uniform(0, 2 * think))
        if self.deadline and time.time() >= self.deadline:
            raise VisitOver

    def call(self, call: Call, pause: bool = True) -> Any:
        if pause:
            self.pause()
        headers = (
            {"Accept": "application/json", "X-CSRFToken": self.token}
            if call.json_body is not None
            else {}
        )
        started = time.time()
        try:
            with self.client.request(
                call.method,
                call.path,
                name=call.name,
                json=call.json_body,
                data=call.form,
                headers=headers,
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT,
                catch_response=True,
            ) as response:
                answered = time.time()
                status = response.status_code
                if not status:  # Locust answers a connection failure with status 0
                    TALLY.error(
                        call.name, "connection", f"{call.method} {call.path}: {response.error}"
                    )
                    response.failure(str(response.error))
                    raise VisitOver(unanswered=True)
                if status != call.expect:
                    kind = "5xx" if status >= 500 else "unexpected status"
                    where = f" to {_location(response)}" if response.headers.get("Location") else ""
                    TALLY.error(
                        call.name,
                        kind,
                        f"{call.method} {call.path} as {self.email or 'a visitor'}: "
                        f"{status}{where}, expected {call.expect}: {response.text[:300]}",
                    )
                    response.failure(f"{status}, expected {call.expect}")
                    raise VisitOver
                if call.redirect_to is not None:
                    target, location = call.redirect_to, _location(response)
                    if not (target(location) if callable(target) else location == target):
                        self.fail(
                            call.name,
                            f"{call.method} {call.path} redirected to {location!r}",
                            response,
                        )
                response.success()
        except VisitOver:
            raise
        content_type = response.headers.get("Content-Type", "")
        token = csrf_token_in(response.text) if content_type.startswith("text/html") else None
        if token:
            self.token = token
        response.started, response.answered = started, answered
        return response

    def fail(self, name: str, problem: str, response: Any = None) -> None:
        TALLY.error(name, "failed check", f"{self.email or 'a visitor'}: {problem}")
        if response is not None:
            response.failure(problem)
        raise VisitOver

    def check(self, name: str, ok: bool, problem: str) -> None:
        if not ok:
            self.fail(name, problem)

    def json_of(self, name: str, response: Any) -> Any:
        try:
            return response.json()
        except ValueError:
            self.fail(
                name, f"not JSON ({response.headers.get('Content-Type')}): {response.text[:200]}"
            )

    def sign_in(self) -> None:
        self.call(Call("sign-in page", "GET", "/auth/login"))
        self.call(
            Call(
                "sign in",
                "POST",
                "/auth/login",
                expect=303,
                redirect_to=lambda to: to.startswith("/"),
                form={
                    "csrf_token": self.token,
                    "email": self.email,
                    "password": self.plan["password"],
                    "next": "",
                },
            )
        )


class Learner(Person):
    """A learner of the live cohort: types and autosaves reflections, submits them while the
    last autosave is still under way, and watches the recording (its progress posted as the
    player does, the last report and the ``pagehide`` one at the same moment)."""

    def __init__(
        self, client: HttpSession, plan: dict[str, Any], rng: random.Random, me: dict[str, Any]
    ) -> None:
        super().__init__(client, plan, rng, me["email"])
        self.me = me
        self.visits = 0

    def visit(self) -> None:
        step = self.reflect_step(self.visits)
        self.visits += 1
        draft_url, words = self.open_reflection(step)
        for cut in sorted(self.random.sample(range(5, len(words) - 5), 2)):
            self.autosave(draft_url, step, words[:cut])
        if self.random.random() < self.plan["submit_chance"]:
            self.submit(draft_url, step, words)
        self.watch()
        if self.random.random() < 0.2:
            self.small_session()
        if self.random.random() < 0.3:
            self.call(Call("my learning /me", "GET", "/me"))

    def small_session(self) -> None:
        """The small session: register (its waitlist once full) or, when registered, withdraw
        (which promotes the next in line)."""
        url = f"/cohorts/{self.plan['waitlist_cohort']}"
        page = self.call(Call("cohort page", "GET", url)).text
        if f'action="{url}/register"' in page:
            self.call(
                Call(
                    "cohort register",
                    "POST",
                    f"{url}/register",
                    expect=303,
                    redirect_to=url,
                    form={"csrf_token": self.token},
                )
            )
        elif f'action="{url}/withdraw"' in page:
            self.call(
                Call(
                    "cohort withdraw",
                    "POST",
                    f"{url}/withdraw",
                    expect=303,
                    redirect_to=url,
                    form={"csrf_token": self.token},
                )
            )
        else:
            self.fail("cohort page", f"{url} offers neither registration nor withdrawal")

    def reflect_step(self, number: int) -> dict[str, Any]:
        """The reflection of this learner's ``number``th visit: learners start at different ones,
        so the last reflection of a learner one short of done comes up early in some visits."""
        steps = self.plan["reflect_steps"]
        return steps[(number + self.me["live_enrollment"]) % len(steps)]

    def open_reflection(self, step: dict[str, Any]) -> tuple[str, list[str]]:
        url = f"/learn/{self.me['live_enrollment']}/{step['id']}"
        page = self.call(Call("step: reflect", "GET", url)).text
        draft_url = _data_attribute(page, "draft-url")
        self.check(
            "step: reflect",
            draft_url == f"{url}/reflection/draft",
            f"{url}: no reflection form with a draft URL",
        )
        return draft_url, [
            self.random.choice(REFLECTION_WORDS)
            for _ in range(step["min_words"] + self.random.randrange(10, 30))
        ]

    def _autosave_call(self, draft_url: str, typed: list[str]) -> Call:
        return Call("draft autosave", "POST", draft_url, json_body={"body": " ".join(typed)})

    def _draft_answered(self, response: Any, step: dict[str, Any], body: str) -> None:
        result = self.json_of("draft autosave", response)
        self.check(
            "draft autosave",
            isinstance(result.get("saved"), bool)
            and result.get("status") in ("draft", "submitted"),
            f"autosave answered {result}",
        )
        TALLY.wrote(
            "draft",
            response.started,
            response.answered,
            enrollment=self.me["live_enrollment"],
            step=step["id"],
            body=body,
            saved=result["saved"],
        )

    def autosave(self, draft_url: str, step: dict[str, Any], typed: list[str]) -> None:
        self._draft_answered(
            self.call(self._autosave_call(draft_url, typed)), step, " ".join(typed)
        )

    def submit(
        self, draft_url: str, step: dict[str, Any], words: list[str], pause: bool = True
    ) -> None:
        """Submit the form while the autosave of the text as it was a moment earlier is under way."""
        url = draft_url.removesuffix("/draft")
        text = " ".join(words)
        submit = Call(
            "reflection submit",
            "POST",
            url,
            expect=303,
            redirect_to=url.removesuffix("/reflection"),
            form={
                "csrf_token": self.token,
                "body": text,
                "submit": "Submit",
                **({"shared": "y"} if self.random.random() < 0.5 else {}),
            },
        )
        if pause:
            self.pause()
        TALLY.wrote(
            "submit sent",
            time.time(),
            0,
            enrollment=self.me["live_enrollment"],
            step=step["id"],
            body=text,
        )
        draft, submitted = self._at_once(self._autosave_call(draft_url, words[:-3]), submit)
        self._answered(
            draft, lambda response: self._draft_answered(response, step, " ".join(words[:-3]))
        )
        self._answered(
            submitted,
            lambda response: TALLY.wrote(
                "submit",
                response.started,
                response.answered,
                enrollment=self.me["live_enrollment"],
                step=step["id"],
                body=text,
            ),
        )
        for outcome in (draft, submitted):
            if isinstance(outcome, BaseException):
                raise outcome

    def _at_once(self, *calls: Call) -> list[Any]:
        """The calls at the same moment; each one's response, or the exception it ended with."""
        greenlets = [gevent.spawn(self.call, call, False) for call in calls]
        gevent.joinall(greenlets)
        return [
            greenlet.exception if greenlet.exception is not None else greenlet.value
            for greenlet in greenlets
        ]

    def _answered(self, outcome: Any, record: Callable[[Any], None]) -> None:
        """Journal an answered write even when the request sent with it failed: what the
        server said it stored must be found, whatever happened beside it."""
        if not isinstance(outcome, BaseException):
            try:
                record(outcome)
            except VisitOver:
                pass  # a failed check of the answer: counted already

    def open_recording(self) -> tuple[str, float]:
        watch = self.plan["watch_step"]
        url = f"/learn/{self.me['recording_enrollment']}/{watch['id']}"
        page = self.call(Call("step: watch", "GET", url)).text
        progress_url = _data_attribute(page, "progress-url")
        duration = float(_data_attribute(page, "duration") or 0)
        self.check(
            "step: watch",
            progress_url == f"{url}/progress" and duration > 0,
            f"{url}: no player with a progress URL and a duration",
        )
        return progress_url, duration

    def _progress_call(
        self, progress_url: str, played: tuple[float, float], duration: float
    ) -> Call:
        return Call(
            "progress post",
            "POST",
            progress_url,
            json_body={"segments": [list(played)], "duration": duration},
        )

    def _progress_answered(self, response: Any, played: tuple[float, float]) -> None:
        result = self.json_of("progress post", response)
        self.check(
            "progress post",
            {"fraction", "percent", "done"} <= result.keys() and 0 < result["fraction"] <= 1,
            f"progress answered {result}",
        )
        TALLY.wrote(
            "progress",
            response.started,
            response.answered,
            enrollment=self.me["recording_enrollment"],
            step=self.plan["watch_step"]["id"],
            played=list(played),
        )

    def _ranges(self, duration: float) -> list[tuple[float, float]]:
        chunk = min(10.0, duration / 3)
        start = self.random.uniform(0, duration - 3 * chunk)
        return [(round(start + i * chunk, 2), round(start + (i + 1) * chunk, 2)) for i in range(3)]

    def watch(self) -> None:
        progress_url, duration = self.open_recording()
        ranges = self._ranges(duration)
        self._progress_answered(
            self.call(self._progress_call(progress_url, ranges[0], duration)), ranges[0]
        )
        self.pause()
        pair = self._at_once(*(self._progress_call(progress_url, r, duration) for r in ranges[1:]))
        for outcome, played in zip(pair, ranges[1:], strict=True):
            self._answered(
                outcome, lambda response, played=played: self._progress_answered(response, played)
            )
        for outcome in pair:
            if isinstance(outcome, BaseException):
                raise outcome

    # -- rounds: the page read first, the writes released together

    def prepare_round(self, number: int) -> Any:
        step = self.reflect_step(number)
        draft_url, words = self.open_reflection(step)
        progress_url, duration = self.open_recording()
        return step, draft_url, words, progress_url, duration

    def fire_round(self, prepared: Any) -> None:
        step, draft_url, words, progress_url, duration = prepared
        played = self._ranges(duration)[0]
        url = draft_url.removesuffix("/draft")
        text = " ".join(words)
        calls = (
            self._autosave_call(draft_url, words[:-3]),
            Call(
                "reflection submit",
                "POST",
                url,
                expect=303,
                redirect_to=url.removesuffix("/reflection"),
                form={"csrf_token": self.token, "body": text, "submit": "Submit"},
            ),
            self._progress_call(progress_url, played, duration),
        )
        TALLY.wrote(
            "submit sent",
            time.time(),
            0,
            enrollment=self.me["live_enrollment"],
            step=step["id"],
            body=text,
        )
        draft, submitted, progress = self._at_once(*calls)
        self._answered(
            draft, lambda response: self._draft_answered(response, step, " ".join(words[:-3]))
        )
        self._answered(
            submitted,
            lambda response: TALLY.wrote(
                "submit",
                response.started,
                response.answered,
                enrollment=self.me["live_enrollment"],
                step=step["id"],
                body=text,
            ),
        )
        self._answered(progress, lambda response: self._progress_answered(response, played))
        for outcome in (draft, submitted, progress):
            if isinstance(outcome, BaseException):
                raise outcome


class CoFacilitator(Person):
    """One of the live cohort's two facilitators: reads the roster, saves the whole roster's
    attendance (the other one does the same, on the same roster), issues the certificates."""

    def roster(self) -> dict[str, str]:
        cohort = self.plan["live_cohort"]
        page = self.call(Call("roster", "GET", f"/facilitate/cohorts/{cohort}")).text
        ids = re.findall(r'name="status_(\d+)"', page)
        self.check(
            "roster",
            len(ids) == len(self.plan["learners"]),
            f"the roster's form has {len(ids)} learners, the cohort {len(self.plan['learners'])}",
        )
        return self.attendance_form(ids)

    def attendance_form(self, ids: list[str]) -> dict[str, str]:
        statuses, weights = zip(*ATTENDANCE_CHOICES, strict=True)
        minutes = self.plan["cohort_minutes"]
        form = {"csrf_token": self.token, "submit": "Save attendance"}
        for enrollment_id in ids:
            status = self.random.choices(statuses, weights)[0]
            form[f"status_{enrollment_id}"] = status
            form[f"minutes_{enrollment_id}"] = {
                "present": str(minutes),
                "late": str(self.random.randrange(minutes // 2, minutes)),
                "": "",
            }.get(status, "0")
        return form

    def save(self, form: dict[str, str], pause: bool = True) -> None:
        cohort = self.plan["live_cohort"]
        attendance = {
            key.removeprefix("status_"): [value, form[f"minutes_{key.removeprefix('status_')}"]]
            for key, value in form.items()
            if key.startswith("status_")
        }
        started = time.time()
        try:
            response = self.call(
                Call(
                    "attendance save",
                    "POST",
                    f"/facilitate/cohorts/{cohort}/attendance",
                    expect=303,
                    redirect_to=f"/facilitate/cohorts/{cohort}",
                    form=form,
                ),
                pause=pause,
            )
        except VisitOver as over:
            if over.unanswered:  # it may have committed all the same
                TALLY.wrote(
                    "attendance unanswered", started, 0, by=self.email, attendance=attendance
                )
            raise
        TALLY.wrote(
            "attendance", response.started, response.answered, by=self.email, attendance=attendance
        )

    def issue_certificates(self) -> None:
        cohort = self.plan["live_cohort"]
        # Issuing to a whole cohort is a job: the answer leads to the page that follows it.
        job_page = f"/facilitate/cohorts/{cohort}/certificates/jobs/"
        response = self.call(
            Call(
                "certificates issue",
                "POST",
                f"/facilitate/cohorts/{cohort}/certificates",
                expect=303,
                redirect_to=lambda to: to.startswith(job_page),
                form={"csrf_token": self.token},
            )
        )
        TALLY.wrote("certificates", response.started, response.answered, by=self.email)

    def visit(self) -> None:
        self.save(self.roster())
        if self.random.random() < 0.5:
            self.issue_certificates()


class Admin(Person):
    """Reads the completion report and downloads its exports."""

    def visit(self) -> None:
        self.call(Call("report page", "GET", "/admin/reports/completions"))
        self.call(
            Call(
                "report page, the cohort",
                "GET",
                f"/admin/reports/completions?cohort={self.plan['live_cohort']}",
            )
        )
        csv = self.call(Call("report CSV", "GET", "/admin/reports/completions.csv"))
        self.check(
            "report CSV",
            csv.text.count("\n") > len(self.plan["learners"]),
            f"the CSV export has {csv.text.count(chr(10))} lines",
        )
        if self.random.random() < 0.3:
            self.call(
                Call(
                    "report XLSX",
                    "GET",
                    f"/admin/reports/completions.xlsx?cohort={self.plan['live_cohort']}",
                )
            )


class Visitor(Person):
    """Signed out: the catalog, a course page, the live cohort's page."""

    def visit(self) -> None:
        self.call(Call("catalog", "GET", "/"))
        self.call(Call("course page", "GET", f"/courses/{self.plan['course_slug']}"))
        self.call(Call("cohort page", "GET", f"/cohorts/{self.plan['live_cohort']}"))


_newcomers = itertools.count(1)


class Newcomer(Person):
    """Signs up (the welcome mail goes out through the relay), asks for a password reset for
    its own address or an unknown one (the two answers must take the same time), signs in."""

    def visit(self) -> None:
        self.fire_round(self.prepare_round(0))

    def prepare_round(self, _number: int) -> int:
        """A new person on the sign-up page; their number."""
        number = next(_newcomers)
        self.email = f"load-newcomer-{self.plan['run']}-{number}@example.org"
        self.client.cookies.clear()
        self.call(Call("sign-up page", "GET", "/auth/register"))
        return number

    def fire_round(self, number: int) -> None:
        email = self.email
        name = f"{self.random.choice(FIRST_NAMES)} {self.random.choice(LAST_NAMES)}"
        response = self.call(
            Call(
                "sign up",
                "POST",
                "/auth/register",
                expect=303,
                redirect_to=lambda to: to.startswith("/auth/login"),
                form={
                    "csrf_token": self.token,
                    "display_name": name,
                    "email": email,
                    "password": self.plan["password"],
                    "confirm": self.plan["password"],
                },
            )
        )
        TALLY.wrote("signup", response.started, response.answered, email=email)
        known = self.random.random() < 0.5
        self.call(Call("reset page", "GET", "/auth/reset"))
        self.call(
            Call(
                f"reset request, {'known' if known else 'unknown'} address",
                "POST",
                "/auth/reset",
                expect=303,
                form={
                    "csrf_token": self.token,
                    "email": email if known else f"nobody-{self.plan['run']}-{number}@example.org",
                },
            )
        )
        self.sign_in()
        self.call(Call("my learning /me", "GET", "/me"))
        self.call(
            Call("sign out", "POST", "/auth/logout", expect=303, form={"csrf_token": self.token})
        )


# ------------------------------------------------------------------------------------- Locust users


PLAN: dict[str, Any] = {}
_learner_slots = itertools.count()
_seeds = itertools.count()
_finished = Counter()


class CrowdUser(HttpUser):
    """One Locust user per person; each task run is one visit, repeated until the time is up
    or, with ``iterations``, that many times."""

    abstract = True
    wait_time = constant(0)
    person_class: type[Person] = Person
    signs_in = True

    def on_start(self) -> None:
        self.client.headers["User-Agent"] = USER_AGENT
        self.rng = random.Random(PLAN["seed"] + next(_seeds))
        self.person = self.make_person()
        self.iterations = 0
        if self.signs_in:
            self.attempt(self.person.sign_in, "sign in")

    def make_person(self) -> Person:
        return self.person_class(self.client, PLAN, self.rng, self.email())

    def email(self) -> str:
        return ""

    def attempt(self, action: Callable[[], None], outcome: str) -> None:
        try:
            action()
            TALLY.visits[f"{type(self).__name__}: {outcome}"] += 1
        except VisitOver:
            TALLY.visits[f"{type(self).__name__}: {outcome} ended early"] += 1
        except Exception:
            TALLY.error("(harness)", "harness", traceback.format_exc())

    @locust.task
    def visit(self) -> None:
        limit = PLAN["iterations"]
        if limit and self.iterations >= limit:
            _finished[type(self).__name__] += 1
            raise locust.exception.StopUser
        if PLAN["deadline"] and time.time() >= PLAN["deadline"]:
            raise locust.exception.StopUser
        self.iterations += 1
        self.attempt(self.person.visit, "visit")


class LearnerUser(CrowdUser):
    person_class = Learner

    def make_person(self) -> Person:
        return Learner(self.client, PLAN, self.rng, PLAN["learners"][next(_learner_slots)])


class CoFacilitatorUser(CrowdUser):
    person_class = CoFacilitator
    slot = itertools.count()

    def email(self) -> str:
        return PLAN["facilitators"][next(self.slot) % len(PLAN["facilitators"])]


class AdminUser(CrowdUser):
    person_class = Admin

    def email(self) -> str:
        return PLAN["admin"]


class VisitorUser(CrowdUser):
    person_class = Visitor
    signs_in = False


class NewcomerUser(CrowdUser):
    person_class = Newcomer
    signs_in = False


def crowd(plan: dict[str, Any]) -> dict[type[CrowdUser], int]:
    return {
        LearnerUser: len(plan["learners"]),
        CoFacilitatorUser: len(plan["facilitators"]),
        AdminUser: 1,
        VisitorUser: plan["visitors"],
        NewcomerUser: plan["newcomers"],
    }


def run_crowd(env: Environment, plan: dict[str, Any]) -> float:
    """Every user at once, until the deadline or until each has done its iterations; the wall time."""
    counts = {cls: n for cls, n in crowd(plan).items() if n}
    for cls, count in counts.items():
        cls.fixed_count = count
    env.user_classes = list(counts)
    runner = env.create_local_runner()
    total = sum(counts.values())
    started = time.time()
    # Ten people a second: everybody's sign-in (a scrypt check each) at the same instant would
    # measure a stampede no live session sees, and on a loaded machine outlast the timeout.
    runner.start(total, spawn_rate=min(total, SPAWN_PER_SECOND))
    limit = plan["deadline"] or (started + plan["safety_seconds"])
    stop_file = Path(plan["stop_file"]) if plan.get("stop_file") else None
    while time.time() < limit:
        gevent.sleep(0.2)
        if plan["iterations"] and runner.user_count == 0 and sum(_finished.values()) >= total:
            break
        if stop_file is not None and stop_file.exists():
            break
    else:
        if plan["iterations"] or stop_file is not None:
            TALLY.error(
                "(harness)",
                "harness",
                f"the users were still at it after {plan['safety_seconds']:g} s",
            )
    runner.quit()
    return time.time() - started


def run_rounds(env: Environment, plan: dict[str, Any]) -> tuple[float, int]:
    """``rounds`` times: every party reads its page, then a barrier releases the two roster
    saves, each learner's submit, autosave and progress post, and a sign-up at the same moment."""
    base = plan["base"]

    def session() -> HttpSession:
        client = HttpSession(base, request_event=env.events.request, user=None)
        client.headers["User-Agent"] = USER_AGENT
        return client

    rng = random.Random(plan["seed"] + 1_000_000)
    learners = [
        Learner(session(), plan, random.Random(rng.random()), me)
        for me in plan["learners"][: plan["round_learners"]]
    ]
    facilitators = [
        CoFacilitator(session(), plan, random.Random(rng.random()), email)
        for email in plan["facilitators"]
    ]
    newcomer = Newcomer(session(), plan, random.Random(rng.random()))
    parties: list[Person] = [*learners, *facilitators, newcomer]
    for person in parties:
        person.deadline = 0  # rounds run to their end
        person.plan = {**plan, "think": 0}
    signed_in: list[Person] = []

    def sign_in(person: Person) -> None:
        try:
            person.sign_in()
            signed_in.append(person)
        except VisitOver:
            pass

    gevent.pool.Pool(SPAWN_PER_SECOND).map(
        sign_in, [person for person in parties if not isinstance(person, Newcomer)]
    )
    parties = [*signed_in, newcomer]
    barrier = threading.Barrier(len(parties))
    done = Counter()

    def play(person: Person) -> None:
        for number in range(plan["rounds"]):
            prepared = None
            try:
                if isinstance(person, Learner | Newcomer):
                    prepared = person.prepare_round(number)
                elif isinstance(person, CoFacilitator):
                    prepared = person.roster()
            except VisitOver:
                pass
            except Exception:
                TALLY.error("(harness)", "harness", traceback.format_exc())
            barrier.wait()  # released together
            try:
                if isinstance(person, CoFacilitator):
                    if prepared is not None:
                        person.save(prepared, pause=False)
                elif prepared is not None:
                    person.fire_round(prepared)
                done[type(person).__name__] += 1
            except VisitOver:
                pass
            except Exception:
                TALLY.error("(harness)", "harness", traceback.format_exc())
            barrier.wait()  # the next round starts when every write of this one is answered

    started = time.time()
    gevent.joinall([gevent.spawn(play, person) for person in parties])
    return time.time() - started, len(parties)


def statistics(env: Environment) -> dict[str, Any]:
    endpoints = {}
    for (name, _method), entry in sorted(env.stats.entries.items()):
        statuses = TALLY.statuses.get(name, Counter())
        endpoint = endpoints.setdefault(
            name, {"requests": 0, "statuses": Counter(), "errors_by_kind": Counter(), "entries": []}
        )
        endpoint["requests"] += entry.num_requests
        endpoint["entries"].append(entry)
        endpoint["statuses"] = Counter(statuses)
        endpoint["errors_by_kind"] = Counter(TALLY.errors.get(name, {}))
    for name in set(TALLY.errors) - set(
        endpoints
    ):  # errors of no request: the harness, a check after the answer
        endpoints[name] = {
            "requests": 0,
            "statuses": Counter(),
            "errors_by_kind": Counter(TALLY.errors[name]),
            "entries": [],
        }
    result = {}
    for name, endpoint in endpoints.items():
        entry = endpoint["entries"][0] if endpoint["entries"] else None
        result[name] = {
            "requests": endpoint["requests"],
            "statuses": dict(sorted(endpoint["statuses"].items())),
            "errors": sum(endpoint["errors_by_kind"].values()),
            "errors_by_kind": dict(endpoint["errors_by_kind"]),
            **{
                f"p{p}_ms": (
                    entry.get_response_time_percentile(p / 100)
                    if entry and entry.num_requests
                    else None
                )
                for p in (50, 95, 99)
            },
            "max_ms": round(entry.max_response_time, 1) if entry and entry.num_requests else None,
        }
    return result


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m bench.crowd PLAN.json RESULT.json", file=sys.stderr)
        return 2
    PLAN.update(json.loads(Path(args[0]).read_text()))
    env = Environment(host=PLAN["base"])
    env.events.request.add_listener(_on_request)
    phases = {}
    if PLAN["seconds"] or PLAN["iterations"] or PLAN.get("stop_file"):
        PLAN["deadline"] = time.time() + PLAN["seconds"] if PLAN["seconds"] else 0
        phases["mixed"] = {"seconds": round(run_crowd(env, PLAN), 2)}
    PLAN["deadline"] = 0
    if PLAN["rounds"]:
        seconds, parties = run_rounds(env, PLAN)
        phases["rounds"] = {
            "seconds": round(seconds, 2),
            "rounds": PLAN["rounds"],
            "parties": parties,
        }
    total = env.stats.total
    result = {
        "phases": phases,
        "requests": total.num_requests,
        "endpoints": statistics(env),
        "all": {
            f"p{p}_ms": total.get_response_time_percentile(p / 100) if total.num_requests else None
            for p in (50, 95, 99)
        },
        "visits": dict(TALLY.visits),
        "error_examples": TALLY.examples,
        "journal": TALLY.journal,
    }
    Path(args[1]).write_text(json.dumps(result, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
