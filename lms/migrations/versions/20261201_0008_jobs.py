"""lms_job: the outbox of side effects (mail, certificate ZIPs, exports) run after commit

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="jobstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_job")),
    )
    with op.batch_alter_table("lms_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lms_job_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_lms_job_name"), ["name"], unique=False)
        batch_op.create_index("ix_lms_job_status_run_after", ["status", "run_after"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lms_job", schema=None) as batch_op:
        batch_op.drop_index("ix_lms_job_status_run_after")
        batch_op.drop_index(batch_op.f("ix_lms_job_name"))
        batch_op.drop_index(batch_op.f("ix_lms_job_key"))
    op.drop_table("lms_job")
