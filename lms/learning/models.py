from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.courses.models import Course
from lms.db import Base, UTCDateTime, utcnow


def _enum(enum_class: type[enum.Enum]) -> Enum:
    return Enum(enum_class, native_enum=False, length=16, validate_strings=True)


class LearningPath(enum.StrEnum):
    live = "live"
    recording = "recording"
    self_paced = "self_paced"


class EnrollmentStatus(enum.StrEnum):
    registered = "registered"
    waitlisted = "waitlisted"
    in_progress = "in_progress"
    completed = "completed"
    withdrawn = "withdrawn"


class StepState(enum.StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"


class ReflectionStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"


class Enrollment(Base):
    __tablename__ = "lms_enrollment"
    __table_args__ = (
        # One enrollment per learner per course and path off-cohort, and one per cohort.
        Index(
            "uq_lms_enrollment_self_directed",
            "user_id",
            "course_id",
            "path",
            unique=True,
            sqlite_where=text("cohort_id IS NULL"),
            postgresql_where=text("cohort_id IS NULL"),
        ),
        Index(
            "uq_lms_enrollment_cohort_user",
            "cohort_id",
            "user_id",
            unique=True,
            sqlite_where=text("cohort_id IS NOT NULL"),
            postgresql_where=text("cohort_id IS NOT NULL"),
        ),
        Index("ix_lms_enrollment_course_status", "course_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("lms_course.id"), index=True)
    path: Mapped[LearningPath] = mapped_column(_enum(LearningPath))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("lms_cohort.id"), index=True)
    status: Mapped[EnrollmentStatus] = mapped_column(
        _enum(EnrollmentStatus), default=EnrollmentStatus.in_progress
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    course: Mapped[Course] = relationship(lazy="joined", innerjoin=True)

    @property
    def is_active(self) -> bool:
        return self.status not in (EnrollmentStatus.withdrawn,)

    def __repr__(self) -> str:
        return f"<Enrollment {self.id} user={self.user_id} course={self.course_id} {self.path} {self.status}>"


class StepProgress(Base):
    __tablename__ = "lms_step_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("lms_enrollment.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(64))
    # Played media as merged [start, end] second pairs, JSON text; empty for non-media steps.
    segments: Mapped[str] = mapped_column(Text, default="[]")
    duration: Mapped[float | None] = mapped_column(Float)
    fraction: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[StepState] = mapped_column(_enum(StepState), default=StepState.not_started)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Reflection(Base):
    __tablename__ = "lms_reflection"
    __table_args__ = (UniqueConstraint("enrollment_id", "prompt_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("lms_enrollment.id", ondelete="CASCADE"), index=True
    )
    prompt_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReflectionStatus] = mapped_column(
        _enum(ReflectionStatus), default=ReflectionStatus.draft
    )
    shared_with_facilitator: Mapped[bool] = mapped_column(Boolean, default=False)
    word_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enrollment: Mapped[Enrollment] = relationship()
