"""a course's sessions by start: one index on (course_id, starts_at) replaces the one on course_id

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 20:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lms_cohort", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lms_cohort_course_id_starts_at", ["course_id", "starts_at"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_lms_cohort_course_id"))


def downgrade() -> None:
    with op.batch_alter_table("lms_cohort", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lms_cohort_course_id"), ["course_id"], unique=False)
        batch_op.drop_index("ix_lms_cohort_course_id_starts_at")
