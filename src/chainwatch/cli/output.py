"""Table output for the CLI: Rich table, CSV, JSON or Parquet."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 140)
errors = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def emit(frame: pd.DataFrame, output_format: Format, out: Path | None, title: str = "") -> None:
    """Write ``frame`` in the chosen format to ``out`` or standard output."""
    if output_format is Format.parquet:
        if out is None:
            raise ValueError("--format parquet needs --out FILE")
        frame.to_parquet(out, index=False)
        return
    if output_format is Format.csv:
        text = frame.to_csv(index=False)
    elif output_format is Format.json:
        text = json.dumps(json.loads(frame.to_json(orient="records")), indent=2)
    else:
        if out is None:
            console.print(rich_table(frame, title))
            return
        text = frame.to_string(index=False)
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text, encoding="utf-8")


def rich_table(frame: pd.DataFrame, title: str = "") -> Table:
    table = Table(title=title or None, show_lines=False)
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(
            str(column),
            justify="right" if numeric else "left",
            no_wrap=str(column) in ("metric", "material", "stage", "riskiest_stage"),
        )
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(value) for value in row))
    return table


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)
