"""lms_user.email_confirmed_at: accounts confirm their address before joining a live session

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_confirmed_at", lms.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Accounts made before confirmation existed keep what they could do: they count as confirmed.
    op.execute("UPDATE lms_user SET email_confirmed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.drop_column("email_confirmed_at")
