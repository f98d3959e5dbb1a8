"""Admin operations: people and roles, course sync, the audit log. They flush; the request commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select

from lms.accounts.models import User
from lms.accounts.services import end_all_sign_ins
from lms.audit.models import AuditEvent
from lms.audit.services import record_event
from lms.courses.models import Course
from lms.db import db_session, utcnow
from lms.i18n import _
from lms.reports.filters import day_bounds_utc
from lms.state import lms_state

ROLES = ("facilitator", "admin")


class AdminError(ValueError):
    """A change an admin may not make; the message says why."""


# -- people -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleQuery:
    text: str = ""  # part of a name or an email address
    role: str = ""  # learner (no other role) | facilitator | admin
    status: str = ""  # active | inactive


def _people_statement(query: PeopleQuery) -> Select[Any]:
    statement = select(User)
    if query.text:
        needle = query.text.strip().lower()
        statement = statement.where(
            or_(
                func.lower(User.display_name).contains(needle, autoescape=True),
                User.email.contains(needle, autoescape=True),
            )
        )
    if query.role == "admin":
        statement = statement.where(User.is_admin.is_(True))
    elif query.role == "facilitator":
        statement = statement.where(User.is_facilitator.is_(True))
    elif query.role == "learner":
        statement = statement.where(User.is_facilitator.is_(False), User.is_admin.is_(False))
    if query.status == "active":
        statement = statement.where(User.active.is_(True))
    elif query.status == "inactive":
        statement = statement.where(User.active.is_(False))
    return statement


def search_people(query: PeopleQuery, page: int, size: int) -> tuple[list[User], int]:
    """One page of people matching ``query`` (by name, then id) and how many match in all."""
    statement = _people_statement(query)
    total = (
        db_session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
        or 0
    )
    rows = db_session.scalars(
        statement.order_by(func.lower(User.display_name), User.id)
        .limit(size)
        .offset((page - 1) * size)
    )
    return list(rows), int(total)


def _other_active_admins(user: User) -> int:
    # Lock the admins' rows (PostgreSQL) so two admins cannot demote each other at the same moment.
    ids = db_session.scalars(
        select(User.id).where(User.is_admin.is_(True), User.active.is_(True)).with_for_update()
    ).all()
    return sum(1 for user_id in ids if user_id != user.id)


def _keeps_an_admin(user: User) -> None:
    if user.is_admin and user.active and _other_active_admins(user) == 0:
        raise AdminError(
            _(
                "%(name)s is the last active admin. Make someone else an admin first.",
                name=user.display_name,
            )
        )


def set_role(actor: User, user: User, role: str, granted: bool) -> bool:
    """Give or take ``role`` (facilitator or admin); returns whether anything changed."""
    if role not in ROLES:
        raise AdminError(_("Unknown role."))
    attribute = "is_admin" if role == "admin" else "is_facilitator"
    if bool(getattr(user, attribute)) == granted:
        return False
    if role == "admin" and not granted:
        if user.id == actor.id:
            raise AdminError(
                _("You cannot remove your own admin role. Ask another admin to do it.")
            )
        _keeps_an_admin(user)
    setattr(user, attribute, granted)
    db_session.flush()
    record_event(
        actor,
        "user.role_granted" if granted else "user.role_removed",
        user,
        role=role,
        email=user.email,
    )
    return True


def set_active(actor: User, user: User, active: bool) -> bool:
    """Deactivate (the person can no longer sign in; their records stay) or reactivate someone."""
    if user.active == active:
        return False
    if not active:
        if user.id == actor.id:
            raise AdminError(_("You cannot deactivate your own account."))
        _keeps_an_admin(user)
    user.active = active
    if not active:
        end_all_sign_ins(user)  # signed out at once, in every browser
    db_session.flush()
    record_event(
        actor, "user.reactivated" if active else "user.deactivated", user, email=user.email
    )
    return True


def confirm_email_address(actor: User, user: User) -> bool:
    """Vouch for someone's address (they could not open the mailed link); whether it changed."""
    if user.email_confirmed_at is not None:
        return False
    user.email_confirmed_at = utcnow()
    db_session.flush()
    record_event(actor, "user.email_confirmed", user, email=user.email)
    return True


def get_person(user_id: int) -> User | None:
    return db_session.get(User, user_id)


# -- courses ----------------------------------------------------------------------------------------


class Catalog:
    """The audit target of a catalog sync (its ``target_type`` is "catalog")."""

    id = "courses"


def sync_courses(actor: User) -> Any:
    """The same sync as ``flask lms courses sync``: files -> course rows. Returns the SyncReport."""
    report = lms_state().catalog.sync(db_session)
    record_event(
        actor,
        "courses.synced",
        Catalog(),
        added=report.added,
        updated=report.updated,
        retired=report.retired,
        reactivated=report.reactivated,
        problems=len(report.problems),
    )
    return report


def course_rows() -> list[Any]:
    return list(
        db_session.scalars(select(Course).order_by(Course.status, func.lower(Course.title)))
    )


# -- audit log --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""  # part of the actor's email address
    action: str = ""
    target_type: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    time_zone: str = "UTC"


def _audit_statement(query: AuditQuery, *columns: Any) -> Select[Any]:
    statement = (
        select(*columns).select_from(AuditEvent).outerjoin(User, User.id == AuditEvent.actor_id)
    )
    if query.actor:
        statement = statement.where(
            User.email.contains(query.actor.strip().lower(), autoescape=True)
        )
    if query.action:
        statement = statement.where(AuditEvent.action == query.action)
    if query.target_type:
        statement = statement.where(AuditEvent.target_type == query.target_type)
    start, end = day_bounds_utc(query.start, query.end, ZoneInfo(query.time_zone))
    if start is not None:
        statement = statement.where(AuditEvent.at >= start)
    if end is not None:
        statement = statement.where(AuditEvent.at < end)
    return statement


def audit_page(
    query: AuditQuery, page: int, size: int
) -> tuple[list[tuple[AuditEvent, User | None]], int]:
    """One page of audit events, newest first, with each event's actor."""
    total = db_session.scalar(_audit_statement(query, func.count(AuditEvent.id))) or 0
    statement = _audit_statement(query, AuditEvent, User)
    rows = db_session.execute(
        statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    return [(event, actor) for event, actor in rows], int(total)


def audit_choices() -> tuple[list[str], list[str]]:
    """The actions and target types that occur in the log, for the filter lists."""
    actions = db_session.scalars(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    ).all()
    targets = db_session.scalars(
        select(AuditEvent.target_type).distinct().order_by(AuditEvent.target_type)
    ).all()
    return list(actions), list(targets)
