"""Named validators. Each raises :class:`InputError` naming file, row and column.

Row-level checks run as SQL over a staged DuckDB table (one scan each, fast on millions of
rows); the rules come from the schema declaration (``required``, ``key``, ``check``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_FILE, SOURCE_ROW
from chainwatch.ingest.files import check_header
from chainwatch.ingest.values import shown

# check name -> (reference table, reference column) for codes that must already be known
_REFERENCE_CHECKS = {
    "iso3": ("country", "iso3"),
    "material": ("material", "material"),
    "group": ("country_group", "group_id"),
}


def check_required_columns(file: Path, header: Sequence[str], required: Iterable[str]) -> None:
    """Every column the format needs is in the header, and no column name appears twice
    (a reader that looks columns up by name would silently take one of the two)."""
    check_header(str(file), header, list(required))


def check_not_empty(file: Path, rows: int) -> None:
    if rows == 0:
        raise InputError(file, "the file has no data rows")


@dataclass(frozen=True)
class Staged:
    """A staged table under validation and how to name its rows in errors."""

    con: Any
    table: str
    name: str
    file: Path
    labels: dict[str, str]
    has_file_column: bool = False
    file_names: dict[str, str] = field(default_factory=dict)

    def first(self, columns: str, where: str) -> tuple[Any, ...] | None:
        """The first violating row: (line, *columns), its file remembered for ``fail``."""
        file_column = SOURCE_FILE if self.has_file_column else "NULL"
        row: tuple[Any, ...] | None = self.con.execute(
            f"SELECT {SOURCE_ROW}, {file_column}, {columns} FROM {self.name} s WHERE {where} "
            f"ORDER BY {self.order} LIMIT 1"
        ).fetchone()
        return row

    @property
    def order(self) -> str:
        return f"{SOURCE_FILE}, {SOURCE_ROW}" if self.has_file_column else SOURCE_ROW

    def fail(self, hit: tuple[Any, ...], message: str, column: str | None) -> InputError:
        file = self.file_names.get(hit[1], hit[1]) if hit[1] else self.file
        label = None
        if column:
            names = column.split("+")
            labelled = [self.labels[name] for name in names if name in self.labels]
            label = "+".join(labelled or names)
        return InputError(file, message, hit[0], label)


@dataclass(frozen=True)
class RowRule:
    """One row-level rule from the schema: a SQL condition that marks a violating row."""

    column: str
    violation: str
    message: str  # formatted with the offending value


def row_rules(table: str) -> list[RowRule]:
    """The row-level rules the schema declares: required, finite numbers, years and dates in
    :data:`schema.YEAR_RANGE`, code formats, enums, bounds."""
    patterns = {"hs6_format": "^[0-9]{6}$", "iso3_format": "^[A-Z0-9]{3}$"}
    first, last = schema.YEAR_RANGE
    rules: list[RowRule] = []
    for column in schema.table(table).columns:
        name = column.name
        if column.required:
            rules.append(RowRule(name, f"{name} IS NULL", "value is missing"))
        if column.type == "float64":
            rules.append(RowRule(name, f"NOT isfinite({name})", "not a finite number: {}"))
        if column.check == "year":
            rules.append(RowRule(name, f"{name} NOT BETWEEN {first} AND {last}",
                                 f"year {{}} is outside {first}-{last}"))  # fmt: skip
        if column.type == "date":
            rules.append(RowRule(name, f"year({name}) NOT BETWEEN {first} AND {last}",
                                 f"date {{}} is outside the years {first}-{last}"))  # fmt: skip
        if column.check in patterns:
            pattern = patterns[column.check]
            rules.append(RowRule(name, f"NOT regexp_full_match({name}, '{pattern}')",
                                 "malformed code {!r}"))  # fmt: skip
        if column.allowed_values:
            listed = ", ".join(f"'{value}'" for value in column.allowed_values)
            allowed = ", ".join(column.allowed_values)
            rules.append(RowRule(name, f"{name} NOT IN ({listed})",
                                 "value {!r} is not one of " + allowed))  # fmt: skip
        if column.check == "nonnegative":
            rules.append(RowRule(name, f"{name} < 0", "value {} must be zero or more"))
        if column.check == "fraction":
            rules.append(RowRule(name, f"{name} < 0 OR {name} > 1",
                                 "value {} must be between 0 and 1"))  # fmt: skip
    return rules


def check_row_rules(staged: Staged) -> None:
    """Every row-level rule in one scan; the first violating row (in file order) raises."""
    rules = row_rules(staged.table)
    if not rules:
        return
    flags = ", ".join(f"coalesce({rule.violation}, false)" for rule in rules)
    values = ", ".join(rule.column for rule in rules)
    hit = staged.first(f"{flags}, {values}", " OR ".join(f"({r.violation})" for r in rules))
    if hit is None:
        return
    flagged, offending = hit[2 : 2 + len(rules)], hit[2 + len(rules) :]
    for rule, is_violation, value in zip(rules, flagged, offending, strict=True):
        if is_violation:
            raise staged.fail(hit, rule.message.format(value), rule.column)


def check_castable(staged: Staged, columns: Sequence[schema.Column]) -> None:
    """Every value converts to its canonical column type (run on the parsed rows before they
    are cast): an int16 past 32767 or a date that does not exist is an error, not a crash."""
    failing = [
        (column, f"{column.name} IS NOT NULL AND TRY_CAST({column.name} AS {column.sql_type}) "
                 "IS NULL")
        for column in columns
    ]  # fmt: skip
    if not failing:
        return
    flags = ", ".join(f"coalesce({condition}, false)" for _, condition in failing)
    values = ", ".join(f"CAST({column.name} AS VARCHAR)" for column, _ in failing)
    hit = staged.first(f"{flags}, {values}", " OR ".join(f"({c})" for _, c in failing))
    if hit is None:
        return
    flagged, offending = hit[2 : 2 + len(failing)], hit[2 + len(failing) :]
    for (column, _), is_violation, value in zip(failing, flagged, offending, strict=True):
        if is_violation:
            message = f"{shown(value)} is not a valid {column.type} value"
            raise staged.fail(hit, message, column.name)


def check_known_codes(staged: Staged) -> None:
    """Codes (countries, materials, groups, HS6) must be known to the store's reference tables."""
    spec = schema.table(staged.table)
    for column in spec.columns:
        reference = _REFERENCE_CHECKS.get(column.check)
        if reference is None:
            continue
        ref_table, ref_column = reference
        hit = staged.first(
            column.name,
            f"{column.name} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {ref_table} r WHERE r.{ref_column} = s.{column.name})",
        )
        if hit:
            raise staged.fail(hit, f"unknown {ref_table} code {hit[2]!r}", column.name)
    if {"hs6", "hs_revision"} <= set(spec.column_names) and staged.table != "product":
        hit = staged.first(
            "hs6, hs_revision",
            "NOT EXISTS (SELECT 1 FROM product p "
            "WHERE p.hs6 = s.hs6 AND p.hs_revision = s.hs_revision)",
        )
        if hit:
            raise staged.fail(hit, f"unknown {hit[3]} product code {hit[2]!r}", "hs6")


