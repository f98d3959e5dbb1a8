"""Change stamps: lms_user.records_version, lms_course.sessions_version and lms_stamp

Counters bumped with the records they cover, so that a worker's cached pages know when another
process changed what they show (lms/stamps.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("records_version", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("lms_course", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sessions_version", sa.Integer(), server_default="0", nullable=False)
        )
    stamp = op.create_table(
        "lms_stamp",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lms_stamp")),
    )
    op.bulk_insert(stamp, [{"name": "completions", "value": 0}])


def downgrade() -> None:
    op.drop_table("lms_stamp")
    with op.batch_alter_table("lms_course", schema=None) as batch_op:
        batch_op.drop_column("sessions_version")
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.drop_column("records_version")
