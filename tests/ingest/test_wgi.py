"""WGI reader: real rows of the 2024 update, the World Bank's codes, each bad-input case."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from chainwatch import schema
from chainwatch.errors import InputError
from chainwatch.ingest.base import SOURCE_ROW, Replacement
from chainwatch.ingest.countries import (
    CountryResolver,
    bundled_country_table,
    bundled_resolver,
    former_country_rows,
)
from chainwatch.ingest.wgi import infer_vintage, parse_wgi

SAMPLE = Path(__file__).parents[1] / "fixtures" / "wgi" / "wgidataset_2024update_sample.csv"
REAL = Path("/work/shared/data/wgi_worldbank/wgidataset_2024update_1996_2023_long.csv")
SAMPLE_DATA_ROWS = 24
SAMPLE_MISSING_ROWS = 4  # American Samoa, Anguilla, Aruba 1996 cc; ANT pv 1996


def _governance(path: Path, countries: CountryResolver | None = None) -> list[dict[str, object]]:
    table = parse_wgi(path, countries or bundled_resolver()).tables["governance"]
    assert isinstance(table, pa.Table)
    return table.to_pylist()


def _find(rows: list[dict[str, object]], iso3: str, indicator: str, year: int) -> dict[str, object]:
    found = [
        r for r in rows if (r["country_iso3"], r["indicator"], r["year"]) == (iso3, indicator, year)
    ]
    assert len(found) == 1
    return found[0]


def _edited(tmp_path: Path, edit_line: int | None, old: str, new: str, name: str = "") -> Path:
    """A synthetic copy of the sample with ``old`` replaced by ``new`` on one line."""
    lines = SAMPLE.read_bytes().decode("utf-8").splitlines(keepends=True)
    if edit_line is not None:
        assert old in lines[edit_line - 1]
        lines[edit_line - 1] = lines[edit_line - 1].replace(old, new)
    target = tmp_path / (name or SAMPLE.name)
    target.write_bytes("".join(lines).encode("utf-8"))
    return target


def _assert_names(error: InputError, file: Path | str, row: int, column: str | None) -> None:
    text = str(error)
    assert str(file) in text
    assert f"row {row}" in text
    assert error.row == row
    if column is not None:
        assert f"column {column!r}" in text
        assert error.column == column


def test_sample_keeps_rows_with_an_estimate() -> None:
    parsed = parse_wgi(SAMPLE, bundled_resolver())
    table = parsed.tables["governance"]
    assert isinstance(table, pa.Table)
    assert table.num_rows == SAMPLE_DATA_ROWS - SAMPLE_MISSING_ROWS
    expected = schema.arrow_schema("governance").append(pa.field(SOURCE_ROW, pa.int64()))
    assert table.schema.equals(expected)
    assert set(table.column("source").to_pylist()) == {"World Bank WGI"}
    assert set(table.column("vintage").to_pylist()) == {"2024 update"}


def test_china_political_stability_2022_as_in_the_file() -> None:
    # real file line 30002: CHNpv2022,CHN,China,2022,pv,-0.45,0.21,8,29.7,17.5,43.9
    china = _find(_governance(SAMPLE), "CHN", "pv", 2022)
    assert china["estimate"] == pytest.approx(-0.45)
    assert china["standard_error"] == pytest.approx(0.21)
    assert china["source_count"] == 8
    assert china["percentile_rank"] == pytest.approx(29.7)
    assert china[SOURCE_ROW] == 17  # line 17 of the fixture (header = line 1)


def test_world_bank_codes_resolve_to_iso3() -> None:
    rows = _governance(SAMPLE)
    pv_2022 = {r["country_iso3"] for r in rows if r["indicator"] == "pv" and r["year"] == 2022}
    assert {"COD", "ROU", "AND", "TLS", "PSE", "XKX"} <= pv_2022
    assert not {"ZAR", "ROM", "ADO", "TMP", "WBG", "KSV"} & pv_2022
    # real line: DRC pv 2022 estimate -1.98
    assert _find(rows, "COD", "pv", 2022)["estimate"] == pytest.approx(-1.98)


def test_former_economy_is_added_to_the_country_table() -> None:
    parsed = parse_wgi(SAMPLE, bundled_resolver())
    country = parsed.tables["country"]
    assert isinstance(country, pa.Table)
    assert country.select(["iso3", "name", "kind"]).to_pylist() == [
        {"iso3": "ANT", "name": "Netherlands Antilles", "kind": "former"}
    ]
    assert parsed.upserts == {"country"}
    assert _find(_governance(SAMPLE), "ANT", "pv", 2004)["estimate"] == pytest.approx(0.69)


def test_no_country_rows_when_the_resolver_knows_every_code() -> None:
    parsed = parse_wgi(SAMPLE, _resolver_with_former_countries())
    assert "country" not in parsed.tables
    assert parsed.upserts == set()


def test_source_record_and_replacement() -> None:
    parsed = parse_wgi(SAMPLE, bundled_resolver())
    assert parsed.source.source_id == "worldbank-wgi-2024-update"
    assert parsed.source.licence_class == "A"
    assert parsed.source.version == "2024 update"
    assert f"{SAMPLE_MISSING_ROWS} of {SAMPLE_DATA_ROWS} rows dropped" in parsed.source.cut
    assert parsed.replacements == [
        Replacement("governance", {"source": ["World Bank WGI"], "vintage": ["2024 update"]})
    ]
    assert parsed.column_labels["standard_error"] == "stddev"


def test_vintage_from_the_file_name_or_the_keyword(tmp_path: Path) -> None:
    assert infer_vintage("wgidataset_2024update_1996_2023_long.csv") == "2024 update"
    assert infer_vintage("wgidataset.csv") is None
    unnamed = _edited(tmp_path, None, "", "", name="wgidataset.csv")
    with pytest.raises(InputError, match="vintage") as caught:
        parse_wgi(unnamed, bundled_resolver())
    assert str(unnamed) in str(caught.value)
    parsed = parse_wgi(unnamed, bundled_resolver(), vintage="2025 update")
    assert parsed.source.version == "2025 update"


def test_zip_holding_one_csv(tmp_path: Path) -> None:
    archive = tmp_path / "wgidataset_2024update.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(SAMPLE, "wgidataset.csv")
    assert _governance(archive) == _governance(SAMPLE)
    broken = _edited(tmp_path, 17, "-0.45", "minus", name="wgidataset.csv")
    with zipfile.ZipFile(archive, "w") as bundle:  # synthetic: a bad value inside the zip
        bundle.write(broken, "wgidataset.csv")
    with pytest.raises(InputError) as caught:
        parse_wgi(archive, bundled_resolver())
    _assert_names(caught.value, f"{archive}:wgidataset.csv", 17, "estimate")


def test_missing_column(tmp_path: Path) -> None:
    path = _edited(tmp_path, 1, ",estimate,", ",estimat,")  # synthetic
    with pytest.raises(InputError, match="missing column 'estimate'") as caught:
        parse_wgi(path, bundled_resolver())
    _assert_names(caught.value, path, 1, None)


def test_non_numeric_estimate(tmp_path: Path) -> None:
    path = _edited(tmp_path, 17, ",-0.45,", ",-0.45x,")  # synthetic
    with pytest.raises(InputError, match=r"not a number: '-0\.45x'") as caught:
        parse_wgi(path, bundled_resolver())
    _assert_names(caught.value, path, 17, "estimate")


def test_non_whole_source_count(tmp_path: Path) -> None:
    path = _edited(tmp_path, 17, ",0.21,8,", ",0.21,8.5,")  # synthetic
    with pytest.raises(InputError, match="whole number") as caught:
        parse_wgi(path, bundled_resolver())
    _assert_names(caught.value, path, 17, "nsource")


def test_unknown_country_code(tmp_path: Path) -> None:
    path = _edited(tmp_path, 17, "CHNpv2022,CHN,China", "QQQpv2022,QQQ,Nowhere")  # synthetic
    with pytest.raises(InputError, match="unknown economy code 'QQQ'") as caught:
        parse_wgi(path, bundled_resolver())
    _assert_names(caught.value, path, 17, "code")


def test_unknown_indicator(tmp_path: Path) -> None:
    path = _edited(tmp_path, 17, ",2022,pv,", ",2022,px,")  # synthetic
    with pytest.raises(InputError, match="unknown indicator 'px'") as caught:
        parse_wgi(path, bundled_resolver())
    _assert_names(caught.value, path, 17, "indicator")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / SAMPLE.name
    path.write_bytes(b"")  # synthetic
    with pytest.raises(InputError, match="empty") as caught:
        parse_wgi(path, bundled_resolver())
    _assert_names(caught.value, path, 1, None)


def test_header_only_file(tmp_path: Path) -> None:
    path = tmp_path / SAMPLE.name
    path.write_bytes(SAMPLE.read_bytes().splitlines(keepends=True)[0])  # synthetic
    with pytest.raises(InputError, match="no data rows") as caught:
        parse_wgi(path, bundled_resolver())
    assert str(path) in str(caught.value)


def test_duplicate_country_indicator_year(tmp_path: Path) -> None:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    path = tmp_path / SAMPLE.name
    path.write_bytes(b"".join([*lines, lines[16]]))  # synthetic: China pv 2022 again, line 26
    with pytest.raises(
        InputError, match="duplicate row for CHN pv 2022; first seen on row 17"
    ) as e:
        parse_wgi(path, bundled_resolver())
    _assert_names(e.value, path, 26, "code+indicator+year")


def test_duplicate_through_an_alias(tmp_path: Path) -> None:
    # synthetic: Romania written once as ROM (line 20) and once as ROU
    lines = SAMPLE.read_bytes().decode("utf-8").splitlines(keepends=True)
    copy = lines[19].replace("ROMpv2022,ROM,", "ROUpv2022,ROU,")
    path = tmp_path / SAMPLE.name
    path.write_bytes("".join([*lines, copy]).encode("utf-8"))
    with pytest.raises(InputError, match="ROU pv 2022") as caught:
        parse_wgi(path, bundled_resolver())
    _assert_names(caught.value, path, 26, "code+indicator+year")


def _resolver_with_former_countries() -> CountryResolver:
    """The bundled countries plus ANT, as a store holds it once BACI's former codes are in."""
    rows = bundled_country_table().to_pylist()
    known = {str(row["iso3"]) for row in rows}
    former = former_country_rows([(530, "Netherlands Antilles (...2010)", "ANT")], known)
    return CountryResolver.from_rows(rows + former.to_pylist())


def test_full_real_file() -> None:
    if not REAL.exists():
        pytest.skip("shared data not available")
    rows = _governance(REAL)
    # 32,100 data rows; 1,126 carry '..' in every column and are dropped
    assert len(rows) == 30_974
    assert {r["indicator"] for r in rows} == {"va", "pv", "ge", "rq", "rl", "cc"}
    assert len({r["country_iso3"] for r in rows}) == 214
    assert _find(rows, "CHN", "pv", 2022)["estimate"] == pytest.approx(-0.45)
    assert _find(rows, "CHN", "pv", 2022)[SOURCE_ROW] == 30002
    assert _governance(REAL, _resolver_with_former_countries()) == rows
