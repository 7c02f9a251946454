"""Pink Sheet reader: the CSV conversion with its series list, the publisher's workbook layout."""

from __future__ import annotations

import csv
import datetime
import shutil
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, ParsedSource, Replacement
from chainwatch.ingest.pink_sheet import BUNDLED_CSV, METADATA_FILE, parse_pink_sheet

FIXTURES = Path(__file__).parents[1] / "fixtures" / "pink_sheet"
SAMPLE = FIXTURES / "pink_sheet_monthly_prices_sample.csv"
METADATA = FIXTURES / METADATA_FILE
REAL = Path("/work/shared/data/worldbank_pink_sheet") / BUNDLED_CSV
VINTAGE = "2025-12-02"
SERIES = 71
TITLE_ROWS = [
    "World Bank Commodity Price Data (The Pink Sheet)",
    "Monthly prices in nominal US dollars, 1960 to present",
    "(monthly series are available only in nominal US dollar terms)",
    "Updated on December 02, 2025",
]


def _table(parsed: ParsedSource, name: str) -> pa.Table:
    table = parsed.tables[name]
    assert isinstance(table, pa.Table)
    return table


def _value(table: pa.Table, series: str, month: datetime.date) -> dict[str, object]:
    found = [r for r in table.to_pylist() if (r["series"], r["month"]) == (series, month)]
    assert len(found) == 1
    return found[0]


def _filled_cells(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for row in list(csv.reader(handle))[1:] for cell in row[1:] if cell)


def _copy(tmp_path: Path, name: str = SAMPLE.name, lines: list[str] | None = None) -> Path:
    """The sample (or synthetic ``lines``) under ``name``, with the series list beside it."""
    target = tmp_path / name
    if lines is None:
        shutil.copyfile(SAMPLE, target)
    else:
        target.write_text("".join(lines), encoding="utf-8")
    shutil.copyfile(METADATA, tmp_path / METADATA_FILE)
    return target


def _sample_lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)


def _assert_names(error: InputError, file: Path | str, row: int, column: str | None) -> None:
    text = str(error)
    assert str(file) in text
    assert f"row {row}" in text
    assert error.row == row
    if column is not None:
        assert f"column {column!r}" in text
        assert error.column == column


def test_csv_sample_drops_missing_prices() -> None:
    parsed = parse_pink_sheet(SAMPLE, vintage=VINTAGE)
    prices = _table(parsed, "price")
    assert prices.num_rows == _filled_cells(SAMPLE) == 288
    expected = schema.arrow_schema("price").append(pa.field(SOURCE_ROW, pa.int64()))
    assert prices.schema.equals(expected)
    assert prices.column("value").null_count == 0
    assert set(prices.column("vintage").to_pylist()) == {VINTAGE}
    assert set(prices.column("source").to_pylist()) == {"World Bank Pink Sheet"}
    assert len(set(prices.column("month").to_pylist())) == 5


def test_nickel_may_2014_as_in_the_file() -> None:
    # real file line 654: 2014-05, NICKEL column = 19401.08
    prices = _table(parse_pink_sheet(SAMPLE, vintage=VINTAGE), "price")
    nickel = _value(prices, "NICKEL", datetime.date(2014, 5, 1))
    assert nickel["value"] == pytest.approx(19401.08)
    assert nickel[SOURCE_ROW] == 5


def test_series_names_and_units_from_the_companion_file() -> None:
    parsed = parse_pink_sheet(SAMPLE, vintage=VINTAGE)
    series = {r["series"]: r for r in _table(parsed, "price_series").to_pylist()}
    assert len(series) == SERIES
    assert (series["NICKEL"]["name"], series["NICKEL"]["unit"]) == ("Nickel", "$/mt")
    assert (series["IRON_ORE"]["name"], series["IRON_ORE"]["unit"]) == (
        "Iron ore, cfr spot",
        "$/dmtu",
    )
    assert series["GOLD"]["unit"] == "$/troy oz"
    assert parsed.upserts == {"price_series"}
    assert parsed.replacements == [
        Replacement("price", {"source": ["World Bank Pink Sheet"], "vintage": [VINTAGE]})
    ]
    assert parsed.source.source_id == f"worldbank-pink-sheet-{VINTAGE}"
    assert parsed.source.licence_class == "A"


