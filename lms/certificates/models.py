from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db import Base, UTCDateTime, utcnow
from lms.learning.models import Enrollment


class Certificate(Base):
    """A certificate of completion, with a snapshot of what it prints (names can change later)."""

    __tablename__ = "lms_certificate"
    __table_args__ = (
        # At most one valid (unrevoked) certificate per enrollment, enforced by the database so
        # two simultaneous issues cannot both succeed.
        Index(
            "uq_lms_certificate_valid_enrollment",
            "enrollment_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("lms_enrollment.id", ondelete="CASCADE"), index=True
    )
    learner_name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(300))
    hours: Mapped[float] = mapped_column(Float)
    session_date: Mapped[date] = mapped_column(Date)
    facilitator_name: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_user.id", ondelete="SET NULL")
    )
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("lms_certificate.id", ondelete="SET NULL")
    )

    enrollment: Mapped[Enrollment] = relationship()
    replaced_by: Mapped[Certificate | None] = relationship(remote_side=[id])

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
