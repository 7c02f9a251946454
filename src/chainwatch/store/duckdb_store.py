"""The analytic store: one DuckDB file, one writer, atomic loads.

A load never touches the live file. The writer takes an exclusive lock, copies the live file
to a sibling temporary file, loads and validates there, checkpoints, and renames the copy over
the live file (``os.replace``, atomic on POSIX). A failed, interrupted or killed load leaves the
live file as it was; readers keep reading the previous state meanwhile. See docs/adr/0003.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import platformdirs

from chainwatch import schema
from chainwatch.errors import StoreError

SCHEMA_VERSION = 1
STORE_ENV = "CHAINWATCH_STORE"


def default_store_path() -> Path:
    """``$CHAINWATCH_STORE`` if set, else ``chainwatch.duckdb`` in the user's data directory."""
    configured = os.environ.get(STORE_ENV)
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("chainwatch") / "chainwatch.duckdb"


def create_tables(con: Any) -> None:
    for name in schema.tables():
        con.execute(schema.create_table_sql(name))
    con.execute("CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(
        "INSERT OR REPLACE INTO store_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
    )


class Store:
    """A DuckDB store at ``path`` (created on first write)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()

    def exists(self) -> bool:
        return self.path.exists()

    def connect(self) -> Any:
        """A read-only connection to the live store."""
        if not self.path.exists():
            raise StoreError(
                f"no store at {self.path}: run `chainwatch init` to build it from the bundled data"
            )
        return duckdb.connect(str(self.path), read_only=True)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Any]:
        """A connection to a private copy of the store; committed only if the block succeeds."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with lock_path.open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise StoreError(f"another process is writing to {self.path}") from error
            self._remove_stale_copies()
            work = self.path.with_name(f"{self.path.name}.loading-{os.getpid()}")
            if self.path.exists():
                shutil.copyfile(self.path, work)
            try:
                con = duckdb.connect(str(work))
                try:
                    create_tables(con)
                    yield con
                    con.execute("CHECKPOINT")
                finally:
                    con.close()
                _fsync(work)
                os.replace(work, self.path)
                _fsync(self.path.parent)
            finally:
                for leftover in (work, work.with_name(work.name + ".wal")):
                    leftover.unlink(missing_ok=True)

    def _remove_stale_copies(self) -> None:
        """Delete copies left by killed writers (we hold the lock, so none is in use)."""
        for stale in self.path.parent.glob(self.path.name + ".loading-*"):
            stale.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file or a directory entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
