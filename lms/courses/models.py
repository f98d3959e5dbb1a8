from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime, utcnow


class CourseStatus(enum.StrEnum):
    active = "active"
    retired = "retired"


class Course(Base):
    """A course's row: what records point to. The definition itself lives in the catalog."""

    __tablename__ = "lms_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[CourseStatus] = mapped_column(
        Enum(CourseStatus, native_enum=False, length=16, validate_strings=True),
        default=CourseStatus.active,
    )
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Course {self.slug} v{self.version} {self.status}>"
