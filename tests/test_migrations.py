"""The migrations build exactly the schema the models describe, and come back down cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import lms.models  # noqa: F401
from lms import migrations
from lms.db import Base, make_engine
from tests.helpers import POSTGRES_URL


def test_models_and_migrations_agree(migrated_database):
    url = POSTGRES_URL or f"sqlite:///{migrated_database}"
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": _include_name,
                "version_table": migrations.VERSION_TABLE,
            },
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], f"models and migrations disagree; add a migration: {differences}"


def _include_name(name, type_, parent_names):
    return type_ != "table" or (name.startswith("lms_") and name != migrations.VERSION_TABLE)


def test_migrations_downgrade_to_base_and_upgrade_again(tmp_path):
    url = POSTGRES_URL or f"sqlite:///{tmp_path / 'roundtrip.sqlite'}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    migrations.downgrade(engine, "base")
    assert [
        t
        for t in inspect(engine).get_table_names()
        if t.startswith("lms_") and t != migrations.VERSION_TABLE
    ] == []
    migrations.upgrade(engine)
    assert "lms_certificate" in inspect(engine).get_table_names()
    engine.dispose()


def test_accounts_made_before_email_confirmation_count_as_confirmed(tmp_path):
    from sqlalchemy import text

    url = POSTGRES_URL or f"sqlite:///{tmp_path / 'confirmation.sqlite'}"
    engine = make_engine(url)
    migrations.downgrade(engine, "base")
    migrations.upgrade(engine, "0002")
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO lms_user (email, display_name, locale, time_zone, is_facilitator,"
                    " is_admin, affiliate, audience_role, active, created_at)"
                    " VALUES ('early@example.org', 'Early', 'en', 'UTC', false, false, '', '',"
                    " true, '2026-01-02 03:04:05')"
                )
            )
        migrations.upgrade(engine)
        with engine.connect() as connection:
            created, confirmed = connection.execute(
                text(
                    "SELECT created_at, email_confirmed_at FROM lms_user WHERE email = 'early@example.org'"
                )
            ).one()
        assert confirmed is not None and confirmed == created
    finally:
        migrations.downgrade(engine, "base")
        migrations.upgrade(engine)
        engine.dispose()
