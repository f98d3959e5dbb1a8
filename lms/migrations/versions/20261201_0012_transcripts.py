"""Transcripts: lms_transcript, what a downloaded transcript printed, under its verification code

Revision ID: 0012
Revises: 0004
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0012'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lms_transcript',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=True),
        sa.Column('period_end', sa.Date(), nullable=True),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('issued_at', lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['lms_user.id'], name=op.f('fk_lms_transcript_user_id_lms_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lms_transcript')),
        sa.UniqueConstraint('code', name=op.f('uq_lms_transcript_code')),
        sa.UniqueConstraint('user_id', 'content_hash', name=op.f('uq_lms_transcript_user_id_content_hash')),
    )
    with op.batch_alter_table('lms_transcript', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lms_transcript_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('lms_transcript', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lms_transcript_user_id'))
    op.drop_table('lms_transcript')
