"""UN Comtrade monthly reader on a SYNTHETIC fixture in Comtrade's own layout.

The fixture (tests/fixtures/comtrade/) has the header and codes of a Comtrade final-data
download, but every value in it is synthetic (see its README.md): these tests check the
mapping, the filters and the bad-input handling, not any real trade figure. Loads go through
``ingest_file`` into a store built from the bundled data set with ``load_bundle``.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from chainwatch.errors import InputError
from chainwatch.ingest.pipeline import PARSERS, ingest_file
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from tests.conftest import FIXTURES, table_snapshot

NAME = "comtrade_final_CAN_202301-202302_H5_SYNTHETIC.csv"
KEPT_ROWS = 7


@pytest.fixture(scope="module")
def bundled_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file holding the bundled data set (built once, copied per test)."""
    store = Store(tmp_path_factory.mktemp("comtrade") / "template.duckdb")
    load_bundle(store)
    return store.path


@pytest.fixture
def bundled(bundled_template: Path, tmp_path: Path) -> Store:
    target = tmp_path / "store" / "chainwatch.duckdb"
    target.parent.mkdir()
    shutil.copy(bundled_template, target)
    return Store(target)


@pytest.fixture
def comtrade_file(tmp_path: Path) -> Path:
    """A writable copy of the SYNTHETIC fixture."""
    target = tmp_path / NAME
    shutil.copy(FIXTURES / "comtrade" / NAME, target)
    return target


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    with store.connect() as con:
        result: list[tuple[object, ...]] = con.execute(sql).fetchall()
    return result


def test_kind_is_registered() -> None:
    assert "comtrade" in PARSERS


def test_monthly_hs6_country_rows_load_with_units_and_codes(
    bundled: Store, comtrade_file: Path
) -> None:
    result = ingest_file(bundled, "comtrade", comtrade_file)
    assert result.rows["trade_flow_monthly"] == KEPT_ROWS
    rows = _rows(
        bundled,
        "SELECT period, reporter_iso3, partner_iso3, flow, hs6, hs_revision, value_usd, "
        "quantity_t, source FROM trade_flow_monthly ORDER BY period, flow, partner_iso3",
    )
    assert {(r[1], r[8]) for r in rows} == {("CAN", "UN Comtrade")}
    by_key = {(r[0], r[2], r[3], r[4]): r for r in rows}
    # synthetic row 2: netWgt 12000 kg -> 12 t, primaryValue 480000 USD
    china = by_key[(date(2023, 1, 1), "CHN", "import", "282200")]
    assert china[6] == pytest.approx(480000.0)
    assert china[7] == pytest.approx(12.0)
    assert china[5] == "HS17"
    # 490 "Other Asia, nes" (S19) is Taiwan; 842 is the USA; 392 without ISO -> JPN via M49
    partners = {r[2] for r in rows}
    assert partners == {"CHN", "USA", "TWN", "JPN"}
    export = by_key[(date(2023, 1, 1), "USA", "export", "260500")]
    assert export[7] == pytest.approx(250.0)
    # a row without net weight keeps its value, quantity null
    assert by_key[(date(2023, 2, 1), "USA", "import", "282200")][7] is None
    # World, areas nes, re-imports, the HS4 row and the transport-mode breakdown are dropped
    assert not {"WLD", "_X"} & partners


def test_non_hs92_products_are_upserted_with_comtrade_descriptions(
    bundled: Store, comtrade_file: Path
) -> None:
    ingest_file(bundled, "comtrade", comtrade_file)
    products = dict(
        (r[0], r[1])
        for r in _rows(
            bundled,
            "SELECT hs6, description FROM product WHERE hs_revision = 'HS17' "
            "AND hs6 IN ('282200', '260500')",
        )
    )
    assert products == {
        "282200": "Cobalt oxides and hydroxides; commercial cobalt oxides",
        "260500": "Cobalt ores and concentrates",
    }
    source = _rows(bundled, "SELECT cut, licence_class FROM source WHERE source_id LIKE "
                            "'un-comtrade-monthly-%'")  # fmt: skip
    assert len(source) == 1
    assert "partners that are no country" in str(source[0][0])
    assert source[0][1] == "B"


def test_gzip_zip_and_tab_separated_forms(
    bundled: Store, comtrade_file: Path, tmp_path: Path
) -> None:
    text = comtrade_file.read_text(encoding="utf-8")
    gz = tmp_path / (NAME + ".gz")
    gz.write_bytes(gzip.compress(text.encode("utf-8")))
    assert ingest_file(bundled, "comtrade", gz).rows["trade_flow_monthly"] == KEPT_ROWS
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(NAME, text)
    assert ingest_file(bundled, "comtrade", archive).rows["trade_flow_monthly"] == KEPT_ROWS
    tabbed = tmp_path / "tabbed.txt"
    records = list(csv.reader(io.StringIO(text)))
    tabbed.write_text("".join("\t".join(r) + "\n" for r in records), encoding="utf-8")
    assert ingest_file(bundled, "comtrade", tabbed).rows["trade_flow_monthly"] == KEPT_ROWS
    # every form replaced the same rows: no duplicates
    assert _rows(bundled, "SELECT count(*) FROM trade_flow_monthly") == [(KEPT_ROWS,)]


