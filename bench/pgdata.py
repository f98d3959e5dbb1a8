"""The generated benchmark organisation on PostgreSQL: the database emptied, the project's
migrations run on it, then every row of the cached SQLite file (``bench.generate``) copied in
with ``COPY`` and the id sequences moved past the copied ids.

    python -m bench.pgdata URL [--scale 0.01]

The SQLite file stays the one place the data is made; PostgreSQL gets the same rows, so a page
or an export measured on both databases reads the same organisation. The database named in the
URL is EMPTIED first (its ``public`` schema dropped and made again): give a database of its own,
never one that holds anything else. The copy is skipped when the database already holds the
same generation (its key is kept as the schema's comment).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

from bench.common import log

KEY_PREFIX = "lms bench dataset "


def driver_url(url: str) -> str:
    """The URL as psycopg and psql take it (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def is_postgres(url: str | None) -> bool:
    return bool(url) and url.startswith("postgresql")


def database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database or ""


def reset(url: str) -> None:
    """Drop everything in the database's public schema: the run starts from nothing."""
    import psycopg

    name = database_name(url)
    if not name or name in ("postgres", "template0", "template1", "test"):
        raise SystemExit(f"refusing to empty the database {name!r}: name one of its own in the URL")
    with psycopg.connect(driver_url(url), autocommit=True) as con:
        con.execute("DROP SCHEMA IF EXISTS public CASCADE")
        con.execute("CREATE SCHEMA public")


def stored_key(url: str) -> str | None:
    import psycopg

    with psycopg.connect(driver_url(url), autocommit=True) as con:
        comment = con.execute(
            "SELECT obj_description('public'::regnamespace, 'pg_namespace')"
        ).fetchone()[0]
    return comment.removeprefix(KEY_PREFIX) if comment and comment.startswith(KEY_PREFIX) else None


def forget(url: str) -> None:
    """Mark the database as no longer holding the generated rows alone (a run wrote to it)."""
    import psycopg

    with psycopg.connect(driver_url(url), autocommit=True) as con:
        con.execute("COMMENT ON SCHEMA public IS NULL")


def _table_order(tables: set[str]) -> list[str]:
    """Parents before children, as the models' metadata orders them; anything else after."""
    import lms.models  # noqa: F401 - every model in the metadata
    from lms.db import Base

    ordered = [table.name for table in Base.metadata.sorted_tables if table.name in tables]
    return ordered + sorted(tables - set(ordered))


def copy_from_sqlite(sqlite_file: Path, url: str, key: str = "") -> dict[str, int]:
    """Empty the database, migrate it, copy every table of ``sqlite_file`` in; rows per table."""
    import psycopg

    from lms import migrations
    from lms.db import make_engine

    reset(url)
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    counts: dict[str, int] = {}
    source = sqlite3.connect(f"file:{sqlite_file}?mode=ro", uri=True)
    try:
        with psycopg.connect(driver_url(url)) as con:
            con.execute("SET TIME ZONE 'UTC'")  # SQLite's timestamps are naive UTC
            pg_columns: dict[str, list[str]] = {}
            for table, column in con.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema "
                "= 'public' ORDER BY ordinal_position"
            ):
                pg_columns.setdefault(table, []).append(column)
            sqlite_tables = {
                row[0]
                for row in source.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            }
            tables = _table_order((sqlite_tables & set(pg_columns)) - {"alembic_version"})
            for table in tables:
                # Rows the migrations themselves wrote (a stamp row, say) make way for the copy's.
                con.execute(f'DELETE FROM "{table}"')
            for table in tables:
                have = [row[1] for row in source.execute(f'PRAGMA table_info("{table}")')]
                columns = [c for c in have if c in pg_columns[table]]
                names = ", ".join(f'"{c}"' for c in columns)
                count = 0
                with con.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                    for row in source.execute(f'SELECT {names} FROM "{table}"'):
                        copy.write_row(row)
                        count += 1
                counts[table] = count
                if "id" in columns and _has_sequence(con, table):
                    con.execute(
                        f"""SELECT setval(pg_get_serial_sequence('"{table}"', 'id'),
                                  coalesce((SELECT max(id) FROM "{table}"), 0) + 1, false)"""
                    )
            if key:
                con.execute(f"COMMENT ON SCHEMA public IS '{KEY_PREFIX}{key}'")
            con.commit()
        with psycopg.connect(driver_url(url), autocommit=True) as con:
            con.execute("ANALYZE")
    finally:
        source.close()
    return counts


def _has_sequence(con: object, table: str) -> bool:
    return (
        con.execute(f"SELECT pg_get_serial_sequence('\"{table}\"', 'id')").fetchone()[0] is not None
    )  # type: ignore[attr-defined]


def ensure_postgres_dataset(scale: float, url: str, force: bool = False) -> dict[str, object]:
    """The generated organisation of ``scale`` in the PostgreSQL database at ``url`` (copied
    unless it already holds that generation); the dataset's metadata."""
    from bench.generate import ensure_dataset

    dataset = ensure_dataset(scale)
    key = str(dataset.meta["key"])
    if not force and stored_key(url) == key:
        return {**dataset.meta, "postgres": "cached"}
    started = time.perf_counter()
    log(f"pgdata: copying {dataset.path.name} into {database_name(url)} on PostgreSQL")
    counts = copy_from_sqlite(dataset.path, url, key)
    seconds = time.perf_counter() - started
    log(f"pgdata: {sum(counts.values()):,} rows in {seconds:.1f} s")
    return {**dataset.meta, "postgres": f"copied in {seconds:.1f} s"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pgdata", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("url", help="postgresql+psycopg://user@host:port/DATABASE (emptied first)")
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument(
        "--force", action="store_true", help="copy even when the database holds the same generation"
    )
    args = parser.parse_args(argv)
    meta = ensure_postgres_dataset(args.scale, args.url, force=args.force)
    print(f"{meta['learners']:,} learners, {meta['enrollments']:,} enrollments: {meta['postgres']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
