"""Open Badges credentials: lms_credential_key, lms_credential, lms_credential_status_list

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lms_credential_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_key_multibase", sa.String(length=64), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_credential_key")),
        sa.UniqueConstraint(
            "public_key_multibase", name=op.f("uq_lms_credential_key_public_key_multibase")
        ),
    )
    op.create_table(
        "lms_credential_status_list",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("published_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_credential_status_list")),
    )
    op.create_table(
        "lms_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("status_list", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("created_at", lms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("signed_at", lms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["lms_certificate.id"],
            name=op.f("fk_lms_credential_certificate_id_lms_certificate"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["lms_credential_key.id"],
            name=op.f("fk_lms_credential_key_id_lms_credential_key"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lms_credential")),
        sa.UniqueConstraint("certificate_id", name=op.f("uq_lms_credential_certificate_id")),
        sa.UniqueConstraint("status_list", "status_index", name="uq_lms_credential_status_entry"),
        sa.UniqueConstraint("uuid", name=op.f("uq_lms_credential_uuid")),
    )


def downgrade() -> None:
    op.drop_table("lms_credential")
    op.drop_table("lms_credential_status_list")
    op.drop_table("lms_credential_key")
