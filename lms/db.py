"""Database plumbing: the declarative base, one engine per app, one session per app context.

Services add and flush; the request (``lms.extension``, after the view: :func:`commit_if_open`)
or the CLI command (:func:`transaction`) commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from werkzeug.local import LocalProxy

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


MAX_ID = 2**31 - 1  # the largest INTEGER primary key on every database the engine runs on


def fit_to(column: Any, text: str) -> str:
    """``text`` cut to the length of ``column`` (a ``String(n)`` column): the column's type is the
    one place the limit is written."""
    return text[: column.type.length]


def parse_id(text: str | None) -> int | None:
    """A row id sent as text (a form field, a filter): ASCII digits up to MAX_ID, else None.

    ``str.isdigit`` alone lets through digits ``int`` cannot read ("²") and numbers no INTEGER
    column holds; either would fail in the database instead of being refused.
    """
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone, PostgreSQL keeps one; this makes both hand back aware UTC datetimes so
    comparisons and formatting behave the same on every database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DatabaseState:
    """What the engine keeps per app: its engine and session factory (in ``app.extensions``)."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.engine = make_engine(url, echo=echo)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def database_state(app: Flask | None = None) -> DatabaseState:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return app.extensions["lms"].database


def get_session() -> Session:
    """The session of the current app context, opened on first use."""
    if "_lms_session" not in g:
        g._lms_session = database_state().session_factory()
    return g._lms_session


db_session: Session = LocalProxy(get_session)  # type: ignore[assignment]


def close_session(exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("_lms_session", None)
    if session is None:
        return
    if exc is not None or session.in_transaction():
        # Anything not committed by the request's end is abandoned, never half-written.
        session.rollback()
    session.close()


def commit_if_open() -> None:
    session: Session | None = g.get("_lms_session")
    if session is not None:
        session.commit()


def rollback_if_open() -> None:
    session: Session | None = g.get("_lms_session")
    if session is not None:
        session.rollback()


@contextmanager
def transaction() -> Iterator[Session]:
    """One unit of work for a CLI command or a background job: commit at the end or roll back."""
    session = get_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
