"""Errors that are the user's to fix: they carry the file, row and column at fault."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

MESSAGE_LIMIT = 600
"""Characters an error line keeps; longer messages (a huge cell quoted back) are cut."""


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` as one printable line: control and format characters (line ends, NUL, terminal
    escapes, bidi overrides) written as escapes, cut to ``limit`` characters."""
    shown = "".join(
        character.encode("unicode_escape").decode("ascii")
        if unicodedata.category(character)[0] == "C"
        else character
        for character in text[: limit * 2]
    )
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


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
        return one_line(f"{where}: {self.message}")


class StoreError(Exception):
    """The store cannot be used as asked (locked by another writer, missing, wrong version)."""


class QueryError(ValueError):
    """A request that cannot be answered as asked (unknown perspective, material or year)."""


class EngineError(Exception):
    """The query engine cannot run as asked (PySpark or Java missing, unknown engine, a lake
    that is not one)."""


class FetchError(Exception):
    """A download that cannot complete as asked: the server answers with an error, cannot be
    reached, the transfer breaks off (the part downloaded is kept, to resume) or the file's
    checksum is not the one expected (the download is deleted; nothing is ingested)."""
