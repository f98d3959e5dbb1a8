"""A request that fails half-way leaves nothing behind (docs/architecture.md, "Transactions": the
request owns the transaction; services flush, never commit).

Each case runs a real action through its real route and makes a service fail after it has
already written rows (or makes the final commit itself fail). The answer must be the error page,
with no traceback or internals, and every row of every table must be as it was before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers.cohorts import (
    client_for,
    cohort_form,
    completed_enrollment,
    enrollment_of,
    schedule,
)
from tests.helpers.forms import ZOOM_HEADER, Stage, snapshot
from tests.helpers.learning import FORTY_WORDS

SECRET = "injected failure 7f3a"  # must never reach the page


class Injected(RuntimeError):
    pass


@dataclass(frozen=True)
class Case:
    persona: str
    arrange: Callable[
        [Any, Any, Any], dict[str, Any]
    ]  # (stage, me, monkeypatch) -> url, data, written
    tables: tuple[str, ...]  # tables the action has written (flushed) when it fails


def _flushed() -> dict[str, int]:
    """Rows per table as the failing request's own session sees them: its writes included."""
    from sqlalchemy import func, select

    import lms.models  # noqa: F401
    from lms.db import Base, get_session

    session = get_session()
    session.flush()
    return {
        table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    }


def _fail_at_event(monkeypatch, module: Any, action: str, written: list[str]) -> None:
    """Make ``module.record_event`` fail for ``action``, once the action's rows are flushed."""
    original = module.record_event

    def record_event(actor, name, *args, **kwargs):
        if name == action:
            written.append(_flushed())
            raise Injected(SECRET)
        return original(actor, name, *args, **kwargs)

    monkeypatch.setattr(module, "record_event", record_event)


def _apply_import(stage, me, monkeypatch) -> dict[str, Any]:
    from lms.cohorts import attendance

    cohort_id = stage.cohort(me)
    emails = [stage.email_of(stage.registered(cohort_id)) for _ in range(2)]
    report = (
        ZOOM_HEADER + "".join(f"P{n},{email},,,55,No\n" for n, email in enumerate(emails))
    ).encode()
    token = stage.import_token(me, cohort_id, report)
    written: list[str] = []
    _fail_at_event(
        monkeypatch, attendance, "attendance.imported", written
    )  # after every attendance row
    return {
        "url": f"/facilitate/cohorts/{cohort_id}/attendance/import/apply",
        "data": {"token": token},
        "written": written,
    }


def _issue_one(stage, me, monkeypatch) -> dict[str, Any]:
    # (A whole cohort's certificates are issued by a job, whose failure tests/jobs covers.)
    from lms.certificates import services

    cohort_id, enrollment_id = completed_enrollment(stage.app, me, stage.person())
    written: list[str] = []
    _fail_at_event(monkeypatch, services, "certificate.issued", written)
    return {
        "url": f"/facilitate/cohorts/{cohort_id}/certificates/issue",
        "data": {"enrollment_id": str(enrollment_id)},
        "written": written,
    }


def _schedule(stage, me, monkeypatch) -> dict[str, Any]:
    from lms.cohorts import scheduling

    written: list[str] = []
    _fail_at_event(monkeypatch, scheduling, "cohort.created", written)
    return {"url": "/facilitate/cohorts/new", "data": cohort_form(me.email), "written": written}


def _submit_last_reflection(stage, me, monkeypatch) -> dict[str, Any]:
    from lms.learning import services

    enrollment_id = stage.recording_enrollment(me)
    original, written = services.refresh_completion, []

    def refresh_completion(enrollment, definition):
        original(enrollment, definition)
        written.append(_flushed())  # the reflection is written
        raise Injected(SECRET)

    monkeypatch.setattr(services, "refresh_completion", refresh_completion)
    return {
        "url": f"/learn/{enrollment_id}/outcome-1/reflection",
        "data": {"body": FORTY_WORDS, "submit": "Submit"},
        "written": written,
    }


def _register_commit_fails(stage, me, monkeypatch) -> dict[str, Any]:
    """The last moment: everything flushed, and the commit in the after_request hook fails."""
    import lms.db

    cohort_id = stage.cohort(stage.person("facilitator"))
    written: list[str] = []

    def commit_if_open():
        written.append(_flushed())
        raise Injected(SECRET)

    monkeypatch.setattr(lms.db, "commit_if_open", commit_if_open)
    return {"url": f"/cohorts/{cohort_id}/register", "data": {}, "written": written}


CASES = {
    "apply an attendance import, failing after every attendance row": Case(
        "facilitator", _apply_import, ("lms_attendance",)
    ),
    "issue a certificate, failing at its audit event": Case(
        "facilitator", _issue_one, ("lms_certificate",)
    ),
    "schedule a cohort, failing at its audit event": Case(
        "facilitator", _schedule, ("lms_cohort",)
    ),
    "submit a reflection, failing after completion is computed": Case(
        "learner", _submit_last_reflection, ("lms_reflection",)
    ),
    "register for a cohort, the commit itself failing": Case(
        "learner", _register_commit_fails, ("lms_enrollment",)
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_request_failing_mid_way_leaves_no_partial_data(app, make_user, monkeypatch, name):
    case = CASES[name]
    stage = Stage(app, make_user)
    me = stage.person(case.persona)
    client = client_for(app, me)
    arranged = case.arrange(stage, me, monkeypatch)
    before = snapshot(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production: the 500 page
    response = client.post(arranged["url"], data=arranged["data"])
    page = response.get_data(as_text=True)
    assert arranged["written"], "the failure was not reached: the case tests nothing"
    counts_before = {table: len(rows) for table, rows in before.items()}
    for table in case.tables:  # the rows were there, flushed, when the request failed
        assert arranged["written"][0][table] > counts_before[table], table
    assert response.status_code == 500, page[:2000]
    assert "Nothing was saved" in page
    for leak in ("Traceback", SECRET, "Injected", 'File "'):
        assert leak not in page
    after = snapshot(app)
    changed = sorted(name for name in before if before[name] != after[name])
    assert not changed, f"half-written: {changed}"


def test_the_spy_sees_what_a_successful_request_writes(app, make_user):
    """The check above can fail: the same snapshot sees the rows a request that succeeds writes."""
    stage = Stage(app, make_user)
    learner = stage.person()
    cohort_id = schedule(app, stage.person("facilitator"))
    before = snapshot(app)
    assert client_for(app, learner).post(f"/cohorts/{cohort_id}/register").status_code == 303
    after = snapshot(app)
    assert {name for name in before if before[name] != after[name]} >= {"lms_enrollment"}
    assert enrollment_of(app, learner, cohort_id) is not None
