"""World Bank Commodity Price Data ("Pink Sheet"), monthly prices in nominal US dollars.

Accepted inputs:

* the publisher's workbook ``CMO-Historical-Data-Monthly.xlsx``, sheet "Monthly Prices": title
  rows ("World Bank Commodity Price Data (The Pink Sheet)", ..., "Updated on December 02,
  2025"), then a row of series names, a row of units ("($/mt)") and a row of series codes,
  then one row per month with the month in column A ("1960M01") and ``…`` where a series
  has no price;
* the same sheet converted to CSV (``month`` column "1960-01" plus one column per series code,
  missing prices left empty) with its companion ``pink_sheet_series_metadata.csv``
  (``code,name,unit``) in the same folder.

* the sheet "Monthly Prices" saved as CSV from a spreadsheet program (the workbook layout:
  title rows, names, units, codes, ``1960M01`` rows), under any file name.

The form is told by content, not by name: a zip container (``PK``) is a workbook, a CSV with a
``month`` column is the conversion, a CSV with ``1960M01`` rows is the saved sheet. Missing
prices are dropped, not loaded as rows; a CSV row with fewer fields than the series row (a row
cut short) is an error. The release date (``vintage``) is read from the "Updated on" line of the
workbook or of the saved sheet; the conversion does not carry it: pass ``vintage``, or it is
known (the bundled CSV conversion comes from the release of 2 December 2025), or it is stated
as the last month the file holds ("data to 2025-11").
"""

from __future__ import annotations

import datetime
import math
import re
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
from openpyxl.utils import get_column_letter

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, ParsedSource, Replacement, SourceRecord
from chainwatch.ingest.checks import check_not_empty, check_required_columns
from chainwatch.ingest.files import (
    ARCHIVE_ERRORS,
    TextInput,
    binary_handle,
    check_archive,
    check_header,
    check_input_path,
    csv_dicts,
    csv_rows,
    describe_archive_error,
)
from chainwatch.ingest.values import parse_number, shown

SOURCE = "World Bank Pink Sheet"
SHEET = "Monthly Prices"
METADATA_FILE = "pink_sheet_series_metadata.csv"
MISSING_MARKERS = frozenset({"", "…", "..."})
BUNDLED_CSV = "pink_sheet_monthly_prices_nominal_usd_1960_2025.csv"
BUNDLED_CSV_VINTAGE = "2025-12-02"
"""Release date of the workbook the bundled CSV was converted from (shared/data/SOURCES.md)."""
_SERIES_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_UPDATED = re.compile(r"Updated on\s+([A-Za-z]+\s+\d{1,2},\s*\d{4})", re.IGNORECASE)
_WORKBOOK_MONTH = re.compile(r"(\d{4})M(\d{2})")
_CSV_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Series:
    """One price series as the file declares it."""

    code: str
    name: str
    unit: str
    row: int
    """Row of the file that declares the series (its code)."""


@dataclass
class PriceGrid:
    """The wide month x series grid of either input form, before conversion."""

    display: str
    """The file as named in errors (``workbook.xlsx:Monthly Prices`` for the workbook)."""
    month_label: str
    month_column: int
    month_pattern: re.Pattern[str]
    series: list[Series] = field(default_factory=list)
    columns: list[int] = field(default_factory=list)
    """0-based position of each series' column in a data row."""
    rows: list[tuple[int, Sequence[object]]] = field(default_factory=list)
    """(row number, cells) of every data row."""
    vintage: str | None = None
    check_width: bool = False
    """A CSV: every month row must reach the last series column (else it was cut short)."""
    width: int = 0

    def add(self, series: Series, position: int, column: str) -> None:
        _check_code(self.display, series.code, series.row, column)
        if any(known.code == series.code for known in self.series):
            raise InputError(
                self.display, f"series {series.code!r} appears twice", series.row, column
            )
        self.series.append(series)
        self.columns.append(position)


def parse_pink_sheet(path: Path, vintage: str | None = None) -> ParsedSource:
    """Parse Pink Sheet monthly prices (workbook or CSV) into ``price_series`` and ``price``."""
    check_input_path(path)
    with binary_handle(path, str(path)) as handle:
        workbook = handle.read(4) == b"PK\x03\x04" or path.suffix.lower() in (".xlsx", ".xlsm")
    grid = read_workbook(path) if workbook else read_csv(path)
    columns, months = _price_columns(grid)
    release = vintage or grid.vintage or _data_to(columns["month"])
    columns["vintage"] = [release] * len(columns["value"])
    prices = pa.table(columns, schema=_schema("price"))
    held = {"source": [SOURCE], "vintage": [release]}
    return ParsedSource(
        file=path,
        source=_source_record(grid, release, months, prices.num_rows),
        tables={"price_series": _series_table(grid), "price": prices},
        replacements=[Replacement("price", held)],
        column_labels={"month": grid.month_label},
        upserts={"price_series"},
        held={"price": held},
    )


