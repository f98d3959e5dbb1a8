"""Mail to people about their cohorts and certificates: what was sent, to whom, and their choices."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime, utcnow


class DeliveryStatus(enum.StrEnum):
    queued = "queued"  # committed, its job not yet run (or waiting for a retry)
    sent = "sent"  # the relay took it
    failed = "failed"  # refused for good (an address the relay rejects) or every attempt failed
    skipped = "skipped"  # nothing to send any more (withdrawn, cancelled, unsubscribed, moved)


class MailDelivery(Base):
    """One message to one person, recorded before it is sent and updated by the job that sends it.

    ``key`` makes a message that must go once (a reminder for a session start, a day's digest)
    unique in the database: two schedulers that both find it due cannot both insert it.
    """

    __tablename__ = "lms_mail_delivery"
    __table_args__ = (
        Index("ix_lms_mail_delivery_cohort_id_kind", "cohort_id", "kind"),
        Index("ix_lms_mail_delivery_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # A deleted account takes its messages (and the address they went to) with it.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("lms_cohort.id", ondelete="SET NULL"))
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_enrollment.id", ondelete="SET NULL"), index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=16, validate_strings=True),
        default=DeliveryStatus.queued,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailPreference(Base):
    """A person's choices about the mail they may turn off. No row: the defaults."""

    __tablename__ = "lms_mail_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True
    )
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)  # reminders before a session
    digest: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # facilitators' daily digest (opt-in)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CohortMail(Base):
    """A cohort's mail settings and its calendar revision. No row: the deployment's defaults."""

    __tablename__ = "lms_cohort_mail"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), primary_key=True
    )
    # Minutes before the start to remind, e.g. [1440, 60]; None: LMS_REMINDER_MINUTES.
    reminder_minutes: Mapped[list[int] | None] = mapped_column(JSON)
    # Raised with every change calendars must see (time, length, link, place, cancellation).
    sequence: Mapped[int] = mapped_column(Integer, default=0)


class CohortMessage(Base):
    """A facilitator's message to a cohort's roster (sent by a job to each person)."""

    __tablename__ = "lms_cohort_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("lms_cohort.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    audience: Mapped[str] = mapped_column(String(16))  # seats, waitlist, all
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
