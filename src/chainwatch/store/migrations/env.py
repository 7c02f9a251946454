"""Alembic environment of the app database: run programmatically by ``store/app_database.py``,
which passes an open connection, in a transaction under a lock, in
``config.attributes["connection"]`` (no alembic.ini)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the app-state migrations through chainwatch.store.app_database.upgrade")
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
