from __future__ import annotations

from typing import Any

from lms.accounts.models import User
from lms.audit.models import AuditEvent
from lms.db import db_session


def record_event(actor: User | None, action: str, target: Any, **details: Any) -> AuditEvent:
    """Write one audit event for a change made to someone's record (flushed, not committed)."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=str(getattr(target, "id", target)),
        details={key: _jsonable(value) for key, value in details.items()},
    )
    db_session.add(event)
    db_session.flush()
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
