"""Opening the app database: where it is, a private SQLite file, migrations under a lock, and
the portable upsert. Used by ``store/app_state.py`` (and the other app-database modules).

* ``$CHAINWATCH_APP_DB`` (a SQLAlchemy URL), else a SQLite file beside the DuckDB store.
* A SQLite file is created with mode 0600 (SQLite gives its journal files the same mode).
* Migrations run in one transaction under a lock: ``pg_advisory_xact_lock`` on PostgreSQL,
  ``BEGIN IMMEDIATE`` on SQLite, so processes opening a fresh database at the same time wait
  for the first and then find the schema current (and a killed migration leaves nothing).
* ``insert_new`` is ``INSERT ... ON CONFLICT DO NOTHING`` through SQLAlchemy's SQLite and
  PostgreSQL dialect inserts: a row that exists already is neither an error nor a race.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session

from chainwatch.errors import StoreError

APP_DB_VARIABLE = "CHAINWATCH_APP_DB"
MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x63_77_61_70
"""PostgreSQL advisory lock key taken while migrating (concurrent first opens wait on it)."""
SQLITE_BUSY_TIMEOUT_S = 30.0


def open_engine(url: str) -> Engine:
    """An engine on ``url`` with the schema upgraded to the latest migration (StoreError if
    the URL is not one or the database cannot be opened)."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError as error:
        raise StoreError(f"app database URL {url!r} is not a SQLAlchemy URL") from error
    database = sqlite_file(url)
    arguments: dict[str, Any] = {}
    if database is not None:
        create_private_file(database)
        arguments["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    engine = create_engine(parsed, **arguments)
    try:
        upgrade(engine)
    except SQLAlchemyError as error:
        engine.dispose()
        raise StoreError(
            f"cannot open the app database {shown_url(url)}: {database_reason(error)}"
        ) from error
    return engine


def app_database_url(store_path: Path | str | None = None) -> str:
    """``$CHAINWATCH_APP_DB``, else a SQLite file beside the DuckDB store."""
    configured = os.environ.get(APP_DB_VARIABLE, "").strip()
    if configured:
        return configured
    path = _store_path(store_path)
    sqlite_file = path.with_name(path.stem + ".app.sqlite")
    return URL.create("sqlite", database=str(sqlite_file)).render_as_string(hide_password=False)


def default_key_file(url: str, store_path: Path | str | None = None) -> Path:
    """The key file used when no key is configured: beside a SQLite app database
    (``chainwatch.app.sqlite`` -> ``chainwatch.app.key``), else beside the store."""
    database = sqlite_file(url)
    if database is not None:
        return database.with_suffix(".key")
    path = _store_path(store_path)
    return path.with_name(path.stem + ".app.key")


def _store_path(store_path: Path | str | None) -> Path:
    if store_path is None:
        from chainwatch.store.duckdb_store import default_store_path

        return default_store_path()
    return Path(store_path)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database))


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (0600) unless it exists: SQLite keeps
    the database's mode for its journal files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def shown_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparseable URL>"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` on ``engine`` (programmatic, no ini)."""
    _migrate(engine, revision, up=True)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _migrate(engine, revision, up=False)


def _migrate(engine: Engine, revision: str, up: bool) -> None:
    """One transaction under a lock: concurrent first opens wait, then find the schema done."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        _lock_for_migration(connection)
        config.attributes["connection"] = connection
        if up:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
        connection.commit()


def _lock_for_migration(connection: Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, held to the commit


def insert_new(
    session: Session,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
) -> int:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING``: how many of ``rows`` were new (counted
    with ``RETURNING``: the drivers' row counts are not reliable here). One statement, so two
    processes inserting the same row cannot both fail or both win."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(model).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        statement = sqlite.insert(model).on_conflict_do_nothing(index_elements=keys)
    else:
        raise StoreError(f"the app database must be SQLite or PostgreSQL, not {dialect}")
    statement = statement.returning(*(model.__table__.c[key] for key in keys))
    return sum(len(session.execute(statement.values(**row)).all()) for row in rows)


def database_reason(error: SQLAlchemyError) -> str:
    """The first line of the driver's message (no SQL, no traceback)."""
    return str(error.orig if hasattr(error, "orig") else error).splitlines()[0]