def _data_to(months: list[datetime.date]) -> str:
    """The vintage of a conversion that does not state its release: its last month."""
    return f"data to {max(months):%Y-%m}" if months else "data to unknown"


def read_csv(path: Path) -> PriceGrid:
    """A CSV in either layout: the conversion (``month`` + one column per code, with its series
    list beside it) or the sheet saved as CSV (title rows, names, units, codes, months)."""
    records = list(csv_rows(TextInput.file(path)))
    if not records:
        raise InputError(path, "the file is empty: expected a header row", 1)
    header = [name.strip() for name in records[0][1]]
    if "month" in header:
        return _converted_grid(path, records)
    if any(cells and _WORKBOOK_MONTH.fullmatch(cells[0].strip()) for _, cells in records):
        sheet: list[tuple[object, ...]] = [() for _ in range(records[-1][0])]
        for line, cells in records:
            sheet[line - 1] = tuple(cells)
        grid = _sheet_grid(str(path), sheet)
        grid.check_width = True
        return grid
    check_required_columns(path, records[0][1], ["month"])
    raise AssertionError("unreachable: the month column is missing")


def _converted_grid(path: Path, records: list[tuple[int, list[str]]]) -> PriceGrid:
    header = check_header(str(path), records[0][1], ["month"])
    rows: list[tuple[int, Sequence[object]]] = records[1:]  # type: ignore[assignment]
    month = header.index("month")
    metadata = _read_metadata(path.with_name(METADATA_FILE))
    grid = PriceGrid(str(path), "month", month, _CSV_MONTH, rows=rows, check_width=True)
    for position, code in enumerate(header):
        if position == month:
            continue
        if code in metadata:
            name, unit = metadata[code]
        elif _SERIES_CODE.fullmatch(code):
            message = f"series {code!r} is not listed in {METADATA_FILE}"
            raise InputError(path, message, 1, code)
        else:
            name = unit = ""
        grid.add(Series(code, name, unit, 1), position, code or f"column {position + 1}")
    grid.width = len(header)
    grid.vintage = BUNDLED_CSV_VINTAGE if path.name == BUNDLED_CSV else None
    return grid


def _read_metadata(path: Path) -> dict[str, tuple[str, str]]:
    """Series code -> (name, unit) from the companion ``code,name,unit`` file."""
    if not path.exists():
        raise InputError(path, "the series list is missing beside the price file")
    _, records = csv_dicts(TextInput.file(path), ["code", "name", "unit"])
    listed: dict[str, tuple[str, str]] = {}
    for line, record in records:
        code = record["code"].strip()
        _check_code(str(path), code, line, "code")
        if code in listed:
            raise InputError(path, f"series {code!r} is listed twice", line, "code")
        listed[code] = (record["name"].strip(), _unit(record["unit"]))
    return listed


def read_workbook(path: Path) -> PriceGrid:
    """The sheet "Monthly Prices" of the publisher's workbook."""
    return _sheet_grid(f"{path}:{SHEET}", _sheet_rows(path))


def _sheet_grid(display: str, cells: list[tuple[object, ...]]) -> PriceGrid:
    """The grid of the sheet layout (workbook, or the sheet saved as CSV)."""
    first = next(
        (i for i, row in enumerate(cells) if row and _WORKBOOK_MONTH.fullmatch(_text(row[0]))),
        None,
    )
    if first is None:
        raise InputError(display, "no month rows (column A like 1960M01) found")
    if first < 3:
        raise InputError(
            display,
            "expected rows of series names, units and codes above the first month",
            first + 1,
            "A",
        )
    names, units, codes = cells[first - 3], cells[first - 2], cells[first - 1]
    grid = PriceGrid(display, "A", 0, _WORKBOOK_MONTH, vintage=_release_date(cells[: first - 3]))
    for position in range(1, len(codes)):
        code = _text(codes[position])
        if code:
            name = _text(names[position]) if position < len(names) else ""
            unit = _unit(units[position]) if position < len(units) else ""
            grid.add(Series(code, name, unit, first), position, get_column_letter(position + 1))
    grid.width = max(grid.columns, default=0) + 1
    grid.rows = [(line, row) for line, row in enumerate(cells[first:], start=first + 1) if row]
    return grid


