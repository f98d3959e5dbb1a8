from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, mapped_column, validates
from werkzeug.security import check_password_hash, generate_password_hash

from lms.db import Base, UTCDateTime, utcnow

MIN_PASSWORD_LENGTH = 10

# Audience roles a learner can pick in their profile; course files use the same ids.
AUDIENCE_ROLES = (
    "education-support-professional",
    "teacher",
    "higher-education-faculty",
    "administrator",
    "affiliate-leader",
    "affiliate-member",
    "other",
)


FOLDED_LENGTH = 400


def folded(value: str) -> str:
    """Text for matching in any letter case, the same on every database: Unicode case folding of
    the compatibility-normalised text ("ASOCIACIÓN" and "asociación" fold alike; SQLite's
    ``lower()`` folds ASCII only, PostgreSQL's follows its collation)."""
    text = unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", value or "").strip().casefold()
    )
    return text[:FOLDED_LENGTH]


def _affiliate_key_default(context: Any) -> str:
    # An INSERT that does not go through the ORM's attribute events (a bulk insert of dicts).
    return folded(context.get_current_parameters().get("affiliate") or "")


class User(UserMixin, Base):
    __tablename__ = "lms_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    time_zone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    is_facilitator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    affiliate: Mapped[str] = mapped_column(String(120), default="")
    # ``folded(affiliate)``, kept in step by ``_fold_affiliate`` and on insert: the report's
    # affiliate filter matches it, so any letter case matches alike on SQLite and PostgreSQL.
    # A statement that writes ``affiliate`` without the ORM sets it too.
    affiliate_key: Mapped[str] = mapped_column(
        String(FOLDED_LENGTH), default=_affiliate_key_default, server_default="", index=True
    )
    audience_role: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the person followed the link mailed to the address. Live sessions need it: their
    # attendance is matched by email address, and certificates follow attendance.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The sign-in (``SignIn``) this object was loaded for or just made, as its token: not a column.
    sign_in_token = None

    @validates("affiliate")
    def _fold_affiliate(self, _key: str, value: str) -> str:
        self.affiliate_key = folded(value)
        return value

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: the sign-in's token,
        never the account's id, so that ending the sign-in ends every copy of either cookie."""
        if self.sign_in_token is None:
            raise RuntimeError(
                "Sign in through lms.accounts.services.start_sign_in, which makes the token."
            )
        return self.sign_in_token

    # UserMixin compares people by ``get_id``: with sign-in tokens two copies of one account
    # loaded for different browsers would differ. The same account is the same person.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    __hash__ = object.__hash__  # as UserMixin keeps it: an identity hash, fit for the ORM's sets

    @property
    def can_facilitate(self) -> bool:
        return self.is_facilitator or self.is_admin

    @property
    def roles(self) -> list[str]:
        roles = ["learner"]
        if self.is_facilitator:
            roles.append("facilitator")
        if self.is_admin:
            roles.append("admin")
        return roles

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash or "", password)

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    @classmethod
    def by_email(cls, email: str):  # -> Select
        return select(cls).where(cls.email == cls.normalise_email(email))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class SignIn(Base):
    """One browser signed in to an account (lms.accounts.services.start_sign_in).

    The browser holds a random token (in its session, and in the remember-me cookie when asked
    for); the table keeps only its SHA-256. Signing out deletes the row, so a copy of either
    cookie saved before is worth nothing; a password reset, "sign out everywhere" and
    deactivation delete every row of the account.
    """

    __tablename__ = "lms_sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A remembered sign-in lasts as long as its cookie; a session-only one, LMS_SIGN_IN_MAX_AGE.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def count_admins():
    return (
        select(func.count()).select_from(User).where(User.is_admin.is_(True), User.active.is_(True))
    )
