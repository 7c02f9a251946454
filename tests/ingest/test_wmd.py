"""World Mining Data reader: real rows, the commodity mapping, units, flags, bad input."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pytest

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, ParsedSource, Replacement
from chainwatch.ingest.countries import bundled_resolver
from chainwatch.ingest.wmd import commodity_mappings, parse_world_mining_data

SAMPLE = Path(__file__).parents[1] / "fixtures" / "wmd" / "wmd_production_sample.csv"
SHARED = Path("/work/shared/data/world_mining_data_geopolrisk")
REAL = SHARED / "wmd_production_by_country_2018_2024_long.csv"
HS_MAP = SHARED / "wmd_hs_code_map.csv"
SAMPLE_DATA_ROWS = 27
SAMPLE_SALT_ROWS = 2


def _parse(path: Path = SAMPLE) -> ParsedSource:
    return parse_world_mining_data(path, bundled_resolver())


def _rows(parsed: ParsedSource) -> list[dict[str, object]]:
    table = parsed.tables["production"]
    assert isinstance(table, pa.Table)
    return table.to_pylist()


def _find(rows: list[dict[str, object]], commodity: str, iso3: str, year: int) -> dict[str, object]:
    found = [
        r
        for r in rows
        if (r["product_type"], r["country_iso3"], r["year"]) == (commodity, iso3, year)
    ]
    assert len(found) == 1
    return found[0]


def _edited(tmp_path: Path, line: int | None, old: str = "", new: str = "") -> Path:
    """A synthetic copy of the sample with ``old`` replaced by ``new`` on one line."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    if line is not None:
        assert old in lines[line - 1]
        lines[line - 1] = lines[line - 1].replace(old, new)
    target = tmp_path / SAMPLE.name
    target.write_text("".join(lines), encoding="utf-8")
    return target


def _assert_names(error: InputError, file: Path, row: int, column: str | None) -> None:
    text = str(error)
    assert str(file) in text
    assert f"row {row}" in text
    assert error.row == row
    if column is not None:
        assert f"column {column!r}" in text
        assert error.column == column


def test_sample_rows_and_schema() -> None:
    parsed = _parse()
    table = parsed.tables["production"]
    assert isinstance(table, pa.Table)
    assert table.num_rows == SAMPLE_DATA_ROWS - SAMPLE_SALT_ROWS
    expected = schema.arrow_schema("production").append(pa.field(SOURCE_ROW, pa.int64()))
    assert table.schema.equals(expected)
    rows = table.to_pylist()
    assert {r["measure"] for r in rows} == {"production"}
    assert {r["source"] for r in rows} == {"World Mining Data"}
    assert {r["vintage"] for r in rows} == {"WMD 2025"}


def test_materials_stages_and_units() -> None:
    rows = _rows(_parse())
    lithium = _find(rows, "Lithium (Li2O)", "AUS", 2023)  # real line 3821: 204200.0 metr. t
    assert (lithium["material"], lithium["stage"], lithium["unit"]) == ("lithium", "mine", "t")
    assert lithium["quantity"] == pytest.approx(204_200)
    gas = _find(rows, "Natural Gas", "AFG", 2018)  # real line 12119: 153.0 Mio m3
    assert (gas["material"], gas["unit"], gas["quantity"]) == ("natural gas", "m3", 153e6)
    diamonds = _find(rows, "Diamonds (Gem)", "AGO", 2018)  # 8490500.0 ct
    assert (diamonds["material"], diamonds["unit"]) == ("diamonds", "ct")
    assert diamonds["quantity"] == pytest.approx(8_490_500)
    assert _find(rows, "Rhenium", "ARM", 2018)["unit"] == "kg"
    assert _find(rows, "Iron (Fe)", "AUS", 2018)["material"] == "iron ore"
    assert _find(rows, "Rare Earths (REO)", "CHN", 2023)["material"] == "rare earths"


def test_flags() -> None:
    rows = _rows(_parse())
    algeria = _find(rows, "Iron (Fe)", "DZA", 2018)  # e, with a value
    assert (algeria["estimated"], algeria["value_flag"]) == (True, None)
    angola = _find(rows, "Iron (Fe)", "AGO", 2018)  # r, no value
    assert (angola["quantity"], angola["estimated"], angola["value_flag"]) == (None, False, "r")
    nigeria = _find(rows, "Titanium (TiO2)", "NGA", 2018)  # e, no value
    assert (nigeria["quantity"], nigeria["estimated"], nigeria["value_flag"]) == (None, True, "e")


def test_countries_resolve_by_name_then_code() -> None:
    rows = _rows(_parse())
    assert _find(rows, "Nickel", "XKX", 2018)["quantity"] == pytest.approx(4790)  # iso3 R20
    assert _find(rows, "Gold", "TWN", 2018)["quantity"] == pytest.approx(4)  # iso3 S19
    assert _find(rows, "Cobalt", "COD", 2023)["quantity"] == pytest.approx(140_121)
    # French Guiana is coded GUY (Guyana) in the iso3 column; the name decides
    assert _find(rows, "Gold", "GUF", 2023)[SOURCE_ROW] == 22
    assert _find(rows, "Gold", "GUY", 2023)[SOURCE_ROW] == 23