def test_a_csv_of_any_name_loads_and_states_its_vintage(tmp_path: Path) -> None:
    """The conversion does not carry its release date: a copy under another name is dated by
    its last month (the sample ends in 2025-11); the bundled name is the known release."""
    parsed = parse_pink_sheet(SAMPLE)
    assert parsed.source.version == "data to 2025-11"
    assert parsed.source.source_id == "worldbank-pink-sheet-data-to-2025-11"
    assert _table(parsed, "price").num_rows == _filled_cells(SAMPLE)
    bundled_name = _copy(tmp_path, BUNDLED_CSV)
    assert parse_pink_sheet(bundled_name).source.version == VINTAGE


def test_missing_series_list(tmp_path: Path) -> None:
    path = tmp_path / SAMPLE.name
    shutil.copyfile(SAMPLE, path)
    with pytest.raises(InputError, match="series list is missing") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    assert METADATA_FILE in str(caught.value)


def test_series_not_in_the_series_list(tmp_path: Path) -> None:
    lines = _sample_lines()
    lines[0] = lines[0].replace(",NICKEL,", ",NICKEL_X,")  # synthetic
    path = _copy(tmp_path, lines=lines)
    with pytest.raises(InputError, match="'NICKEL_X' is not listed") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    _assert_names(caught.value, path, 1, "NICKEL_X")


def test_missing_month_column(tmp_path: Path) -> None:
    lines = _sample_lines()
    lines[0] = lines[0].replace("month,", "period,", 1)  # synthetic
    path = _copy(tmp_path, lines=lines)
    with pytest.raises(InputError, match="missing column 'month'") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    _assert_names(caught.value, path, 1, None)


def test_non_numeric_price(tmp_path: Path) -> None:
    lines = _sample_lines()
    assert ",19401.08," in lines[4]
    lines[4] = lines[4].replace(",19401.08,", ",19401.08 $,")  # synthetic
    path = _copy(tmp_path, lines=lines)
    with pytest.raises(InputError, match="not a price") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    _assert_names(caught.value, path, 5, "NICKEL")


def test_bad_month(tmp_path: Path) -> None:
    lines = _sample_lines()
    lines[4] = lines[4].replace("2014-05,", "2014-13,", 1)  # synthetic
    path = _copy(tmp_path, lines=lines)
    with pytest.raises(InputError, match="not a month like 1960-01: '2014-13'") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    _assert_names(caught.value, path, 5, "month")


def test_duplicate_month(tmp_path: Path) -> None:
    lines = _sample_lines()
    path = _copy(tmp_path, lines=[*lines, lines[4]])  # synthetic: 2014-05 again, line 7
    with pytest.raises(InputError, match="month 2014-05 appears twice; first on row 5") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    _assert_names(caught.value, path, 7, "month")


def test_empty_file(tmp_path: Path) -> None:
    path = _copy(tmp_path, lines=[])  # synthetic
    with pytest.raises(InputError, match="empty") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    _assert_names(caught.value, path, 1, None)


def test_header_only_file(tmp_path: Path) -> None:
    path = _copy(tmp_path, lines=_sample_lines()[:1])  # synthetic
    with pytest.raises(InputError, match="no data rows") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    assert str(path) in str(caught.value)


def _workbook(tmp_path: Path, edit: dict[tuple[int, int], object] | None = None) -> Path:
    """Synthetic layout, real values: the sample CSV rows in the workbook's "Monthly Prices" form.

    Rows 1-4 hold the publisher's title lines, row 5 is left empty, rows 6-8 hold the series
    names, units ("($/mt)") and codes, and the months follow from row 9 as "1960M01" with "…"
    where the CSV cell is empty. ``edit`` overwrites cells by (sheet row, 1-based column).
    """
    with METADATA.open(encoding="utf-8", newline="") as handle:
        metadata = {r["code"]: r for r in csv.DictReader(handle)}
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Monthly Prices"
    for line in TITLE_ROWS:
        sheet.append([line])
    sheet.append([])
    sheet.append([None, *(metadata[code]["name"] for code in header[1:])])
    sheet.append([None, *(metadata[code]["unit"] for code in header[1:])])
    sheet.append([None, *header[1:]])
    for row in rows:
        month = row[0].replace("-", "M")
        sheet.append([month, *(float(cell) if cell else "…" for cell in row[1:])])
    for (row_number, column), value in (edit or {}).items():
        sheet.cell(row=row_number, column=column, value=value)
    book.create_sheet("Monthly Indices")
    path = tmp_path / "CMO-Historical-Data-Monthly.xlsx"
    book.save(path)
    return path


