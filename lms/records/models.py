from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime, utcnow


class Transcript(Base):
    """A transcript as it was downloaded: what its PDF prints (``content``, JSON), under the code
    its QR code leads to. The same content for the same person keeps one code."""

    __tablename__ = "lms_transcript"
    __table_args__ = (UniqueConstraint("user_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)  # the last day included
    locale: Mapped[str] = mapped_column(String(8))
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvaluationSubmission(Base):
    """That an enrollment's learner answered the session evaluation (once): never what they said."""

    __tablename__ = "lms_evaluation_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("lms_enrollment.id", ondelete="CASCADE"), unique=True
    )
    submitted_on: Mapped[date] = mapped_column(Date)


class EvaluationAnswer(Base):
    """One answer to one question, kept apart from the person: it names the course, cohort and
    path it was given for, never the enrollment or the learner."""

    __tablename__ = "lms_evaluation_answer"
    __table_args__ = (Index("ix_lms_evaluation_answer_course_cohort", "course_id", "cohort_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("lms_course.id", ondelete="CASCADE"))
    cohort_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="SET NULL"), index=True
    )
    path: Mapped[str] = mapped_column(String(16))
    question_id: Mapped[str] = mapped_column(String(64))
    choice: Mapped[int | None] = mapped_column(
        Integer
    )  # likert point (1..5) or option index (0-based)
    text: Mapped[str | None] = mapped_column(Text)
