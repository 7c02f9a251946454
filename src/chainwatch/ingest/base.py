"""What every parser returns: canonical tables plus the record of where they came from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

SOURCE_ROW = "source_row"
"""Column every parsed table carries: the 1-based line of the file the row came from."""
SOURCE_FILE = "source_file"
"""Optional column naming the member file, for sources spread over several files."""


@dataclass(frozen=True)
class SourceRecord:
    """Provenance of one loaded data set (a row of the ``source`` table)."""

    source_id: str
    title: str
    publisher: str
    version: str
    licence: str
    licence_class: str
    citation: str
    obtained_from: str
    cut: str


@dataclass(frozen=True)
class Replacement:
    """Which stored rows a load replaces.

    Rows of ``table`` whose columns take the listed values (``where``) and, when
    ``same_as_loaded`` names columns, whose values in those columns occur together in the rows
    being loaded. A BACI file replaces the stored flows of the same source and HS revision for
    the (year, HS6) pairs it contains: a full release replaces its years, a file cut to a few
    products replaces only those products.
    """

    table: str
    where: Mapping[str, Sequence[object]]
    same_as_loaded: tuple[str, ...] = ()


@dataclass
class ParsedSource:
    """Canonical tables parsed from one file, each with a ``source_row`` column.

    ``tables`` maps a canonical table name to an Arrow table, or to the name of a DuckDB
    temporary table the parser filled (large files are parsed inside DuckDB).
    ``column_labels`` maps canonical column names to the file's own column names, so an error
    names the column as the user sees it in the file.
    """

    file: Path
    source: SourceRecord
    tables: dict[str, pa.Table | str]
    replacements: list[Replacement] = field(default_factory=list)
    column_labels: dict[str, str] = field(default_factory=dict)
    upserts: set[str] = field(default_factory=set)
    """Tables (reference tables such as ``product``) whose rows replace rows with the same key."""
    file_names: dict[str, str] = field(default_factory=dict)
    """How errors name a ``source_file`` value (an extracted zip member: ``a.zip:m.csv``)."""
    held: dict[str, Mapping[str, Sequence[object]]] = field(default_factory=dict)
    """Per table, the column values that mark this source's rows in the store (BACI: source,
    HS revision and vintage). After a load that replaced only part of them (a file of one
    year over a full release), the source record counts the rows the table really holds."""
