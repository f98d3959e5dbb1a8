"""lms_user.affiliate_key: the affiliate case-folded, so the report filter matches any letter
case alike on SQLite (whose lower() folds ASCII only) and PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 1000


def _folded(value: str) -> str:
    # The same rule as lms.accounts.models.folded, as it stood when this migration was written:
    # a migration must not change when the application's code does.
    return unicodedata.normalize(
        "NFKC", unicodedata.normalize("NFKC", value or "").strip().casefold()
    )[:400]


def upgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("affiliate_key", sa.String(length=400), server_default="", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_lms_user_affiliate_key"), ["affiliate_key"], unique=False
        )
    connection = op.get_bind()
    users = sa.table(
        "lms_user",
        sa.column("id", sa.Integer),
        sa.column("affiliate", sa.String),
        sa.column("affiliate_key", sa.String),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(users.c.id, users.c.affiliate)
            .where(users.c.id > last_id, users.c.affiliate != "")
            .order_by(users.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            users.update()
            .where(users.c.id == sa.bindparam("user_id"))
            .values(affiliate_key=sa.bindparam("key")),
            [{"user_id": row.id, "key": _folded(row.affiliate)} for row in rows],
        )
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("lms_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lms_user_affiliate_key"))
        batch_op.drop_column("affiliate_key")
