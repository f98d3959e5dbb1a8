"""Operations on people, shared by the web views and the CLI. They flush; callers commit."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_login import config as flask_login_config
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from lms import caching
from lms.accounts.jobs import (
    mail_email_confirmation,
    mail_existing_account,
    mail_password_reset,
    mail_welcome,
)
from lms.accounts.models import AUDIENCE_ROLES, MIN_PASSWORD_LENGTH, SignIn, User, count_admins
from lms.accounts.tokens import confirmation_serializer, reset_serializer
from lms.audit.services import record_event
from lms.certificates.models import Certificate
from lms.db import db_session, get_session, utcnow
from lms.i18n import _
from lms.invalidation import Written, note, note_person
from lms.jobs import enqueue
from lms.learning.models import Enrollment
from lms.state import lms_state


class AccountError(ValueError):
    """An operation on an account that cannot be done; the message is shown to the person."""


# The statement of every signed-in request whose person is not kept, built once: one made anew
# on each call is built and keyed again by SQLAlchemy before its compiled form is found.
_SIGNED_IN_USER = (
    select(User, SignIn.expires_at)
    .join(SignIn, SignIn.user_id == User.id)
    .where(
        SignIn.token_hash == bindparam("token_hash"),
        SignIn.expires_at > bindparam("now"),
        User.active.is_(True),
    )
)


@dataclass(frozen=True)
class _KeptSignIn:
    """A sign-in as a worker keeps it between requests: its person, in no session."""

    person: User
    expires_at: datetime


def load_user(token: str) -> User | None:
    """Flask-Login's loader: the active person whose unexpired sign-in has ``token``.

    Each worker keeps the sign-in's person (``lms.caching``), under the person's version: every
    write to the account or its sign-ins bumps it (``lms.invalidation``: signing out, a new
    password, deactivation, a new name), and the kept sign-in ends when the sign-in expires. A
    page built from kept parts then reads nothing from the database. The kept object is a copy
    of the one the ORM loaded; each request gets it back through ``Session.merge(load=False)``,
    SQLAlchemy's public way of bringing a cached object into a session without a query.
    """
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None  # among others, the plain ids that sessions carried before sign-in tokens
    session = get_session()
    loaded: list[User] = []

    def read() -> _KeptSignIn | None:
        row = session.execute(
            _SIGNED_IN_USER, {"token_hash": _token_hash(token), "now": utcnow()}
        ).first()
        if row is None:
            return None
        loaded.append(row[0])
        return _KeptSignIn(_detached_copy(row[0]), row[1])

    kept = lms_state().page_cache.kept_under_its_own_version(
        "signed-in",
        (_token_hash(token),),
        read,
        version_of=lambda found: caching.person(found.person.id) if found else None,
        until=lambda found: found.expires_at if found else None,
    )
    if kept is None:
        return None
    user = loaded[0] if loaded else session.merge(kept.person, load=False)
    user.sign_in_token = token
    return user


def _detached_copy(user: User) -> User:
    """A copy of ``user`` in no session, to keep between requests (merged into a session of its
    own, then let go): the request's own object stays the request's."""
    with Session() as holder:
        copy = holder.merge(user, load=False)
        holder.expunge(copy)
    return copy


# --- sign-ins: what a session and a remember-me cookie stand for ------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_sign_in(user: User, *, remember: bool = False) -> str:
    """A new sign-in for ``user`` (a fresh random token, so a new remember-me cookie each time),
    set on the object for Flask-Login's ``get_id``. The person's expired sign-ins go."""
    now = utcnow()
    if remember:
        lifetime = current_app.config.get(
            "REMEMBER_COOKIE_DURATION", flask_login_config.COOKIE_DURATION
        )
        lifetime = lifetime if isinstance(lifetime, timedelta) else timedelta(seconds=int(lifetime))
    else:
        lifetime = timedelta(seconds=current_app.config["LMS_SIGN_IN_MAX_AGE"])
    db_session.execute(
        delete(SignIn).where(SignIn.user_id == user.id, SignIn.expires_at <= now),
        execution_options={"synchronize_session": False},
    )
    token = secrets.token_urlsafe(32)
    db_session.add(
        SignIn(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    db_session.flush()
    user.sign_in_token = token
    return token


def end_sign_in(user: User) -> None:
    """End the sign-in ``user`` was loaded for (signing out in one browser)."""
    if user.sign_in_token is not None:
        db_session.execute(
            delete(SignIn).where(SignIn.token_hash == _token_hash(user.sign_in_token)),
            execution_options={"synchronize_session": False},
        )
        note_person(db_session, user.id)  # every worker forgets the sign-in it kept
        user.sign_in_token = None


def end_all_sign_ins(user: User) -> int:
    """End every sign-in of ``user``, in every browser; how many there were."""
    result = db_session.execute(
        delete(SignIn).where(SignIn.user_id == user.id),
        execution_options={"synchronize_session": False},
    )
    note_person(db_session, user.id)  # every worker forgets the sign-ins it kept
    user.sign_in_token = None
    return result.rowcount or 0


def find_user_by_email(email: str) -> User | None:
    return db_session.scalar(User.by_email(email))


def create_user(
    email: str,
    display_name: str,
    password: str | None,
    *,
    is_facilitator: bool = False,
    is_admin: bool = False,
    locale: str = "en",
    time_zone: str = "America/New_York",
    affiliate: str = "",
    audience_role: str = "",
    email_confirmed: bool = True,
) -> User:
    """An account. Its address counts as confirmed unless ``email_confirmed`` is false: the
    person signed up alone (``register_account``) rather than through an admin or a command."""
    email = User.normalise_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError(_("An account with this email address already exists."))
    user = User(
        email=email,
        display_name=display_name.strip(),
        is_facilitator=is_facilitator,
        is_admin=is_admin,
        locale=locale,
        time_zone=time_zone,
        affiliate=affiliate.strip(),
        audience_role=audience_role,
        active=True,
        email_confirmed_at=utcnow() if email_confirmed else None,
    )
    user.set_password(password or secrets.token_urlsafe(24))
    db_session.add(user)
    db_session.flush()
    return user


# Checked against when the email is unknown, so a wrong email and a wrong password take the
# same time (no user enumeration by timing).
_DUMMY_USER = User(email="", display_name="")
_DUMMY_USER.set_password(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        _DUMMY_USER.check_password(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def admins_exist() -> bool:
    return bool(db_session.scalar(count_admins()))


def users_by_ids(ids: list[int]) -> list[User]:
    return list(db_session.scalars(select(User).where(User.id.in_(ids))))


# --- registration, password reset, profile, deletion ------------------------------------------


def register_account(
    email: str, display_name: str, password: str, *, locale: str, time_zone: str
) -> User | None:
    """Create a learner account, or tell the owner of an existing one; the caller answers the same.

    Returns the new user, or ``None`` when the address already had an account: its owner gets a
    message saying someone tried to register with it (how to sign in or reset instead). Both
    hash the password and commit one mail job (sent after the commit, ``lms.accounts.jobs``), so
    the two take the same time.
    """
    existing = find_user_by_email(email)
    if existing is not None:
        generate_password_hash(password)  # the same work as creating an account
        enqueue(mail_existing_account, existing.id)
        return None
    user = create_user(
        email, display_name, password, locale=locale, time_zone=time_zone, email_confirmed=False
    )
    enqueue(mail_welcome, user.id)
    return user


def confirm_email(token: str) -> User | None:
    """Mark the address of the token's account confirmed; ``None`` for a bad or expired token.

    Following the link twice is harmless: the first confirmation's time stays.
    """
    if not token or len(token) > 500:
        return None
    try:
        payload = confirmation_serializer().loads(
            token, max_age=current_app.config["LMS_EMAIL_CONFIRMATION_MAX_AGE"]
        )
        user_id, email = int(payload["user"]), str(payload["email"])
    except (BadData, TypeError, KeyError, ValueError):
        return None
    user = db_session.get(User, user_id)
    if user is None or not user.active or user.email != email:
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db_session.flush()
    return user


def send_email_confirmation(user: User) -> None:
    """Mail the confirmation link again (the first one came with the welcome message), after commit."""
    enqueue(mail_email_confirmation, user.id)


def user_for_reset_token(token: str) -> User | None:
    """The active user a reset token belongs to, or ``None`` (bad, expired, used or tampered)."""
    if not token or len(token) > 500:
        return None
    try:
        _valid, payload = URLSafeTimedSerializer(current_app.secret_key).loads_unsafe(token)
        user_id = int(payload["user"])
    except (BadData, TypeError, KeyError, ValueError):
        return None
    user = db_session.get(User, user_id)
    if user is None or not user.active:
        return None
    try:
        data = reset_serializer(user).loads(
            token, max_age=current_app.config["LMS_PASSWORD_RESET_MAX_AGE"]
        )
    except BadData:
        return None
    return user if data.get("user") == user.id else None


def request_password_reset(email: str) -> bool:
    """Mail a reset link, after commit, to the account with ``email`` if there is an active one.

    The caller must answer the same whatever this returns (no user enumeration), and the work
    is the same too: one lookup and one mail job, which does nothing for an unknown address.
    """
    user = find_user_by_email(email)
    known = user is not None and user.active
    enqueue(mail_password_reset, user.id if known else None)
    return known


def reset_password(user: User, new_password: str) -> None:
    """Set a new password; every browser signed in to the account is signed out."""
    check_password_rules(new_password)
    user.set_password(new_password)
    end_all_sign_ins(user)
    db_session.flush()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("Use at least %(num)s characters for your password.", num=MIN_PASSWORD_LENGTH)
        )


def update_profile(
    user: User,
    *,
    display_name: str,
    locale: str,
    time_zone: str,
    affiliate: str,
    audience_role: str,
) -> None:
    if locale not in current_app.config["LMS_LANGUAGES"]:
        raise AccountError(_("Choose one of the languages offered."))
    if time_zone not in zoneinfo.available_timezones():
        raise AccountError(_("Choose a time zone from the list."))
    if audience_role and audience_role not in AUDIENCE_ROLES:
        raise AccountError(_("Choose a role from the list."))
    user.display_name = display_name.strip()
    user.locale = locale
    user.time_zone = time_zone
    user.affiliate = affiliate.strip()
    user.audience_role = audience_role
    db_session.flush()


@cache
def available_time_zones() -> tuple[str, ...]:
    """The zones offered in the profile: every IANA area/location name, plus UTC."""
    zones = {
        zone
        for zone in zoneinfo.available_timezones()
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    }
    return tuple(sorted(zones | {"UTC"}))


def delete_account(user: User, password: str) -> None:
    """Delete a person and everything that is theirs (enrollments, progress, reflections,
    attendance, certificates) through the database's ON DELETE CASCADE.

    Confirmed by the current password. The last active admin cannot delete themselves (the site
    would have no one to run it). An audit event without personal details is kept.
    """
    if not user.check_password(password):
        raise AccountError(_("That is not your current password."))
    if user.is_admin and db_session.scalar(count_admins()) <= 1:
        raise AccountError(
            _(
                "You are the only administrator. Make someone else an administrator before you delete your account."
            )
        )
    enrollments = (
        db_session.scalar(
            select(func.count()).select_from(Enrollment).where(Enrollment.user_id == user.id)
        )
        or 0
    )
    certificates = (
        db_session.scalar(
            select(func.count())
            .select_from(Certificate)
            .join(Enrollment, Certificate.enrollment_id == Enrollment.id)
            .where(Enrollment.user_id == user.id)
        )
        or 0
    )
    # The actor becomes NULL with the account (ON DELETE SET NULL): the event keeps no person.
    record_event(user, "account.deleted", user, enrollments=enrollments, certificates=certificates)
    # The cascade below writes without the ORM: the seats and waitlists the person leaves
    # change with it.
    cohorts = set(
        db_session.scalars(
            select(Enrollment.cohort_id).where(
                Enrollment.user_id == user.id, Enrollment.cohort_id.is_not(None)
            )
        )
    )
    note(db_session, Written(user_ids={user.id}, cohort_ids=cohorts))
    db_session.execute(
        delete(User).where(User.id == user.id), execution_options={"synchronize_session": False}
    )
    db_session.expunge_all()
