"""Sign-ins: lms_sign_in, one row per signed-in browser, so that sessions can be ended

The session and the remember-me cookie carry a sign-in's random token instead of the account's
id (lms.accounts.models.SignIn); ending the sign-in (sign-out, password reset, "sign out
everywhere", deactivation) deletes its row. Existing sessions, which carry ids, end with this
revision: everyone signs in again once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_sign_in_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_sign_in")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_lms_sign_in_token_hash")),
    )
    with op.batch_alter_table("lms_sign_in", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lms_sign_in_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lms_sign_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_sign_in_user_id"))
    op.drop_table("lms_sign_in")
