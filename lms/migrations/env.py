from __future__ import annotations

from alembic import context

import lms.models  # noqa: F401  (every model, so the metadata is complete)
from lms.db import Base
from lms.migrations import VERSION_TABLE

config = context.config
target_metadata = Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # The engine may share a database with its host: it only ever looks at its own tables.
    if type_ == "table":
        return bool(name) and name.startswith("lms_") and name != VERSION_TABLE
    return True


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=VERSION_TABLE,
            include_name=include_name,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
