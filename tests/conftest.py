"""Fixtures shared by every test: an app on its own database, clients, and people factories.

SQLite is the default: the schema is built once by the migrations and copied for each test.
With ``LMS_TEST_DATABASE_URL`` set (PostgreSQL), the migrations run once and every test starts
from emptied tables.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, text

from lms import create_app
from lms.db import Base, make_engine
from tests.helpers import COURSES_DIR, POSTGRES_URL, TEST_PASSWORD_HASH, login
from tests.helpers.authorization import World, build_world
from tests.helpers.stores import PAGE_CACHE_REDIS_URL, page_cache_redis_available


def pytest_report_header(config: pytest.Config) -> str:
    return f"lms database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite (temporary files)'}"


def _lms_tables() -> list[str]:
    return [table.name for table in reversed(Base.metadata.sorted_tables)]


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the schema built by the migrations; a URL (PostgreSQL) or a file path."""
    import lms.models  # noqa: F401
    from lms import migrations

    if POSTGRES_URL:
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as connection:
            # Every lms_ table there is, also those an older schema had and this one dropped.
            present = [
                name for name in inspect(connection).get_table_names() if name.startswith("lms_")
            ]
            for table in sorted({*_lms_tables(), *present, migrations.VERSION_TABLE}):
                connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        migrations.upgrade(engine)
        engine.dispose()
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "lms.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return str(path)


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    if POSTGRES_URL:
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as connection:
            records = _lms_tables()
            connection.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in records) + " RESTART IDENTITY CASCADE"
                )
            )
        engine.dispose()
        yield POSTGRES_URL
        return
    path = tmp_path / "lms.sqlite"
    shutil.copy(migrated_database, path)
    yield f"sqlite:///{path}"


@pytest.fixture(params=["files", "redis"])
def store(request: pytest.FixtureRequest) -> str:
    """A test that asks for it runs on both shared stores of the page caches: the instance
    folder's files (the default) and Redis (``LMS_REDIS_URL``), skipped when no Redis answers."""
    if request.param == "redis":
        if not page_cache_redis_available():
            pytest.skip(f"no Redis at {PAGE_CACHE_REDIS_URL}")
        import redis

        redis.Redis.from_url(PAGE_CACHE_REDIS_URL).flushdb()  # nothing of an earlier test
    return request.param


@pytest.fixture
def app_config(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Override keys in a test module with its own ``app_config`` fixture wrapping this one."""
    on_redis = "store" in request.fixturenames and request.getfixturevalue("store") == "redis"
    return {
        **({"LMS_REDIS_URL": PAGE_CACHE_REDIS_URL} if on_redis else {}),
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SERVER_NAME": "lms.test",
        "LMS_DATABASE_URL": database_url,
        "LMS_COURSES_DIR": str(COURSES_DIR),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "LMS_MAIL_BACKEND": "log",
        # A failed job is retried at once, so tests wait for its last attempt, not its back-off.
        "LMS_JOB_RETRY_DELAYS": [0],
    }


@pytest.fixture
def app(app_config: dict[str, Any], tmp_path: Path) -> Iterator[Flask]:
    os.environ["LMS_INSTANCE_PATH"] = str(tmp_path / "instance")
    try:
        application = create_app(app_config)
    finally:
        os.environ.pop("LMS_INSTANCE_PATH", None)
    with application.app_context():
        from lms.db import db_session
        from lms.state import lms_state

        lms_state().catalog.sync(db_session)
        db_session.commit()
    yield application
    from lms.jobs import wait_for_jobs

    wait_for_jobs(application)  # no in-process job may outlive its test's database
    application.extensions["lms"].database.engine.dispose()


@pytest.fixture
def other_worker(app: Flask, app_config: dict[str, Any], tmp_path: Path, monkeypatch):
    """A second app on the same database and the same shared store: another gunicorn worker of
    the same machine (its own memory; the instance folder's store, or Redis, in common)."""
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "other-instance"))
    worker = create_app({**app_config, "LMS_CACHE_DIR": str(Path(app.instance_path) / "cache")})
    yield worker
    worker.extensions["lms"].database.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The session inside an app context, for arranging and checking data directly."""
    with app.app_context():
        from lms.db import db_session

        yield db_session


@pytest.fixture
def in_db(app):
    """``with in_db() as session:`` a fresh app context for checking data between requests.

    (The ``db`` fixture keeps one app context open, which requests would then share, ``g``
    included; these tests look at the database in short contexts of their own instead.)
    """

    @contextmanager
    def open_session():
        with app.app_context():
            from lms.db import db_session

            yield db_session

    return open_session


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    """Create and commit a person: ``make_user(role="facilitator", email=..., ...)``."""
    counter = {"n": 0}

    def factory(role: str = "learner", **fields: Any) -> Any:
        from lms.accounts.models import User
        from lms.db import db_session

        counter["n"] += 1
        n = counter["n"]
        fields.setdefault("email", f"{role}{n}@example.org")
        fields.setdefault("display_name", f"{role.capitalize()} {n}")
        user = User(
            password_hash=TEST_PASSWORD_HASH,
            is_facilitator=role in ("facilitator", "admin"),
            is_admin=role == "admin",
            locale=fields.pop("locale", "en"),
            time_zone=fields.pop("time_zone", "America/New_York"),
            active=fields.pop("active", True),
            email_confirmed_at=fields.pop("email_confirmed_at", datetime.now(UTC)),
            **fields,
        )
        with app.app_context():
            db_session.add(user)
            db_session.commit()
            db_session.expunge(user)
        return user

    return factory


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[Any], FlaskClient]:
    def do_login(user: Any) -> FlaskClient:
        login(client, user)
        return client

    return do_login


@pytest.fixture
def world(app, make_user, db) -> World:
    """Every kind of visitor and the records the route table's URLs name
    (tests/helpers/authorization.py)."""
    return build_world(app, make_user, db)