def test_reingest_replaces_instead_of_duplicating(bundled: Store, comtrade_file: Path) -> None:
    ingest_file(bundled, "comtrade", comtrade_file)
    before = table_snapshot(bundled, "trade_flow_monthly")
    ingest_file(bundled, "comtrade", comtrade_file)
    assert table_snapshot(bundled, "trade_flow_monthly") == before


def _edit(path: Path, line: int, old: str, new: str) -> None:
    """Edit one line of the (synthetic) fixture to make a bad-input case."""
    lines = _lines(path)
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")


def _drop_column(path: Path) -> None:
    path.write_text(path.read_text().replace(",primaryValue,", ",primaryValu,", 1))


Damage = Callable[[Path], None]
BAD_CASES: dict[str, tuple[Damage, int, str | None]] = {
    "missing column": (_drop_column, 1, None),
    "non-numeric value": (lambda p: _edit(p, 3, ",135000,0,True", ",1.3e5x,0,True"), 3,
                          "primaryValue"),
    "non-numeric weight": (lambda p: _edit(p, 2, ",12000,False,12000,False,480000",
                                           ",12t,False,12000,False,480000"), 2, "netWgt"),
    "unknown country": (lambda p: _edit(p, 2, ",156,CHN,China,", ",999,QQQ,Nowhere,"), 2,
                        "partnerISO"),
    "unknown reporter": (lambda p: _edit(p, 3, ",124,CAN,Canada,", ",998,ZZZ,Nowhere,"), 3,
                         "reporterISO"),
    "bad period": (lambda p: _edit(p, 2, ",202301,124,", ",202313,124,"), 2, "period"),
    "not HS": (lambda p: _edit(p, 2, ",H5,HS,", ",S4,SITC,"), 2, "classificationCode"),
    "negative value": (lambda p: _edit(p, 3, ",135000,0,True", ",-135000,0,True"), 3,
                       "primaryValue"),
    "duplicate key": (lambda p: p.write_text(p.read_text() + _lines(p)[1]), 14, None),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_names_file_row_column_and_loads_nothing(
    case: str, bundled: Store, comtrade_file: Path
) -> None:
    ingest_file(bundled, "comtrade", comtrade_file)
    before = {t: table_snapshot(bundled, t) for t in ("trade_flow_monthly", "product", "source")}
    damage, row, column = BAD_CASES[case]
    damage(comtrade_file)
    with pytest.raises(InputError) as raised:
        ingest_file(bundled, "comtrade", comtrade_file)
    message = str(raised.value)
    assert NAME in message
    assert raised.value.row == row
    if column:
        assert raised.value.column == column
        assert f"column {column!r}" in message
    assert "\n" not in message
    assert {t: table_snapshot(bundled, t) for t in before} == before


def test_empty_file_and_header_only(bundled: Store, comtrade_file: Path) -> None:
    before = table_snapshot(bundled, "trade_flow_monthly")
    header = _lines(comtrade_file)[0]
    comtrade_file.write_text("")
    with pytest.raises(InputError, match=rf"{NAME}.*empty"):
        ingest_file(bundled, "comtrade", comtrade_file)
    comtrade_file.write_text(header)
    with pytest.raises(InputError, match=rf"{NAME}.*no data rows"):
        ingest_file(bundled, "comtrade", comtrade_file)
    assert table_snapshot(bundled, "trade_flow_monthly") == before


def test_only_dropped_rows_is_an_error(bundled: Store, comtrade_file: Path) -> None:
    lines = _lines(comtrade_file)
    comtrade_file.write_text(lines[0] + lines[4] + lines[5])  # World and areas nes only
    with pytest.raises(InputError, match="no monthly HS6"):
        ingest_file(bundled, "comtrade", comtrade_file)


def test_bad_gzip_and_bad_zip(bundled: Store, comtrade_file: Path, tmp_path: Path) -> None:
    before = table_snapshot(bundled, "trade_flow_monthly")
    truncated = tmp_path / (NAME + ".gz")
    truncated.write_bytes(gzip.compress(comtrade_file.read_bytes())[:200])
    with pytest.raises(InputError, match=r"\.gz: not a readable gzip file"):
        ingest_file(bundled, "comtrade", truncated)
    not_gzip = tmp_path / "plain.csv.gz"
    not_gzip.write_bytes(comtrade_file.read_bytes())
    with pytest.raises(InputError, match="not a readable gzip file"):
        ingest_file(bundled, "comtrade", not_gzip)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="not a readable zip archive"):
        ingest_file(bundled, "comtrade", broken)
    assert table_snapshot(bundled, "trade_flow_monthly") == before