def test_skipped_commodities_are_counted() -> None:
    parsed = _parse()
    assert {r["product_type"] for r in _rows(parsed)}.isdisjoint({"Salt (rock, brines, marine)"})
    assert f"{SAMPLE_SALT_ROWS} of {SAMPLE_DATA_ROWS} rows skipped" in parsed.source.cut
    assert "Salt (rock, brines, marine): 2" in parsed.source.cut


def test_source_record_and_replacement() -> None:
    parsed = _parse()
    assert parsed.source.source_id == "wmd-2025"
    assert parsed.source.licence_class == "B"
    assert parsed.replacements == [
        Replacement("production", {"source": ["World Mining Data"], "vintage": ["WMD 2025"]})
    ]
    assert parsed.column_labels["quantity"] == "value"
    other = parse_world_mining_data(SAMPLE, bundled_resolver(), vintage="WMD 2026")
    assert other.source.source_id == "wmd-2026"


def test_mapping_file_names_known_materials_and_stages() -> None:
    text = resources.files("chainwatch.reference").joinpath("materials.csv").read_text("utf-8")
    materials = {r["material"] for r in csv.DictReader(text.splitlines())}
    stages = set(schema.table("production").column("stage").allowed_values)
    for commodity, mapping in commodity_mappings().items():
        if mapping.material is None:
            assert mapping.stage is None, commodity
            continue
        assert mapping.material in materials, commodity
        assert mapping.stage in stages, commodity


def test_mapping_covers_every_wmd_commodity() -> None:
    if not HS_MAP.exists():
        pytest.skip("shared data not available")
    with HS_MAP.open(encoding="utf-8-sig", newline="") as handle:
        sheets = {r["Sheet_name"] for r in csv.DictReader(handle)}
    assert sheets == set(commodity_mappings())


def test_missing_column(tmp_path: Path) -> None:
    path = _edited(tmp_path, 1, ",unit,", ",units,")  # synthetic
    with pytest.raises(InputError, match="missing column 'unit'") as caught:
        _parse(path)
    _assert_names(caught.value, path, 1, None)


def test_non_numeric_value(tmp_path: Path) -> None:
    path = _edited(tmp_path, 16, ",204200.0", ",204 200")  # synthetic
    with pytest.raises(InputError, match="not a number: '204 200'") as caught:
        _parse(path)
    _assert_names(caught.value, path, 16, "value")


def test_negative_value(tmp_path: Path) -> None:
    path = _edited(tmp_path, 16, ",204200.0", ",-204200.0")  # synthetic
    with pytest.raises(InputError, match="negative") as caught:
        _parse(path)
    _assert_names(caught.value, path, 16, "value")


def test_unknown_country(tmp_path: Path) -> None:
    path = _edited(tmp_path, 13, "Nickel,Kosovo,697,R20", "Nickel,Atlantis,999,R99")  # synthetic
    with pytest.raises(InputError, match="unknown country 'Atlantis'") as caught:
        _parse(path)
    _assert_names(caught.value, path, 13, "country")


def test_unknown_unit(tmp_path: Path) -> None:
    path = _edited(tmp_path, 28, ",Mio m3,", ",bn m3,")  # synthetic
    with pytest.raises(InputError, match="unknown unit 'bn m3'") as caught:
        _parse(path)
    _assert_names(caught.value, path, 28, "unit")


def test_unknown_flag(tmp_path: Path) -> None:
    path = _edited(tmp_path, 2, ",e,2018,", ",x,2018,")  # synthetic
    with pytest.raises(InputError, match="unknown data flag 'x'") as caught:
        _parse(path)
    _assert_names(caught.value, path, 2, "wmd_data_flag")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / SAMPLE.name
    path.write_bytes(b"")  # synthetic
    with pytest.raises(InputError, match="empty") as caught:
        _parse(path)
    _assert_names(caught.value, path, 1, None)


def test_duplicate_key(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / SAMPLE.name
    path.write_text("".join([*lines, lines[15]]), encoding="utf-8")  # synthetic: line 29
    with pytest.raises(InputError, match="duplicate row for Lithium \\(Li2O\\) AUS 2023") as c:
        _parse(path)
    _assert_names(c.value, path, 29, "commodity+country+year")


def test_full_real_file() -> None:
    if not REAL.exists():
        pytest.skip("shared data not available")
    parsed = _parse(REAL)
    rows = _rows(parsed)
    # 13,678 rows; 994 are salt, perlite, vermiculite, oil sands and oil shales
    assert len(rows) == 12_684
    assert "994 of 13678 rows skipped" in parsed.source.cut
    assert len({r["product_type"] for r in rows}) == 60
    assert sum(r["quantity"] is None for r in rows) == 258
    indonesia = _find(rows, "Nickel", "IDN", 2024)  # real line 1286: 2300000.0
    assert (indonesia["quantity"], indonesia[SOURCE_ROW]) == (pytest.approx(2_300_000), 1286)
