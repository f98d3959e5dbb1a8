"""Records: lms_transcript (what a downloaded transcript printed, under its verification code),
lms_evaluation_submission and lms_evaluation_answer (session evaluations, answers apart from people)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_transcript",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lms_user.id"],
            name=op.f("fk_lms_transcript_user_id_lms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_transcript")),
        sa.UniqueConstraint("code", name=op.f("uq_lms_transcript_code")),
        sa.UniqueConstraint(
            "user_id", "content_hash", name=op.f("uq_lms_transcript_user_id_content_hash")
        ),
    )
    with op.batch_alter_table("lms_transcript", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lms_transcript_user_id"), ["user_id"], unique=False)
    op.create_table(
        "lms_evaluation_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["lms_enrollment.id"],
            name=op.f("fk_lms_evaluation_submission_enrollment_id_lms_enrollment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_evaluation_submission")),
        sa.UniqueConstraint(
            "enrollment_id", name=op.f("uq_lms_evaluation_submission_enrollment_id")
        ),
    )
    op.create_table(
        "lms_evaluation_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=16), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["lms_cohort.id"],
            name=op.f("fk_lms_evaluation_answer_cohort_id_lms_cohort"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["lms_course.id"],
            name=op.f("fk_lms_evaluation_answer_course_id_lms_course"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_evaluation_answer")),
    )
    with op.batch_alter_table("lms_evaluation_answer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lms_evaluation_answer_course_cohort", ["course_id", "cohort_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lms_evaluation_answer_cohort_id"), ["cohort_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lms_evaluation_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_evaluation_answer_cohort_id"))
        batch_op.drop_index("ix_lms_evaluation_answer_course_cohort")
    op.drop_table("lms_evaluation_answer")
    op.drop_table("lms_evaluation_submission")
    with op.batch_alter_table("lms_transcript", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_transcript_user_id"))
    op.drop_table("lms_transcript")
