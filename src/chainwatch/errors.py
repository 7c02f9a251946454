"""Errors that are the user's to fix: they carry the file, row and column at fault."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class InputError(Exception):
    """Bad input: a one-line message naming the file, the row and the column.

    ``row`` is the 1-based line number in the file as a text editor shows it (the header is
    line 1 of a CSV); ``None`` when the fault is the whole file.
    """

    file: Path | str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = str(self.file)
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        return f"{where}: {self.message}"


class StoreError(Exception):
    """The store cannot be used as asked (locked by another writer, missing, wrong version)."""


class QueryError(ValueError):
    """A request that cannot be answered as asked (unknown perspective, material or year)."""


class EngineError(Exception):
    """The query engine cannot run as asked (PySpark or Java missing, unknown engine, a lake
    that is not one)."""
