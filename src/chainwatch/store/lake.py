"""The lake: the canonical tables as Parquet files that Spark and DuckDB read directly.

Layout (``chainwatch export lake DIR``)::

    DIR/_chainwatch_lake.json                 manifest: schema version, tables, rows, vintages
    DIR/trade_flow/year=2023/hs_chapter=26/*.parquet
    DIR/production/year=2023/*.parquet        (every table with a ``year`` column, by year)
    DIR/country/data_0.parquet                (the others, one file each)

Partition columns are typed in the manifest (``spark_schema``, DDL per table) so that an HS
chapter "01" stays a string and a year a SMALLINT on every engine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chainwatch import schema
from chainwatch.errors import EngineError
from chainwatch.store.duckdb_store import SCHEMA_VERSION, Store

MANIFEST = "_chainwatch_lake.json"
TRADE_TABLE = "trade_flow"
SPARK_TYPES = {
    "string": "STRING",
    "int16": "SMALLINT",
    "int32": "INT",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
}
DUCKDB_TYPES = {"SMALLINT": "SMALLINT", "STRING": "VARCHAR"}


def partition_columns(name: str) -> dict[str, str]:
    """Partition columns of a lake table with their Spark types (empty: not partitioned)."""
    columns = schema.table(name).column_names
    if name == TRADE_TABLE:
        return {"year": "SMALLINT", "hs_chapter": "STRING"}
    return {"year": "SMALLINT"} if "year" in columns else {}


def spark_ddl(name: str) -> str:
    """The table's columns as a Spark DDL string, partition columns included."""
    spec = schema.table(name)
    parts = [f"{c.name} {SPARK_TYPES[c.type]}" for c in spec.columns]
    if name == TRADE_TABLE:
        parts.append("hs_chapter STRING")
    return ", ".join(parts)


def write_lake(store: Store, directory: Path) -> dict[str, int]:
    """Write every canonical table of ``store`` under ``directory``; rows per table."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()) and not (directory / MANIFEST).exists():
        raise EngineError(f"{directory}: not empty and not a chainwatch lake; choose a new one")
    rows: dict[str, int] = {}
    with store.connect() as con:
        con.execute("SET enable_progress_bar = false")
        for name in schema.tables():
            target = directory / name
            if target.exists():
                _remove_tree(target)
            partitions = list(partition_columns(name))
            select = f"SELECT * FROM {name}"
            if name == TRADE_TABLE:
                select = f"SELECT *, substr(hs6, 1, 2) AS hs_chapter FROM {name}"
            count = int(con.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            rows[name] = count
            if count == 0 or not partitions:
                target.mkdir(parents=True)
                con.execute(
                    f"COPY ({select}) TO {sql_path(target / 'data_0.parquet')} "
                    "(FORMAT parquet, COMPRESSION zstd)"
                )
                continue
            con.execute(
                f"COPY ({select}) TO {sql_path(target)} (FORMAT parquet, COMPRESSION zstd, "
                f"PARTITION_BY ({', '.join(partitions)}))"
            )
        vintages = [
            f"{row[0]} {row[1]}"
            for row in con.execute("SELECT publisher, version FROM source ORDER BY 1").fetchall()
        ]
    manifest = {
        "format": "chainwatch-lake",
        "schema_version": SCHEMA_VERSION,
        "tables": rows,
        "partitions": {name: partition_columns(name) for name in schema.tables()},
        "spark_schema": {name: spark_ddl(name) for name in schema.tables()},
        "sources": vintages,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return rows


def sql_path(path: Path | str) -> str:
    """A file path as an SQL string literal (quotes doubled)."""
    return "'" + str(path).replace("'", "''") + "'"


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)


def read_lake_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise EngineError(
            f"{directory}: not a chainwatch lake (no {MANIFEST}); write one with "
            "`chainwatch export lake DIR`"
        ) from error
    except (OSError, ValueError) as error:
        raise EngineError(f"{path}: unreadable lake manifest ({error})") from error
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise EngineError(
            f"{directory}: lake of schema version {manifest.get('schema_version')}, "
            f"this chainwatch reads version {SCHEMA_VERSION}"
        )
    return manifest


def lake_tables(directory: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """Table -> (glob of its Parquet files, partition column -> DuckDB type)."""
    manifest = read_lake_manifest(directory)
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for name in manifest["tables"]:
        partitions = manifest.get("partitions", {}).get(name, {})
        types = {key: DUCKDB_TYPES.get(value, value) for key, value in partitions.items()}
        pattern = directory / name / ("**/*.parquet" if partitions else "*.parquet")
        if not (directory / name).is_dir():
            raise EngineError(f"{directory}: lake table {name} is missing")
        found[name] = (str(pattern), types)
    return found
