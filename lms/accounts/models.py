from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, String, func, select
from sqlalchemy.orm import Mapped, mapped_column
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
    audience_role: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the person followed the link mailed to the address. Live sessions need it: their
    # attendance is matched by email address, and certificates follow attendance.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

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


def count_admins():
    return select(func.count()).select_from(User).where(User.is_admin.is_(True), User.active.is_(True))
