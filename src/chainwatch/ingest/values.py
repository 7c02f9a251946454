"""Cell parsers shared by the readers: a bad cell raises InputError naming file, row, column."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_FILE, SOURCE_ROW

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_year(file: Path | str, line: int, text: str | None, column: str = "year") -> int:
    """A four-digit year."""
    value = (text or "").strip()
    if not re.fullmatch(r"[0-9]{4}", value):
        raise InputError(file, f"not a year: {shown(value)}", line, column)
    return int(value)


def parse_number(
    file: Path | str,
    line: int,
    text: str | None,
    column: str,
    missing: Collection[str] = ("",),
    noun: str = "number",
) -> float | None:
    """A finite number written in ASCII decimal notation (``-1.5``, ``2e3``), or None when the
    cell holds one of the ``missing`` markers; NaN, infinity and overflow (``1e400``) are
    errors."""
    value = (text or "").strip()
    if value in missing:
        return None
    number = float(value) if _NUMBER.fullmatch(value) else math.nan
    if not math.isfinite(number):
        raise InputError(file, f"not a {noun}: {shown(value)}", line, column)
    return number


def shown(value: object, limit: int = 80) -> str:
    """``repr`` of a value quoted back in an error, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_count(
    file: Path | str,
    line: int,
    text: str | None,
    column: str,
    missing: Collection[str] = ("",),
    maximum: int = 32767,
) -> int | None:
    """A whole number from 0 to ``maximum`` (the canonical int16 by default), or None."""
    number = parse_number(file, line, text, column, missing)
    if number is None:
        return None
    if not number.is_integer():
        raise InputError(file, f"not a whole number: {shown((text or '').strip())}", line, column)
    if not 0 <= number <= maximum:
        raise InputError(file, f"{int(number)} is outside 0-{maximum}", line, column)
    return int(number)


def rows_to_table(
    file: Path | str,
    rows: Sequence[Mapping[str, object]],
    schema: pa.Schema,
    labels: Mapping[str, str] | None = None,
) -> pa.Table:
    """Rows as an Arrow table of ``schema``; a value the column type cannot hold (an integer
    past int16, a number where text is due) is an InputError naming its row and column."""
    try:
        return pa.Table.from_pylist(list(rows), schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        pass
    for row in rows:
        for field in schema:
            value = row.get(field.name)
            try:
                pa.array([value], type=field.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
                line = row.get(SOURCE_ROW)
                where = row.get(SOURCE_FILE) or file
                label = (labels or {}).get(field.name, field.name)
                message = f"value {shown(value)} does not fit the column type {field.type}"
                raise InputError(str(where), message, line if isinstance(line, int) else None,
                                 label) from None  # fmt: skip
    raise InputError(file, "rows do not fit the canonical table")
