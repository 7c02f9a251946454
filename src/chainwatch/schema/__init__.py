"""The canonical tables, declared once in ``tables.csv``.

DDL (:func:`create_table_sql`), Arrow schemas (:func:`arrow_schema`), validation rules
(:mod:`chainwatch.ingest.checks`) and the schema documentation (:func:`render_markdown`) are all
derived from that one file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pyarrow as pa

YEAR_RANGE = (1900, 2100)
"""Years a column with the check ``year`` may hold, and the years any ``date`` column may fall
in (the API accepts the same range)."""
_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
}
_SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int16": "SMALLINT",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
}


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    type: str
    unit: str
    required: bool
    key: bool
    check: str
    description: str

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.type]

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES[self.type]

    @property
    def allowed_values(self) -> tuple[str, ...]:
        """Values an ``enum:a|b|c`` check allows; empty when the column is not an enum."""
        if self.check.startswith("enum:"):
            return tuple(self.check.removeprefix("enum:").split("|"))
        return ()


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def key(self) -> list[str]:
        return [column.name for column in self.columns if column.key]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name} has no column {name}")


@cache
def tables() -> dict[str, Table]:
    """All canonical tables, in declaration order."""
    text = resources.files(__package__).joinpath("tables.csv").read_text(encoding="utf-8")
    grouped: dict[str, list[Column]] = {}
    for record in csv.DictReader(text.splitlines()):
        column = Column(
            table=record["table"],
            name=record["column"],
            type=record["type"],
            unit=record["unit"],
            required=record["required"] == "true",
            key=record["key"] == "true",
            check=record["check"],
            description=record["description"],
        )
        if column.type not in _ARROW_TYPES:
            raise ValueError(f"tables.csv: unknown type {column.type!r} for {column.name}")
        grouped.setdefault(column.table, []).append(column)
    return {name: Table(name, tuple(columns)) for name, columns in grouped.items()}


def table(name: str) -> Table:
    return tables()[name]


def arrow_schema(name: str) -> pa.Schema:
    return pa.schema(
        [pa.field(c.name, c.arrow_type, nullable=not c.required) for c in table(name).columns]
    )


def create_table_sql(name: str, primary_key: bool = False) -> str:
    """``CREATE TABLE`` statement for one canonical table (DuckDB and PostgreSQL dialect).

    The analytic store declares no primary key: keys are checked on load
    (``check_unique_key``), which lets key columns be null and keeps bulk inserts fast.
    """
    spec = table(name)
    lines = [f"    {c.name} {c.sql_type}{' NOT NULL' if c.required else ''}" for c in spec.columns]
    if primary_key and spec.key:
        lines.append(f"    PRIMARY KEY ({', '.join(spec.key)})")
    return f"CREATE TABLE IF NOT EXISTS {name} (\n" + ",\n".join(lines) + "\n)"


def render_markdown() -> str:
    """The schema reference (docs/schema.md) generated from tables.csv."""
    out = [
        "# Canonical schema",
        "",
        "Generated from `src/chainwatch/schema/tables.csv` by `chainwatch schema --markdown`;"
        " do not edit by hand (a test compares the two).",
        "",
        "Every reader applies the row rules these columns declare: `required` values present,"
        " `float64` values finite (no NaN or infinity), `check` `year` a year from"
        f" {YEAR_RANGE[0]} to {YEAR_RANGE[1]} and every `date` within those years, code"
        " formats, `enum` values, `nonnegative` and `fraction` bounds, known codes"
        " (`iso3`, `material`, `group`) and unique keys.",
        "",
    ]
    for spec in tables().values():
        out += [
            f"## {spec.name}",
            "",
            "| column | type | unit | required | key | check | description |",
        ]
        out.append("|---|---|---|---|---|---|---|")
        for c in spec.columns:
            flags = ("yes" if c.required else "", "yes" if c.key else "")
            out.append(
                f"| {c.name} | {c.type} | {c.unit} | {flags[0]} | {flags[1]} | {c.check} "
                f"| {c.description} |"
            )
        out.append("")
    return "\n".join(out)