def _sheet_rows(path: Path) -> list[tuple[object, ...]]:
    """All rows of the price sheet, index = sheet row - 1 (empty rows included)."""
    try:
        with zipfile.ZipFile(path) as archive:
            check_archive(archive, str(path))
    except (*ARCHIVE_ERRORS, OSError) as error:
        reason = describe_archive_error(error)
        raise InputError(path, f"not a readable xlsx workbook: {reason}") from None
    try:
        with warnings.catch_warnings(), binary_handle(path, str(path)) as handle:
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
            try:
                if SHEET not in workbook.sheetnames:
                    found = ", ".join(workbook.sheetnames)
                    raise InputError(path, f"no sheet {SHEET!r} in the workbook (found: {found})")
                return [tuple(row) for row in workbook[SHEET].iter_rows(values_only=True)]
            finally:
                workbook.close()
    except InputError:
        raise
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(path, f"not a readable xlsx workbook: {reason}") from None


def _release_date(title_rows: list[tuple[object, ...]]) -> str | None:
    """``Updated on December 02, 2025`` in the title rows -> ``2025-12-02``."""
    for row in title_rows:
        for cell in row:
            match = _UPDATED.search(_text(cell))
            if match is None:
                continue
            written = re.sub(r"\s+", " ", match.group(1).replace(",", ", "))
            try:
                return datetime.datetime.strptime(written, "%B %d, %Y").date().isoformat()
            except ValueError:  # not an English month name or not a real day
                return None
    return None


def _price_columns(grid: PriceGrid) -> tuple[dict[str, list[Any]], int]:
    """The ``price`` columns (without the vintage), and the number of months in the file."""
    months, codes, values, lines = [], [], [], []
    seen: dict[datetime.date, int] = {}
    for line, row in grid.rows:
        if grid.check_width and len(row) < grid.width:
            raise InputError(grid.display, f"the row has {len(row)} fields but the series row "
                             f"has {grid.width} (a row cut short?)", line)  # fmt: skip
        cells = [row[position] if position < len(row) else None for position in grid.columns]
        if all(_text(cell) in MISSING_MARKERS for cell in cells):
            continue  # a blank or note row: no prices
        month = _month(grid, line, row[grid.month_column] if row else None)
        if month in seen:
            message = f"month {month:%Y-%m} appears twice; first on row {seen[month]}"
            raise InputError(grid.display, message, line, grid.month_label)
        seen[month] = line
        for series, cell in zip(grid.series, cells, strict=True):
            value = _price(grid.display, line, series.code, cell)
            if value is not None:
                months.append(month)
                codes.append(series.code)
                values.append(value)
                lines.append(line)
    check_not_empty(Path(grid.display), len(seen))
    columns: dict[str, list[Any]] = {
        "month": months,
        "series": codes,
        "value": values,
        "source": [SOURCE] * len(values),
        SOURCE_ROW: lines,
    }
    return columns, len(seen)


def _series_table(grid: PriceGrid) -> pa.Table:
    rows = [
        {"series": s.code, "name": s.name, "unit": s.unit, "source": SOURCE, SOURCE_ROW: s.row}
        for s in grid.series
    ]
    return pa.Table.from_pylist(rows, schema=_schema("price_series"))


def _schema(table: str) -> pa.Schema:
    return schema.arrow_schema(table).append(pa.field(SOURCE_ROW, pa.int64()))


def _month(grid: PriceGrid, line: int, cell: object) -> datetime.date:
    text = _text(cell)
    match = grid.month_pattern.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        example = "1960M01" if grid.month_pattern is _WORKBOOK_MONTH else "1960-01"
        raise InputError(
            grid.display, f"not a month like {example}: {shown(text)}", line, grid.month_label
        )
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def _price(display: str, line: int, code: str, cell: object) -> float | None:
    """A finite price, or None for a missing-price marker (``…`` or an empty cell)."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        if not math.isfinite(float(cell)):
            raise InputError(display, f"not a price: {cell!r}", line, code)
        return float(cell)
    return parse_number(display, line, _text(cell), code, missing=MISSING_MARKERS, noun="price")


def _check_code(display: str, code: str, line: int, column: str) -> None:
    if not _SERIES_CODE.fullmatch(code):
        raise InputError(display, f"not a series code: {shown(code)}", line, column)


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _unit(cell: object) -> str:
    """``($/mt)`` -> ``$/mt``."""
    text = _text(cell)
    return text[1:-1].strip() if text.startswith("(") and text.endswith(")") else text


def _source_record(grid: PriceGrid, vintage: str, months: int, rows: int) -> SourceRecord:
    cells = len(grid.series) * months
    return SourceRecord(
        source_id=f"worldbank-pink-sheet-{vintage.replace(' ', '-')}",
        title="World Bank Commodity Price Data (The Pink Sheet), monthly prices",
        publisher="World Bank",
        version=vintage,
        licence="CC BY 4.0",
        licence_class="A",
        citation="World Bank Commodity Price Data (The Pink Sheet), "
        "www.worldbank.org/en/research/commodity-markets",
        obtained_from=grid.display,
        cut=f"{cells - rows} of {cells} month x series cells have no price and were dropped",
    )
