"""The download of everything the engine holds about a person (``/me/export.json``): their
profile, enrollments, progress, reflections, attendance, certificates, transcripts, the
evaluations they answered, and the audit events by or about them. Never the password hash."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import or_, select

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.certificates.models import Certificate
from lms.cohorts.models import Attendance
from lms.db import db_session, utcnow
from lms.learning.dashboard import enrollments_of
from lms.learning.models import Reflection, StepProgress
from lms.records.models import EvaluationSubmission, Transcript


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def _rows_of(model: Any, enrollment_ids: list[int]) -> list[Any]:
    """The rows of ``model`` that belong to these enrollments, in the order they were made."""
    if not enrollment_ids:
        return []
    return list(
        db_session.scalars(
            select(model).where(model.enrollment_id.in_(enrollment_ids)).order_by(model.id)
        )
    )


def export_user_data(user: User) -> dict[str, Any]:
    """Everything the engine holds about ``user``, as JSON-ready data (never the password hash)."""

    enrollments = enrollments_of(user)
    ids = [e.id for e in enrollments]
    progress = _rows_of(StepProgress, ids)
    reflections = _rows_of(Reflection, ids)
    attendance = _rows_of(Attendance, ids)
    certificates = _rows_of(Certificate, ids)
    events = list(
        db_session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    AuditEvent.actor_id == user.id,
                    (AuditEvent.target_type == "user") & (AuditEvent.target_id == str(user.id)),
                )
            )
            .order_by(AuditEvent.id)
        )
    )
    return {
        "exported_at": _iso(utcnow()),
        "profile": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "locale": user.locale,
            "time_zone": user.time_zone,
            "affiliate": user.affiliate,
            "audience_role": user.audience_role,
            "roles": user.roles,
            "active": user.active,
            "created_at": _iso(user.created_at),
            "email_confirmed_at": _iso(user.email_confirmed_at),
            "last_login_at": _iso(user.last_login_at),
        },
        "enrollments": [
            {
                "id": e.id,
                "course": e.course.slug,
                "course_title": e.course.title,
                "path": e.path.value,
                "cohort_id": e.cohort_id,
                "status": e.status.value,
                "created_at": _iso(e.created_at),
                "started_at": _iso(e.started_at),
                "completed_at": _iso(e.completed_at),
                "withdrawn_at": _iso(e.withdrawn_at),
            }
            for e in enrollments
        ],
        "step_progress": [
            {
                "enrollment_id": p.enrollment_id,
                "step_id": p.step_id,
                "segments": json.loads(p.segments or "[]"),
                "duration": p.duration,
                "fraction": p.fraction,
                "state": p.state.value,
                "updated_at": _iso(p.updated_at),
            }
            for p in progress
        ],
        "reflections": [
            {
                "enrollment_id": r.enrollment_id,
                "prompt_id": r.prompt_id,
                "body": r.body,
                "status": r.status.value,
                "shared_with_facilitator": r.shared_with_facilitator,
                "word_count": r.word_count,
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
                "submitted_at": _iso(r.submitted_at),
            }
            for r in reflections
        ],
        "attendance": [
            {
                "enrollment_id": a.enrollment_id,
                "status": a.status.value,
                "minutes": a.minutes,
                "source": a.source.value,
                "recorded_at": _iso(a.recorded_at),
            }
            for a in attendance
        ],
        "certificates": [
            {
                "code": c.code,
                "enrollment_id": c.enrollment_id,
                "learner_name": c.learner_name,
                "course_title": c.course_title,
                "hours": c.hours,
                "session_date": _iso(c.session_date),
                "facilitator_name": c.facilitator_name,
                "organisation": c.organisation,
                "locale": c.locale,
                "issued_at": _iso(c.issued_at),
                "revoked_at": _iso(c.revoked_at),
                "revoked_reason": c.revoked_reason,
            }
            for c in certificates
        ],
        "audit_events": [
            {
                "action": ev.action,
                "target_type": ev.target_type,
                "target_id": ev.target_id,
                "by_you": ev.actor_id == user.id,
                "at": _iso(ev.at),
            }
            for ev in events
        ],
        **_records_of(user, ids),
    }


def _records_of(user: User, enrollment_ids: list[int]) -> dict[str, Any]:
    """Downloaded transcripts and which evaluations were answered (the answers themselves are
    kept apart from the person and cannot be found again)."""
    transcripts = db_session.scalars(
        select(Transcript).where(Transcript.user_id == user.id).order_by(Transcript.id)
    )
    submissions = (
        db_session.scalars(
            select(EvaluationSubmission)
            .where(EvaluationSubmission.enrollment_id.in_(enrollment_ids))
            .order_by(EvaluationSubmission.id)
        )
        if enrollment_ids
        else []
    )
    return {
        "transcripts": [
            {
                "code": t.code,
                "period_start": _iso(t.period_start),
                "period_end": _iso(t.period_end),
                "locale": t.locale,
                "issued_at": _iso(t.issued_at),
                "content": json.loads(t.content),
            }
            for t in transcripts
        ],
        "evaluations_answered": [
            {"enrollment_id": s.enrollment_id, "submitted_on": _iso(s.submitted_on)}
            for s in submissions
        ],
    }
