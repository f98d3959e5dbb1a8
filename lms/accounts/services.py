"""Operations on people, shared by the web views and the CLI. They flush; callers commit."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from lms.accounts.models import User
from lms.db import db_session, utcnow


class AccountError(ValueError):
    """An operation on an account that cannot be done; the message is shown to the person."""


def load_user(user_id: str) -> User | None:
    try:
        return db_session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


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
) -> User:
    from lms.i18n import _

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
    from lms.accounts.models import count_admins

    return bool(db_session.scalar(count_admins()))


def users_by_ids(ids: list[int]) -> list[User]:
    return list(db_session.scalars(select(User).where(User.id.in_(ids))))
