"""BACI reader: real rows in CEPII's layout, each bad-input case, atomicity."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chainwatch.errors import InputError
from chainwatch.ingest.pipeline import ingest_file
from chainwatch.store import Store
from tests.conftest import table_snapshot

YEAR_2021 = "BACI_HS92_Y2021_V202401b.csv"


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_release_directory_loads_every_row(store: Store, baci_release: Path) -> None:
    result = ingest_file(store, "baci", baci_release)
    data_rows = sum(len(_lines(p)) - 1 for p in baci_release.glob("BACI_*.csv"))
    assert result.rows["trade_flow"] == data_rows == 3495
    with store.connect() as con:
        years = con.execute("SELECT DISTINCT year FROM trade_flow ORDER BY 1").fetchall()
        assert years == [(2021,), (2022,)]
        # first data row of 2021: 2021,12,251,282200,0.025,0.002 -> DZA -> FRA, thousand USD
        row = con.execute(
            "SELECT value_usd, quantity_t, vintage, hs_revision FROM trade_flow "
            "WHERE year = 2021 AND exporter_iso3 = 'DZA' AND importer_iso3 = 'FRA' "
            "AND hs6 = '282200'"
        ).fetchone()
        assert row == (pytest.approx(25.0), pytest.approx(0.002), "V202401b", "HS92")
        assert con.execute("SELECT count(*) FROM trade_flow WHERE quantity_t IS NULL").fetchone()[
            0
        ] == sum(1 for p in baci_release.glob("BACI_*.csv") for line in _lines(p) if "NA" in line)


def test_taiwan_and_special_codes_map_to_iso3(store: Store, baci_release: Path) -> None:
    ingest_file(store, "baci", baci_release)
    with store.connect() as con:
        mapped = dict(
            con.execute(
                "SELECT code, iso3 FROM country_code_concordance WHERE code IN (58, 490, 711, 251)"
            ).fetchall()
        )
        assert mapped == {58: "BEL", 490: "TWN", 711: "ZAF", 251: "FRA"}
        assert (
            con.execute(
                "SELECT count(*) FROM trade_flow "
                "WHERE exporter_iso3 = 'TWN' OR importer_iso3 = 'TWN'"
            ).fetchone()[0]
            > 0
        )


def test_zip_archive_as_cepii_distributes_it(
    store: Store, baci_release: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "BACI_HS92_V202401b.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for member in baci_release.iterdir():
            bundle.write(member, member.name)
    result = ingest_file(store, "baci", archive)
    assert result.rows["trade_flow"] == 3495


def test_reingest_replaces_instead_of_duplicating(store: Store, baci_release: Path) -> None:
    ingest_file(store, "baci", baci_release)
    before = table_snapshot(store, "trade_flow")
    ingest_file(store, "baci", baci_release)
    assert table_snapshot(store, "trade_flow") == before


def _edit(path: Path, line: int, old: str, new: str) -> None:
    """SYNTHETIC edit of one line of a real fixture file, to make a bad-input case."""
    lines = _lines(path)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


BAD_CASES = {
    "missing column": (lambda p: p.write_text(p.read_text().replace(",q\n", "\n", 1)), 1, None),
    "wrong type": (lambda p: _edit(p, 3, ",0.819,", ",abc,"), 3, "v"),
    "unknown country": (lambda p: _edit(p, 2, "2021,12,", "2021,999,"), 2, "i"),
    "unknown product": (lambda p: _edit(p, 3, ",810510,", ",810599,"), 3, "k"),
    "negative quantity": (lambda p: _edit(p, 3, ",0.020", ",-0.020"), 3, "q"),
    "duplicate key": (lambda p: p.write_text(p.read_text() + _lines(p)[5]), 1764, "t+i+j+k"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_names_file_row_column_and_loads_nothing(
    case: str, store: Store, baci_release: Path
) -> None:
    ingest_file(store, "baci", baci_release)
    before = table_snapshot(store, "trade_flow")
    damage, row, column = BAD_CASES[case]
    damage(baci_release / YEAR_2021)
    with pytest.raises(InputError) as raised:
        ingest_file(store, "baci", baci_release)
    message = str(raised.value)
    assert YEAR_2021 in message
    assert raised.value.row == row
    if column:
        assert raised.value.column == column
        assert f"column {column!r}" in message
    assert "\n" not in message
    assert table_snapshot(store, "trade_flow") == before


def test_empty_file(store: Store, baci_release: Path) -> None:
    (baci_release / YEAR_2021).write_text("")
    with pytest.raises(InputError, match=rf"{YEAR_2021}.*empty"):
        ingest_file(store, "baci", baci_release)


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_truncated_or_corrupt_zip(
    damage: str, store: Store, baci_release: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "BACI_HS92_V202401b.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for member in baci_release.iterdir():
            bundle.write(member, member.name)
    data = archive.read_bytes()
    if damage == "truncated":
        archive.write_bytes(data[: len(data) // 2])
    else:
        middle = len(data) // 2
        archive.write_bytes(data[:middle] + bytes(64) + data[middle + 64 :])
    with pytest.raises(InputError, match="zip") as raised:
        ingest_file(store, "baci", archive)
    assert str(archive) in str(raised.value)
    assert not store.path.with_name("x").exists()


def test_cli_reports_one_line_and_nonzero_exit(store: Store, baci_release: Path) -> None:
    _edit(baci_release / YEAR_2021, 3, ",0.819,", ",abc,")
    completed = subprocess.run(
        [sys.executable, "-m", "chainwatch", "ingest", "baci", str(baci_release),
         "--store", str(store.path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "row 3" in lines[0] and "'v'" in lines[0]


def test_error_inside_a_zip_names_archive_and_member(
    store: Store, baci_release: Path, tmp_path: Path
) -> None:
    _edit(baci_release / YEAR_2021, 3, ",0.020", ",-0.020")  # SYNTHETIC edit
    archive = tmp_path / "BACI_HS92_V202401b.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for member in baci_release.iterdir():
            bundle.write(member, member.name)
    with pytest.raises(InputError) as raised:
        ingest_file(store, "baci", archive)
    assert str(raised.value).startswith(f"{archive}:{YEAR_2021}, row 3, column 'q'")


def test_a_file_cut_to_some_products_replaces_only_those(
    store: Store, baci_release: Path, tmp_path: Path
) -> None:
    ingest_file(store, "baci", baci_release)
    only_282200 = tmp_path / "cut"
    only_282200.mkdir()
    for table in baci_release.glob("*_codes_*.csv"):
        (only_282200 / table.name).write_bytes(table.read_bytes())
    lines = _lines(baci_release / YEAR_2021)
    kept = [lines[0]] + [line for line in lines[1:] if ",282200," in line]
    (only_282200 / YEAR_2021).write_text("".join(kept), encoding="utf-8")
    with store.connect() as con:
        before = dict(con.execute("SELECT hs6, count(*) FROM trade_flow GROUP BY hs6").fetchall())
    ingest_file(store, "baci", only_282200)
    with store.connect() as con:
        after = dict(con.execute("SELECT hs6, count(*) FROM trade_flow GROUP BY hs6").fetchall())
    assert after == before  # same rows re-loaded for 282200/2021; 810510 untouched