def _comparable(table: pa.Table) -> list[tuple[object, ...]]:
    return sorted((r["month"], r["series"], r["value"]) for r in table.to_pylist())


def test_workbook_gives_the_same_prices_as_the_csv(tmp_path: Path) -> None:
    workbook = parse_pink_sheet(_workbook(tmp_path))
    from_csv = parse_pink_sheet(SAMPLE, vintage=VINTAGE)
    assert _comparable(_table(workbook, "price")) == _comparable(_table(from_csv, "price"))
    assert (
        _table(workbook, "price_series").drop_columns([SOURCE_ROW]).to_pylist()
        == _table(from_csv, "price_series").drop_columns([SOURCE_ROW]).to_pylist()
    )
    assert workbook.source.version == VINTAGE  # read from "Updated on December 02, 2025"


def test_workbook_rows_are_sheet_rows(tmp_path: Path) -> None:
    parsed = parse_pink_sheet(_workbook(tmp_path))
    nickel = _value(_table(parsed, "price"), "NICKEL", datetime.date(2014, 5, 1))
    assert nickel["value"] == pytest.approx(19401.08)
    assert nickel[SOURCE_ROW] == 12  # months start on sheet row 9; 2014-05 is the 4th
    assert set(_table(parsed, "price_series").column(SOURCE_ROW).to_pylist()) == {8}
    assert parsed.column_labels == {"month": "A"}


def test_workbook_vintage_keyword_wins(tmp_path: Path) -> None:
    parsed = parse_pink_sheet(_workbook(tmp_path), vintage="2026-01-05")
    assert parsed.source.version == "2026-01-05"


def test_workbook_non_numeric_price(tmp_path: Path) -> None:
    header = SAMPLE.read_text(encoding="utf-8").splitlines()[0].split(",")
    nickel_column = header.index("NICKEL") + 1
    path = _workbook(tmp_path, {(12, nickel_column): "n/a"})  # synthetic
    with pytest.raises(InputError, match="not a price: 'n/a'") as caught:
        parse_pink_sheet(path)
    _assert_names(caught.value, f"{path}:Monthly Prices", 12, "NICKEL")


def test_workbook_bad_month(tmp_path: Path) -> None:
    path = _workbook(tmp_path, {(12, 1): "2014-05"})  # synthetic: not the workbook's form
    with pytest.raises(InputError, match="not a month like 1960M01") as caught:
        parse_pink_sheet(path)
    _assert_names(caught.value, f"{path}:Monthly Prices", 12, "A")


def test_workbook_without_header_rows(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Monthly Prices"
    sheet.append([None, "NICKEL"])  # synthetic: codes only, no names or units rows
    sheet.append(["2014M05", 19401.08])
    path = tmp_path / "CMO-Historical-Data-Monthly.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="names, units and codes") as caught:
        parse_pink_sheet(path, vintage=VINTAGE)
    _assert_names(caught.value, f"{path}:Monthly Prices", 2, "A")


def test_workbook_without_the_price_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    path = tmp_path / "other.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="no sheet 'Monthly Prices'") as caught:
        parse_pink_sheet(path)
    assert str(path) in str(caught.value)


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "CMO-Historical-Data-Monthly.xlsx"
    path.write_bytes(b"not a zip")  # synthetic
    with pytest.raises(InputError, match="not a readable xlsx workbook"):
        parse_pink_sheet(path)


def test_full_real_file() -> None:
    if not REAL.exists():
        pytest.skip("shared data not available")
    parsed = parse_pink_sheet(REAL)
    prices = _table(parsed, "price")
    missing = 791 * SERIES - _filled_cells(REAL)
    assert missing == 6_402
    assert prices.num_rows == 791 * SERIES - missing == 49_759
    months = sorted({month for month in prices.column("month").to_pylist() if month is not None})
    assert (months[0], months[-1]) == (datetime.date(1960, 1, 1), datetime.date(2025, 11, 1))
    assert len(set(months)) == 791
    assert _table(parsed, "price_series").num_rows == SERIES
    assert parsed.source.version == VINTAGE
    nickel = _value(prices, "NICKEL", datetime.date(2014, 5, 1))
    assert (nickel["value"], nickel[SOURCE_ROW]) == (pytest.approx(19401.08), 654)
