"""Row locks that work on PostgreSQL and SQLite, for the few places where two requests race.

PostgreSQL: ``SELECT ... FOR UPDATE`` on the row; a second transaction waits until the first
commits, then sees what it wrote (READ COMMITTED).

SQLite has no row locks but serialises writers: a no-op ``UPDATE`` of the row takes the
database's write lock for the rest of the transaction, so a second writer waits (busy timeout)
and then reads what the first committed. The UPDATE must come before the transaction's first
read of the rows it guards; pysqlite only opens a transaction at the first write, so reads made
earlier in the request (loading the user) hold no stale snapshot.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from lms.db import db_session


def lock_row(model: Any, row_id: int) -> None:
    """Hold a write lock on one row (``model.id == row_id``) until the transaction ends."""
    if db_session.get_bind().dialect.name == "sqlite":
        statement = update(model).where(model.id == row_id).values(id=model.id)
        db_session.execute(statement.execution_options(synchronize_session=False))
    else:
        db_session.execute(select(model.id).where(model.id == row_id).with_for_update())


def lock_fresh(instance: Any) -> None:
    """Lock ``instance``'s row, then read it again: what an earlier writer committed is seen."""
    lock_row(type(instance), instance.id)
    db_session.refresh(instance)
