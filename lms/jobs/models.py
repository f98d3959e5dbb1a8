"""The job table: the outbox every side effect goes through (``lms.jobs``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import Base, UTCDateTime, utcnow


class JobStatus(enum.Enum):
    queued = "queued"  # committed, waiting for its turn (or for ``run_after``, when retrying)
    running = "running"
    done = "done"
    failed = "failed"  # every attempt failed: shown to admins, who may retry it


class Job(Base):
    """One call of a job function, committed in the same transaction as the work that asked
    for it; a queue (RQ, or the in-process runner) only carries its id."""

    __tablename__ = "lms_job"
    __table_args__ = (Index("ix_lms_job_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "module:function" of a function decorated with @lms.jobs.job
    name: Mapped[str] = mapped_column(String(200), index=True)
    # What the job is about, for finding it again ("cohort:12"): enqueue(..., _key=...).
    key: Mapped[str | None] = mapped_column(String(120), index=True)
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=16), default=JobStatus.queued
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    # Not before this time (a retry's back-off); None: at once.
    run_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Long jobs say how far they are (lms.jobs.report_progress): done of total.
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    # What the function returned (JSON), e.g. the file a ZIP job wrote.
    result: Mapped[Any | None] = mapped_column(JSON)

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.done, JobStatus.failed)
