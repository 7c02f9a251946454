"""OECD Inventory reader on a SYNTHETIC fixture in the SDMX-CSV layout of an OECD download.

The fixture (tests/fixtures/oecd_inventory/, see its README.md) has the envelope and labels of
an OECD Data Explorer SDMX-CSV download but invented observations: these tests check the
layouts, the spell merging, the measure mapping, the all-or-nothing load and the one-line
errors, not any real restriction. Loads go through ``ingest_file`` into a store built from the
bundled data set.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from chainwatch.errors import InputError
from chainwatch.ingest.base import ParsedSource
from chainwatch.ingest.countries import CountryResolver, bundled_resolver
from chainwatch.ingest.oecd_inventory import VERIFY_STATUS, measure_types, parse_oecd_inventory
from chainwatch.ingest.pipeline import PARSERS, ingest_file
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from tests.conftest import FIXTURES, table_snapshot

NAME = "oecd_inventory_export_restrictions_SYNTHETIC.csv"
FIXTURE = FIXTURES / "oecd_inventory" / NAME
EVENTS = 8
"""Spells in the fixture: 20 measure observations, one 'No restrictions' row, one value 0."""
LABEL_COLUMNS = [5, 7, 9, 11, 13, 15, 17, 19]
"""Label columns of the fixture (each follows its component's code column)."""


@pytest.fixture(scope="module")
def countries() -> CountryResolver:
    return bundled_resolver()


@pytest.fixture(scope="module")
def bundled_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = Store(tmp_path_factory.mktemp("oecd") / "template.duckdb")
    load_bundle(store)
    return store.path


@pytest.fixture
def bundled(bundled_template: Path, tmp_path: Path) -> Store:
    target = tmp_path / "store" / "chainwatch.duckdb"
    target.parent.mkdir()
    shutil.copy(bundled_template, target)
    return Store(target)


def _records() -> list[list[str]]:
    with FIXTURE.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _write(path: Path, records: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(records)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _variant(tmp_path: Path, change: Callable[[list[list[str]]], list[list[str]]]) -> Path:
    return _write(tmp_path / NAME, change(_records()))


def _events(parsed: ParsedSource) -> list[dict[str, Any]]:
    table = parsed.tables["export_restriction_event"]
    assert isinstance(table, pa.Table)
    return table.to_pylist()


def _by_id(parsed: ParsedSource) -> dict[str, dict[str, Any]]:
    return {str(event["event_id"]): event for event in _events(parsed)}


def _rows(store: Store, sql: str) -> list[tuple[Any, ...]]:
    with store.connect() as con:
        result: list[tuple[Any, ...]] = con.execute(sql).fetchall()
    return result


# --- the happy path ---------------------------------------------------------------------------


def test_kind_is_registered() -> None:
    assert "oecd-inventory" in PARSERS


def test_consecutive_years_become_one_event(countries: CountryResolver) -> None:
    events = _by_id(parse_oecd_inventory(FIXTURE, countries))
    assert len(events) == EVENTS
    first = events["OECD:IDN:260400:EXP_PROH:2014"]
    assert (first["effective_date"], first["end_date"]) == (date(2014, 1, 1), date(2016, 12, 31))
    assert first["measure_type"] == "export_ban" and first["country_iso3"] == "IDN"
    assert first["hs6_codes"] == "260400" and first["source_row"] == 2
    assert first["verify_status"] == VERIFY_STATUS and first["confidence"] == "high"
    # a gap of three years starts a new event; one in force in the last year stays open
    again = events["OECD:IDN:260400:EXP_PROH:2020"]
    assert (again["effective_date"], again["end_date"]) == (date(2020, 1, 1), None)
    assert events["OECD:CHN:280530:EXP_QUOTA:2010"]["end_date"] == date(2014, 12, 31)


def test_a_changed_value_starts_a_new_event(countries: CountryResolver) -> None:
    events = _by_id(parse_oecd_inventory(FIXTURE, countries))
    ten, fifteen = events["OECD:COD:260500:EXP_TAX:2019"], events["OECD:COD:260500:EXP_TAX:2022"]
    assert ten["end_date"] == date(2021, 12, 31) and fifteen["end_date"] is None
    assert "value: 10 Percentage" in ten["notes"] and "survey years: 2019-2021" in ten["notes"]
    assert "value: 15 Percentage" in fifteen["notes"]


def test_oecd_fields_are_kept(countries: CountryResolver) -> None:
    event = _by_id(parse_oecd_inventory(FIXTURE, countries))["OECD:CHN:811292:LIC_REQ:2023"]
    assert event["measure_type"] == "export_licensing"
    assert event["notes"] == (
        "OECD measure: LIC_REQ (Licensing requirement); product: 811292 (Gallium, germanium, "
        "indium, niobium, vanadium: unwrought; powders); value: 1; survey years: 2023; "
        "dataflow: SYNTHETIC:DSD_EXPORT_RESTRICTIONS_SYNTHETIC@DF_SYNTHETIC(1.0)"
    )
    # without a material lookup the OECD's product text names the materials
    assert event["materials"].startswith("Gallium, germanium")


def test_measure_types_map_to_the_vocabulary(countries: CountryResolver) -> None:
    types = {e["measure_type"] for e in _events(parse_oecd_inventory(FIXTURE, countries))}
    assert types == {
        "export_ban", "export_tax", "export_quota", "export_licensing", "export_measure_other"
    }  # fmt: skip
    assert set(measure_types().values()) <= {
        "", "export_ban", "export_tax", "export_quota", "export_licensing",
        "export_measure_other",
    }  # fmt: skip


def test_rows_without_a_measure_are_counted_not_loaded(countries: CountryResolver) -> None:
    parsed = parse_oecd_inventory(FIXTURE, countries)
    assert not any(e["country_iso3"] in ("AUS", "RUS") for e in _events(parsed))
    cut = parsed.source.cut
    assert cut.startswith("20 observations merged into 8 events")
    assert "1 'No restrictions', 1 'value 0'" in cut
    assert parsed.source.version.endswith("survey years 2010-2023")
    assert parsed.source.obtained_from == f"{NAME} (SDMX-CSV 2.0 with labels)"


def _labels_both(records: list[list[str]]) -> list[list[str]]:
    """SDMX-CSV 2.0 ``labels=both``: ``ID: Name`` headers and ``CODE: Label`` cells."""
    header, rows = records[0], records[1:]
    out = [["STRUCTURE", "STRUCTURE_ID", "ACTION"]
           + [f"{header[i - 1]}: {header[i]}" for i in LABEL_COLUMNS]]  # fmt: skip
    for row in rows:
        cells = [
            f"{row[i - 1]}: {row[i]}" if row[i] and row[i] != row[i - 1] else row[i - 1]
            for i in LABEL_COLUMNS
        ]
        out.append(["dataflow", f"{row[1]}: {row[2]}", row[3], *cells])
    return out


def _version_1(records: list[list[str]]) -> list[list[str]]:
    """SDMX-CSV 1.0 ``labels=both``: a DATAFLOW column, no ACTION."""
    return [[row[1] if i else "DATAFLOW", *row[3:]] for i, row in enumerate(_labels_both(records))]


@pytest.mark.parametrize("change", [_labels_both, _version_1], ids=["labels-both", "sdmx-csv-1"])
def test_every_layout_gives_the_same_events(
    countries: CountryResolver,
    tmp_path: Path,
    change: Callable[[list[list[str]]], list[list[str]]],
) -> None:
    expected = _events(parse_oecd_inventory(FIXTURE, countries))
    assert _events(parse_oecd_inventory(_variant(tmp_path, change), countries)) == expected


def test_codes_only_layout_needs_measure_names(countries: CountryResolver, tmp_path: Path) -> None:
    def codes_only(records: list[list[str]]) -> list[list[str]]:
        keep = [0, 1, 3, *(i - 1 for i in LABEL_COLUMNS)]
        return [[row[i] for i in keep] for row in records]

    with pytest.raises(InputError) as caught:
        parse_oecd_inventory(_variant(tmp_path, codes_only), countries)
    assert (caught.value.row, caught.value.column) == (2, "MEASURE")
    assert "unknown OECD measure 'EXP_PROH'" in caught.value.message


# --- loading ----------------------------------------------------------------------------------


def test_ingest_names_materials_and_keeps_the_curated_events(bundled: Store) -> None:
    before = _rows(bundled, "SELECT event_id FROM export_restriction_event")
    result = ingest_file(bundled, "oecd-inventory", FIXTURE)
    assert result.rows == {"export_restriction_event": EVENTS}
    after = dict(_rows(bundled, "SELECT event_id, materials FROM export_restriction_event"))
    assert {row[0] for row in before} <= set(after) and len(after) == len(before) + EVENTS
    assert after["OECD:COD:260500:EXP_TAX:2019"] == "cobalt"
    assert after["OECD:CHN:811292:LIC_REQ:2023"] == "gallium;germanium"
    assert after["OECD:ZWE:253090:EXP_PROH:2023"] == "lithium"
    source_id = "oecd-export-restrictions-industrial-raw-materials"
    source = _rows(
        bundled, f"SELECT licence_class, rows FROM source WHERE source_id = '{source_id}'"
    )
    assert source == [("A", EVENTS)]


def test_a_later_load_replaces_only_the_oecd_events(bundled: Store, tmp_path: Path) -> None:
    curated = _rows(bundled, "SELECT count(*) FROM export_restriction_event")[0][0]
    ingest_file(bundled, "oecd-inventory", FIXTURE)
    ingest_file(bundled, "oecd-inventory", FIXTURE)
    assert _rows(bundled, "SELECT count(*) FROM export_restriction_event")[0][0] == curated + 8
    shorter = _variant(tmp_path, lambda records: records[:4])  # Indonesia 2014-2016 only
    ingest_file(bundled, "oecd-inventory", shorter)
    oecd = _rows(bundled, "SELECT event_id FROM export_restriction_event "
                          f"WHERE verify_status = '{VERIFY_STATUS}'")  # fmt: skip
    assert oecd == [("OECD:IDN:260400:EXP_PROH:2014",)]
    assert _rows(bundled, "SELECT count(*) FROM export_restriction_event")[0][0] == curated + 1


def test_failed_load_changes_nothing(bundled: Store, tmp_path: Path) -> None:
    def bad_last_row(records: list[list[str]]) -> list[list[str]]:
        records[-1][14] = "2O15"
        return records

    before = table_snapshot(bundled, "export_restriction_event")
    with pytest.raises(InputError) as caught:
        ingest_file(bundled, "oecd-inventory", _variant(tmp_path, bad_last_row))
    assert (caught.value.row, caught.value.column) == (23, "TIME_PERIOD")
    assert table_snapshot(bundled, "export_restriction_event") == before


def test_cli_ingest_reports_one_line(bundled: Store, tmp_path: Path) -> None:
    def unknown_country(records: list[list[str]]) -> list[list[str]]:
        records[3][4:6] = ["XXA", "Atlantis"]
        return records

    bad = _variant(tmp_path, unknown_country)
    env = {**os.environ, "CHAINWATCH_STORE": str(bundled.path)}
    command = [sys.executable, "-m", "chainwatch", "ingest", "oecd-inventory"]
    completed = subprocess.run([*command, str(bad)], capture_output=True, text=True, env=env,
                               check=False)  # fmt: skip
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in completed.stderr
    assert "row 4, column 'REF_AREA': unknown country 'XXA' (Atlantis)" in lines[0]


# --- bad input --------------------------------------------------------------------------------


def _set(row: int, column: int, value: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def change(records: list[list[str]]) -> list[list[str]]:
        records[row - 1][column] = value
        return records

    return change


def _append_copy_of(row: int) -> Callable[[list[list[str]]], list[list[str]]]:
    return lambda records: [*records, list(records[row - 1])]


BAD_INPUT = [
    ("unknown-measure", _set(3, 9, "EXP_BAN2"), 3, "MEASURE", "unknown OECD measure"),
    ("unknown-measure-name", _set(3, 9, "Export embargo"), 3, "MEASURE", "oecd_measure_types"),
    ("bad-year", _set(2, 14, "2014Q1"), 2, "TIME_PERIOD", "not a year"),
    ("hs4-code", _set(5, 6, "2604"), 5, "PRODUCT", "not an HS 6-digit product code"),
    ("missing-country", _set(2, 4, ""), 2, "REF_AREA", "country code is missing"),
    ("aggregate", _set(2, 4, "WLD"), 2, "REF_AREA", "unknown country 'WLD'"),
    ("deletion", _set(6, 3, "D"), 6, "ACTION", "not deletions"),
    ("other-dataflow", _set(7, 1, "OECD.X:DSD@DF(2.0)"), 7, "STRUCTURE_ID", "another dataflow"),
    ("no-dataflow", _set(2, 1, ""), 2, "STRUCTURE_ID", "dataflow is missing"),
    ("duplicate", _append_copy_of(2), 24, "REF_AREA+PRODUCT+MEASURE+TIME_PERIOD",
     "duplicate observation (IDN, 260400, EXP_PROH, 2014); first seen on row 2"),
    ("not-sdmx", _set(1, 0, "Country"), 1, "Country", "not an SDMX-CSV file"),
    ("no-measure", _set(1, 8, "RESTRICTION"), 1, None,
     "no measure column (MEASURE or MEASURE_TYPE) among the components: REF_AREA, PRODUCT"),
    ("twice", _set(1, 10, "MEASURE"), 1, "MEASURE", "appears twice"),
    ("cut-short", lambda records: [*records[:5], records[5][:9]], 6, None, "fields but the header"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "row", "column", "message"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_names_file_row_and_column(
    countries: CountryResolver,
    tmp_path: Path,
    change: Callable[[list[list[str]]], list[list[str]]],
    row: int,
    column: str | None,
    message: str,
) -> None:
    path = _variant(tmp_path, change)
    with pytest.raises(InputError) as caught:
        parse_oecd_inventory(path, countries)
    error = caught.value
    assert (error.row, error.column) == (row, column)
    assert message in error.message
    text = str(error)
    assert "\n" not in text and text.startswith(str(path))


def test_empty_and_measureless_files(countries: CountryResolver, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="the file is empty"):
        parse_oecd_inventory(empty, countries)
    header_only = _variant(tmp_path, lambda records: records[:1])
    with pytest.raises(InputError, match="no export-restriction observations"):
        parse_oecd_inventory(header_only, countries)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(FIXTURE.read_bytes().replace(b"People's", "Peóple's".encode("latin-1")))
    with pytest.raises(InputError, match="not UTF-8"):
        parse_oecd_inventory(latin, countries)


def test_docs_list_every_measure_and_component() -> None:
    from chainwatch.ingest.oecd_inventory import COMPONENTS

    page = (Path(__file__).resolve().parents[2] / "docs" / "oecd_inventory.md").read_text(
        encoding="utf-8"
    )
    text = " ".join(page.lower().split())
    missing = [name for name in measure_types() if name not in text]
    missing += [f"`{name}`" for c in COMPONENTS for name in c.ids if f"`{name}`" not in page]
    assert not missing, f"missing from docs/oecd_inventory.md: {missing}"
