"""The migrations build exactly the schema the models describe, and come back down cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import lms.models  # noqa: F401
from lms import migrations
from lms.db import Base, make_engine
from tests.conftest import POSTGRES_URL


def test_models_and_migrations_agree(migrated_database):
    url = POSTGRES_URL or f"sqlite:///{migrated_database}"
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_name": _include_name, "version_table": migrations.VERSION_TABLE},
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
    assert [t for t in inspect(engine).get_table_names() if t.startswith("lms_") and t != migrations.VERSION_TABLE] == []
    migrations.upgrade(engine)
    assert "lms_certificate" in inspect(engine).get_table_names()
    engine.dispose()
