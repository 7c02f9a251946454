"""The analytic store: one DuckDB file, one writer, atomic loads.

A load never touches the live file. The writer takes an exclusive lock, copies the live file
to a sibling temporary file, loads and validates there, checkpoints, and renames the copy over
the live file (``os.replace``, atomic on POSIX). A failed, interrupted or killed load leaves the
live file as it was; readers keep reading the previous state meanwhile. See docs/adr/0003.

Ctrl-C during a write (main thread) always abandons it: the writer's SIGINT handler raises
KeyboardInterrupt, a DuckDB query it interrupted (``RuntimeError: Query interrupted``) becomes
KeyboardInterrupt, and an interrupt that a DuckDB call swallowed is still seen before the rename,
so nothing is committed. Only the rename itself (milliseconds) is past the point of no return.
Archives are extracted into :meth:`Store.scratch_directory`, beside the store, so what a killed
writer left there is removed by the next writer (docs/adr/0008).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
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
        return _open(self.path, read_only=True)

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
            with _Interrupts() as interrupts:
                try:
                    if self.path.exists():
                        shutil.copyfile(self.path, work)
                    con = _open(work, read_only=False, shown=self.path)
                    interrupts.connection = con
                    try:
                        create_tables(con)
                        yield con
                        con.execute("CHECKPOINT")
                    except Exception:
                        interrupts.raise_if_seen()
                        raise
                    finally:
                        con.close()
                    _fsync(work)
                    interrupts.commit()
                    os.replace(work, self.path)
                    _fsync(self.path.parent)
                finally:
                    for leftover in (work, work.with_name(work.name + ".wal")):
                        leftover.unlink(missing_ok=True)

    @contextlib.contextmanager
    def scratch_directory(self) -> Iterator[Path]:
        """A private directory beside the store for extracted archive members, removed on
        every exit; one left by a killed writer is removed by the next writer."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        prefix = f"{self.path.name}.scratch-{os.getpid()}-"
        with tempfile.TemporaryDirectory(prefix=prefix, dir=self.path.parent) as created:
            yield Path(created)

    def _remove_stale_copies(self) -> None:
        """Delete copies and scratch directories left by killed writers (we hold the lock,
        so none is in use)."""
        for stale in self.path.parent.glob(self.path.name + ".loading-*"):
            stale.unlink(missing_ok=True)
        for stale in self.path.parent.glob(self.path.name + ".scratch-*"):
            shutil.rmtree(stale, ignore_errors=True)


class _Interrupts:
    """SIGINT during a write: abandon it, whatever DuckDB did with the signal.

    Outside the main thread (a server worker) signals cannot be handled here: nothing changes.
    """

    def __init__(self) -> None:
        self.seen = False
        self.committing = False
        self.connection: Any = None
        """The writer's DuckDB connection: interrupted too, as DuckDB may swallow the
        KeyboardInterrupt the handler raises inside a query and run the query to its end."""
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.committing:
            return  # the rename is under way: the load is complete, finish it
        self.seen = True
        if self.connection is not None:
            self.connection.interrupt()
        raise KeyboardInterrupt

    def raise_if_seen(self) -> None:
        """A DuckDB error caused by the interrupt (``Query interrupted``) is the interrupt."""
        if self.seen:
            raise KeyboardInterrupt from None

    def commit(self) -> None:
        """The point of no return: an interrupt seen (even one DuckDB swallowed) stops here."""
        self.raise_if_seen()
        self.committing = True


def _open(path: Path, read_only: bool, shown: Path | None = None) -> Any:
    """A DuckDB connection; a file that is no DuckDB database is a StoreError, not a trace."""
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StoreError(f"cannot open the store {shown or path}: {reason}") from None


def _fsync(path: Path) -> None:
    """Flush a file or a directory entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
