from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.courses.models import Course
from lms.db import Base, UTCDateTime, utcnow


def _enum(enum_class: type[enum.Enum]) -> Enum:
    return Enum(enum_class, native_enum=False, length=16, validate_strings=True)


class CohortStatus(enum.StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"
    closed = "closed"


class AttendanceStatus(enum.StrEnum):
    present = "present"
    late = "late"
    excused = "excused"
    absent = "absent"


class AttendanceSource(enum.StrEnum):
    manual = "manual"
    import_ = "import"


class Cohort(Base):
    __tablename__ = "lms_cohort"
    # A course's upcoming sessions are a range of this index (the course page, the facilitator's list).
    __table_args__ = (Index("ix_lms_cohort_course_id_starts_at", "course_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("lms_course.id"))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # UTC
    time_zone: Mapped[str] = mapped_column(String(64))  # the zone it was scheduled in
    minutes: Mapped[int] = mapped_column(Integer)
    join_url: Mapped[str] = mapped_column(String(500), default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[CohortStatus] = mapped_column(
        _enum(CohortStatus), default=CohortStatus.scheduled
    )
    cancellation_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(lazy="joined", innerjoin=True)
    facilitators: Mapped[list[User]] = relationship(
        secondary="lms_cohort_facilitator", order_by="User.display_name"
    )


class CohortFacilitator(Base):
    __tablename__ = "lms_cohort_facilitator"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Attendance(Base):
    __tablename__ = "lms_attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("lms_enrollment.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[AttendanceStatus] = mapped_column(_enum(AttendanceStatus))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[AttendanceSource] = mapped_column(
        _enum(AttendanceSource), default=AttendanceSource.manual
    )
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
