"""Loading parsed sources into the store: stage, validate, replace, insert (one transaction)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from chainwatch import schema
from chainwatch.ingest.base import SOURCE_FILE, SOURCE_ROW, ParsedSource, Replacement
from chainwatch.ingest.checks import Staged, check_castable, validate_staged


@dataclass(frozen=True)
class LoadResult:
    source_id: str
    rows: dict[str, int]


def _stage(con: Any, table: str, data: pa.Table | str, parsed: ParsedSource) -> str:
    """Put parsed rows in a temporary table with the canonical column types; return its name.

    A parser that staged its rows in DuckDB itself (``data`` is a table name) hands over a
    table that already has the canonical columns and types: it is used as is. A value the
    canonical type cannot hold (an int16 past 32767, a date that does not exist) is an
    InputError naming its row, before any cast could fail.
    """
    if isinstance(data, str):
        return data
    spec = schema.table(table)
    staged = f"staged_{table}"
    source = f"arrow_{table}"
    con.register(source, data)
    present = set(con.execute(f"SELECT * FROM {source} LIMIT 0").fetchnumpy().keys())
    context = Staged(con, table, source, parsed.file, parsed.column_labels,
                     SOURCE_FILE in present, parsed.file_names)  # fmt: skip
    check_castable(context, [c for c in spec.columns if c.name in present])
    selects = [
        f"CAST({c.name} AS {c.sql_type}) AS {c.name}"
        if c.name in present
        else f"CAST(NULL AS {c.sql_type}) AS {c.name}"
        for c in spec.columns
    ]
    if SOURCE_FILE in present:
        selects.append(SOURCE_FILE)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {', '.join(selects)}, "
        f"{SOURCE_ROW} FROM {source}"
    )
    con.unregister(source)
    return staged


def _merge(con: Any, table: str, staged: str, upsert: bool) -> int:
    columns = ", ".join(schema.table(table).column_names)
    if upsert:
        key = schema.table(table).key
        match = " AND ".join(f"t.{name} IS NOT DISTINCT FROM s.{name}" for name in key)
        con.execute(f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM {staged} s WHERE {match})")
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged}")
    count: int = con.execute(f"SELECT count(*) FROM {staged}").fetchone()[0]
    con.execute(f"DROP TABLE {staged}")
    return count


def load_parsed(
    con: Any, parsed: ParsedSource, progress: Callable[[str], None] | None = None
) -> LoadResult:
    """Validate and load one parsed source into an open store connection.

    Reference tables the source brings (``parsed.upserts``) load first, so the main tables can
    be checked against them. The caller's transaction (``Store.writing``) makes it all-or-nothing.
    """
    declared = list(schema.tables())
    order = sorted(
        parsed.tables, key=lambda name: (name not in parsed.upserts, declared.index(name))
    )
    rows: dict[str, int] = {}
    for table in order:
        staged = _stage(con, table, parsed.tables[table], parsed)
        if progress:
            progress(f"checking and loading {table}")
        validate_staged(con, table, staged, parsed.file, parsed.column_labels, parsed.file_names)
        if table not in parsed.upserts:
            for replacement in parsed.replacements:
                if replacement.table == table:
                    _delete_replaced(con, table, staged, replacement)
        rows[table] = _merge(con, table, staged, upsert=table in parsed.upserts)
    write_source_record(con, source_record(con, parsed, rows))
    return LoadResult(parsed.source.source_id, rows)


PROVENANCE_LIMIT = 2000
"""Characters kept of ``obtained_from`` and ``cut`` when partial loads add to them."""


def source_record(con: Any, parsed: ParsedSource, loaded: dict[str, int]) -> dict[str, object]:
    """The ``source`` row after a load: it describes what the tables now hold.

    ``rows`` counts, for tables the parser names in ``held``, the rows of this source the
    table holds after the load (a BACI file of one year loaded over the full release leaves
    the other years in place); other tables count the rows just loaded. When rows of an
    earlier load remain, the earlier provenance is kept and the new load appended to it.
    """
    held = {
        table: _count_held(con, table, parsed.held[table]) if table in parsed.held else count
        for table, count in loaded.items()
    }
    record = asdict(parsed.source)
    record.update(tables=";".join(sorted(loaded)), rows=sum(held.values()), bundled=False)
    previous = con.execute(
        "SELECT obtained_from, cut, tables FROM source WHERE source_id = ?",
        [parsed.source.source_id],
    ).fetchone()
    partial = any(held[table] > loaded[table] for table in parsed.held if table in loaded)
    if previous is not None and partial:
        earlier_from, earlier_cut, earlier_tables = previous
        added = sum(loaded.values())
        record["obtained_from"] = _joined(earlier_from, f"then {record['obtained_from']}")
        record["cut"] = _joined(
            earlier_cut, f"then {added:,} rows replaced from a later load ({record['cut']})"
        )
        record["tables"] = ";".join(sorted({*earlier_tables.split(";"), *loaded}))
    return record


def _joined(earlier: str, later: str) -> str:
    text = f"{earlier}; {later}"
    return text if len(text) <= PROVENANCE_LIMIT else text[: PROVENANCE_LIMIT - 1] + "…"


def _count_held(con: Any, table: str, where: Mapping[str, Sequence[object]]) -> int:
    clauses = [f"{name} IN ({', '.join('?' for _ in values)})" for name, values in where.items()]
    params = [value for values in where.values() for value in values]
    count: int = con.execute(
        f"SELECT count(*) FROM {table} WHERE {' AND '.join(clauses) or 'true'}", params
    ).fetchone()[0]
    return count


def _delete_replaced(con: Any, table: str, staged: str, replacement: Replacement) -> None:
    clauses: list[str] = []
    params: list[object] = []
    for column, values in replacement.where.items():
        clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
        params.extend(values)
    if replacement.same_as_loaded:
        match = " AND ".join(f"s.{c} = {table}.{c}" for c in replacement.same_as_loaded)
        listed = ", ".join(replacement.same_as_loaded)
        clauses.append(
            f"EXISTS (SELECT 1 FROM (SELECT DISTINCT {listed} FROM {staged}) s WHERE {match})"
        )
    con.execute(f"DELETE FROM {table} WHERE {' AND '.join(clauses)}", params)


def write_source_record(con: Any, record: dict[str, object]) -> None:
    columns = schema.table("source").column_names
    con.execute("DELETE FROM source WHERE source_id = ?", [record["source_id"]])
    con.execute(
        f"INSERT INTO source ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [record[name] for name in columns],
    )
