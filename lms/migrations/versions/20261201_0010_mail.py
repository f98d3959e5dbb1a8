"""Cohort and certificate mail: deliveries, people's mail settings, a cohort's mail settings and
calendar revision, facilitators' messages to a roster

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_mail_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("enrollment_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sent",
                "failed",
                "skipped",
                name="deliverystatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["lms_cohort.id"],
            name=op.f("fk_lms_mail_delivery_cohort_id_lms_cohort"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["lms_enrollment.id"],
            name=op.f("fk_lms_mail_delivery_enrollment_id_lms_enrollment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_mail_delivery_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_mail_delivery")),
        sa.UniqueConstraint("key", name=op.f("uq_lms_mail_delivery_key")),
    )
    with op.batch_alter_table("lms_mail_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lms_mail_delivery_cohort_id_kind", ["cohort_id", "kind"], unique=False
        )
        batch_op.create_index(
            "ix_lms_mail_delivery_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lms_mail_delivery_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_lms_mail_delivery_enrollment_id"), ["enrollment_id"], unique=False
        )
    op.create_table(
        "lms_mail_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("updated_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_mail_preference_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_lms_mail_preference")),
    )
    op.create_table(
        "lms_cohort_mail",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("reminder_minutes", sa.JSON(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["lms_cohort.id"],
            name=op.f("fk_lms_cohort_mail_cohort_id_lms_cohort"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cohort_id", name=op.f("pk_lms_cohort_mail")),
    )
    op.create_table(
        "lms_cohort_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["lms_cohort.id"],
            name=op.f("fk_lms_cohort_message_cohort_id_lms_cohort"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_cohort_message_sender_id_lms_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_cohort_message")),
    )
    with op.batch_alter_table("lms_cohort_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lms_cohort_message_cohort_id"), ["cohort_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lms_cohort_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_cohort_message_cohort_id"))
    op.drop_table("lms_cohort_message")
    op.drop_table("lms_cohort_mail")
    op.drop_table("lms_mail_preference")
    with op.batch_alter_table("lms_mail_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_mail_delivery_enrollment_id"))
        batch_op.drop_index(batch_op.f("ix_lms_mail_delivery_user_id"))
        batch_op.drop_index("ix_lms_mail_delivery_status_created_at")
        batch_op.drop_index("ix_lms_mail_delivery_cohort_id_kind")
    op.drop_table("lms_mail_delivery")