def check_unique_key(staged: Staged) -> None:
    """No two rows share the table's key (grouped on a 64-bit hash of the key, then confirmed)."""
    key = schema.table(staged.table).key
    if not key:
        return
    columns = ", ".join(key)
    candidates = staged.con.execute(
        f"SELECT hash({columns}) AS key_hash FROM {staged.name} "
        "GROUP BY key_hash HAVING count(*) > 1"
    ).fetchall()
    if not candidates:
        return
    duplicate = staged.con.execute(
        f"SELECT {columns} FROM {staged.name} WHERE hash({columns}) IN (SELECT unnest(?)) "
        f"GROUP BY {columns} HAVING count(*) > 1 LIMIT 1",
        [[row[0] for row in candidates]],
    ).fetchone()
    if duplicate is None:
        return  # hash collisions only
    file_column = SOURCE_FILE if staged.has_file_column else "NULL"
    match = " AND ".join(f"{name} IS NOT DISTINCT FROM ?" for name in key)
    rows = staged.con.execute(
        f"SELECT {SOURCE_ROW}, {file_column} FROM {staged.name} WHERE {match} "
        f"ORDER BY {staged.order}",
        list(duplicate),
    ).fetchall()
    values = ", ".join(f"{name}={value}" for name, value in zip(key, duplicate, strict=True))
    elsewhere = f" of {rows[0][1]}" if rows[0][1] and rows[0][1] != rows[-1][1] else ""
    message = f"duplicate key ({values}); first seen on row {rows[0][0]}{elsewhere}"
    raise staged.fail(rows[-1], message, "+".join(key))


CHECKS = (check_row_rules, check_known_codes, check_unique_key)


def validate_staged(
    con: Any,
    table: str,
    staged: str,
    file: Path,
    labels: dict[str, str],
    file_names: dict[str, str] | None = None,
) -> None:
    """Run every named check on a staged table; the first failure raises."""
    columns = con.execute(f"SELECT * FROM {staged} LIMIT 0").fetchnumpy().keys()
    context = Staged(con, table, staged, file, labels, SOURCE_FILE in columns, file_names or {})
    rows = con.execute(f"SELECT count(*) FROM {staged}").fetchone()[0]
    check_not_empty(file, rows)
    for check in CHECKS:
        check(context)
