"""Cell parsers shared by the readers: a bad cell raises InputError naming file, row, column."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from pathlib import Path

from chainwatch.errors import InputError


def parse_year(file: Path | str, line: int, text: str | None, column: str = "year") -> int:
    """A four-digit year."""
    value = (text or "").strip()
    if not re.fullmatch(r"\d{4}", value):
        raise InputError(file, f"not a year: {value!r}", line, column)
    return int(value)


def parse_number(
    file: Path | str,
    line: int,
    text: str | None,
    column: str,
    missing: Collection[str] = ("",),
    noun: str = "number",
) -> float | None:
    """A finite number, or None when the cell holds one of the ``missing`` markers."""
    value = (text or "").strip()
    if value in missing:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise InputError(file, f"not a {noun}: {value!r}", line, column)
    return number
