"""The material <-> HS6 <-> stage table across HS revisions (reference/material_hs6.csv).

Part 1 checks the table against the code lists (HS 1992: CEPII's own table; HS 2022: a cut of
the HS 2022 nomenclature) and pins the mapping defects of issue 11. Part 2 loads a SYNTHETIC
HS22-format BACI release into a store and follows the HS 2007+ products into the metrics, the
risk table, the material page and the monitor's alerts.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from chainwatch import schema
from chainwatch.api.app import create_app
from chainwatch.api.middleware import allowed_hosts
from chainwatch.cli.main import app as cli_app
from chainwatch.errors import InputError
from chainwatch.ingest.pipeline import ingest_file
from chainwatch.ingest.reference_lists import bundled_material_mapping, parse_material_products
from chainwatch.services import metrics as services
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from chainwatch.store.load import load_parsed
from chainwatch.watch.monitor import calc_alerts
from tests.conftest import FIXTURES, SHARED_DATA

MAPPING = bundled_material_mapping()
CONCORDANCE = Path(str(resources.files("chainwatch.reference").joinpath("materials.csv")))
REVISIONS = list(schema.table("material_product").column("hs_revision").allowed_values)
HS92_CODES = FIXTURES / "baci" / "release" / "product_codes_HS92_V202401b.csv"
HS22_CUT = FIXTURES / "hs" / "hs2022_subheadings_cut.csv"
SYNTHETIC_RELEASE = FIXTURES / "baci_hs22_synthetic"


def _span(text: str) -> list[str]:
    ends = text.split("-")
    return REVISIONS[REVISIONS.index(ends[0]) : REVISIONS.index(ends[-1]) + 1]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    with MAPPING.open(encoding="utf-8", newline="") as handle:
        return [{**row, "span": _span(row["revisions"])} for row in csv.DictReader(handle)]


def _codes(path: Path, code: str) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row[code].zfill(6): row["description"] for row in csv.DictReader(handle)}


def _mapped(rows: list[dict[str, Any]], material: str, hs6: str) -> dict[str, dict[str, Any]]:
    """revision -> row for one material and code."""
    return {r: row for row in rows if (row["material"], row["hs6"]) == (material, hs6)
            for r in row["span"]}  # fmt: skip


# --- part 1: the table itself -------------------------------------------------------------------


def test_every_hs1992_code_is_in_the_hs1992_code_list(rows: list[dict[str, Any]]) -> None:
    hs92 = _codes(HS92_CODES, "code")
    for row in (r for r in rows if "HS92" in r["span"]):
        assert row["hs6"] in hs92, row
        if "HS22" not in row["span"]:
            assert row["description"] == hs92[row["hs6"]], row


def test_every_hs2022_code_is_in_the_hs2022_nomenclature(rows: list[dict[str, Any]]) -> None:
    hs22 = _codes(HS22_CUT, "hscode")
    for row in (r for r in rows if "HS22" in r["span"]):
        assert row["description"] == hs22.get(row["hs6"]), row


def test_each_stage_keeps_codes_in_every_revision_after_its_first(
    rows: list[dict[str, Any]],
) -> None:
    covered: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        covered[(row["material"], row["stage"])].update(row["span"])
    for key, revisions in covered.items():
        first = min(REVISIONS.index(r) for r in revisions)
        assert revisions == set(REVISIONS[first:]), key


@pytest.mark.parametrize(
    ("hs6", "first", "last"),
    [("850760", "HS12", "HS22"), ("870380", "HS17", "HS22"), ("848620", "HS07", "HS22"),
     ("854231", "HS07", "HS22"), ("811292", "HS07", "HS22"), ("252800", "HS07", "HS22"),
     ("810520", "HS02", "HS22"), ("811010", "HS02", "HS22"), ("854141", "HS22", "HS22"),
     ("810610", "HS22", "HS22"), ("811230", "HS92", "HS02"), ("854140", "HS92", "HS17"),
     ("810600", "HS92", "HS17"), ("252400", "HS92", "HS12"), ("811000", "HS92", "HS96")],
)  # fmt: skip
def test_codes_are_mapped_only_in_the_revisions_that_have_them(
    rows: list[dict[str, Any]], hs6: str, first: str, last: str
) -> None:
    spans = {r for row in rows if row["hs6"] == hs6 for r in row["span"]}
    assert spans == set(REVISIONS[REVISIONS.index(first) : REVISIONS.index(last) + 1])


def test_tellurium_code_is_shared_with_boron_and_never_counted(
    rows: list[dict[str, Any]],
) -> None:
    tellurium = [row for row in rows if row["material"] == "tellurium"]
    assert [(r["hs6"], r["role"], r["shares_with"]) for r in tellurium] == [
        ("280450", "shared", "boron")
    ]
    assert set(tellurium[0]["span"]) == set(REVISIONS)


def test_silicon_metal_is_2804_69_and_polysilicon_is_not_counted_as_silicon(
    rows: list[dict[str, Any]],
) -> None:
    silicon = _mapped(rows, "silicon", "280469")
    assert set(silicon) == set(REVISIONS)
    assert {(r["stage"], r["role"]) for r in silicon.values()} == {("refinery", "primary")}
    assert _mapped(rows, "silicon", "280461") == {}
    assert set(_mapped(rows, "semiconductors", "280461")) == set(REVISIONS)


def test_germanium_oxide_code_is_shared_with_zirconium(rows: list[dict[str, Any]]) -> None:
    oxides = _mapped(rows, "germanium", "282560")
    assert set(oxides) == set(REVISIONS)
    assert {(r["role"], r["shares_with"]) for r in oxides.values()} == {("shared", "zirconium")}
    counted = {r: row["hs6"] for row in rows if row["material"] == "germanium"
               and row["role"] != "shared" for r in row["span"]}  # fmt: skip
    assert set(counted) == set(REVISIONS)  # the metal (HS92-HS02), then the 81.12 basket


def test_other_code_corrections(rows: list[dict[str, Any]]) -> None:
    assert set(_mapped(rows, "antimony", "811000")) == {"HS92", "HS96"}
    assert {r["stage"] for r in _mapped(rows, "tungsten", "810110").values()} == {"refinery"}
    assert {r["role"] for r in _mapped(rows, "lithium", "253090").values()} == {"basket"}
    assert {(r["stage"], r["role"]) for r in _mapped(rows, "gold", "261690").values()} == {
        ("mine", "shared")
    }


def test_parse_gives_a_product_for_every_code_and_revision_mapped() -> None:
    parsed = parse_material_products(CONCORDANCE)
    links, products = parsed.tables["material_product"], parsed.tables["product"]
    assert isinstance(links, pa.Table) and isinstance(products, pa.Table)
    linked = set(zip(links["hs6"].to_pylist(), links["hs_revision"].to_pylist(), strict=True))
    offered = set(zip(products["hs6"].to_pylist(), products["hs_revision"].to_pylist(),
                      strict=True))  # fmt: skip
    assert linked == offered and set(links["hs_revision"].to_pylist()) == set(REVISIONS)
    valid = dict(zip(products["hs6"].to_pylist(), products["valid_revisions"].to_pylist(),
                     strict=True))  # fmt: skip
    assert (valid["850760"], valid["280450"]) == ("HS2012-HS2022", "HS1992-HS2022")
    assert parsed.replacements[0].where == {"hs_revision": REVISIONS}
    assert "material_product" not in parsed.upserts  # the load replaces the whole table


@pytest.mark.parametrize(
    ("column", "old", "new", "says"),
    [("material", "tellurium", "unobtainium", "unknown material 'unobtainium'"),
     ("revisions", "HS92-HS22", "HS22-HS92", "revisions run backwards"),
     ("revisions", "HS92-HS22", "HS1992-HS2022", "not a span of HS revisions"),
     ("shares_with", "boron", "", "a shared code must say what else it holds"),
     ("role", "shared", "main", "'main' is not one of primary, additional, basket, shared")],
)  # fmt: skip
def test_bad_mapping_row_is_named_by_row_and_column(
    tmp_path: Path, column: str, old: str, new: str, says: str
) -> None:
    with MAPPING.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    line = next(i for i, row in enumerate(table) if row["material"] == "tellurium")
    table[line][column] = table[line][column].replace(old, new)  # SYNTHETIC edit
    edited = tmp_path / "material_hs6.csv"
    with edited.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    with pytest.raises(InputError, match=says) as raised:
        parse_material_products(CONCORDANCE, edited)
    assert (raised.value.row, raised.value.column) == (line + 2, column)


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="needs ../shared/data")
def test_every_pair_of_the_source_lists_is_kept_or_a_recorded_deviation(
    rows: list[dict[str, Any]],
) -> None:
    pairs = {(row["material"], row["hs6"]) for row in rows}
    with CONCORDANCE.open(encoding="utf-8", newline="") as handle:
        by_name = {row["geopolrisk_name"].lower(): row["material"]
                   for row in csv.DictReader(handle) if row["geopolrisk_name"]}  # fmt: skip
    mapping = SHARED_DATA / "geopolrisk_docs" / "raw_material_hs_code_mapping.csv"
    with mapping.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            codes = [row["HS Code"], *row["HS Code - Additional"].split(";")]
            material = by_name.get(row["Raw Material"].lower())
            for code in (c.strip() for c in codes if c.strip().isdigit()):
                assert material is None or (material, code.zfill(6)) in pairs, (material, code)
    deviations = {("silicon", "280461"): "polysilicon, tracked with semiconductors",
                  ("antimony", "811010"): "kept, but from HS2002 only"}  # fmt: skip
    strategic = SHARED_DATA / "curated_reference_lists" / "strategic_hs6_codes.csv"
    with strategic.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for material in (m.strip() for m in row["material_group"].split(",")):
                pair = (material, row["hs6"].zfill(6))
                assert pair in pairs or pair in deviations, pair


# --- part 2: a SYNTHETIC HS22 release, end to end -----------------------------------------------


@pytest.fixture(scope="module")
def hs22_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The bundled data set with the new mapping, its HS92 flows cut to cobalt oxides and
    metal (so HS92 and the SYNTHETIC HS22 release overlap on cobalt in 2022-2023), and the
    SYNTHETIC HS22 release loaded through the ingest path."""
    store = Store(tmp_path_factory.mktemp("hs22") / "chainwatch.duckdb")
    load_bundle(store)
    with store.writing() as con:
        load_parsed(con, parse_material_products(CONCORDANCE))
        con.execute("DELETE FROM trade_flow WHERE NOT (hs6 IN ('282200', '810510') "
                    "AND year BETWEEN 2019 AND 2023)")  # fmt: skip
    release = tmp_path_factory.mktemp("release") / "BACI_HS22"
    shutil.copytree(SYNTHETIC_RELEASE, release)
    loaded = ingest_file(store, "baci", release)
    assert loaded.rows["trade_flow"] == 52
    return store


def _imports(store: Store, material: str, year: int = 2023) -> dict[str, Any]:
    frame = services.dependency_metrics(store, "EU27", year, material=material)
    rows = frame[frame["metric"] == "imports_value_usd"]
    return {stage: (value, detail, sources)
            for stage, value, detail, sources in zip(rows["stage"], rows["value"],
                                                     rows["detail"], rows["sources"],
                                                     strict=True)}  # fmt: skip


@pytest.mark.parametrize(
    ("material", "stage", "usd"),
    [("batteries", "component", 2_000e6), ("semiconductors", "component", 1_530e6),
     ("electric vehicles", "end_product", 1_150e6), ("rare earths", "component", 590e6),
     ("gallium", "refinery", 45e6), ("nickel", "refinery", 1_260e6),
     ("nickel", "intermediate", 0.0), ("cobalt", "mine", 0.0)],
)  # fmt: skip
def test_hs22_products_light_up_in_the_metrics(
    hs22_store: Store, material: str, stage: str, usd: float
) -> None:
    value, _, sources = _imports(hs22_store, material)[stage]
    assert value == pytest.approx(usd)  # SYNTHETIC flows into EU27, flows inside it left out
    assert "V202501_SYNTHETIC" in sources


def test_shared_codes_are_not_counted(hs22_store: Store) -> None:
    value, detail, _ = _imports(hs22_store, "tellurium")["refinery"]
    assert value is None or value != value  # not computable: 2804.50 is boron's code too
    assert "tellurium" in detail
    germanium, _, _ = _imports(hs22_store, "germanium")["refinery"]
    assert germanium == pytest.approx(45e6)  # the 81.12 basket only, not 2825.60


def test_a_year_in_two_revisions_is_counted_once(hs22_store: Store) -> None:
    value, _, _ = _imports(hs22_store, "cobalt")["refinery"]
    assert value == pytest.approx(35e6)  # the HS22 flow; the HS92 flows of 2023 set aside
    earlier, _, earlier_sources = _imports(hs22_store, "cobalt", 2021)["refinery"]
    assert earlier > 0 and "V202401b" in earlier_sources and "SYNTHETIC" not in earlier_sources


def test_cli_metrics_and_risk_show_the_hs22_products(hs22_store: Store) -> None:
    runner = CliRunner()
    store = ["--store", str(hs22_store.path), "--format", "json"]
    asked = ["--as", "EU27", "--material", "batteries", "--year", "2023"]
    metrics = runner.invoke(cli_app, ["metrics", *asked, "--metric", "imports_value_usd", *store])
    assert metrics.exit_code == 0, metrics.output
    assert json.loads(metrics.output)[0]["value"] == pytest.approx(2_000e6)
    risk = runner.invoke(cli_app, ["risk", "--as", "EU27", "--year", "2023", *store])
    assert risk.exit_code == 0, risk.output
    table = {row["material"]: row for row in json.loads(risk.output)}
    assert table["gallium"]["imports_value_usd"] == pytest.approx(45e6)
    assert table["tellurium"]["imports_value_usd"] is None


@pytest.fixture(scope="module")
def page_client(hs22_store: Store) -> Iterator[partial[httpx.Response]]:
    application = create_app(hs22_store.path, hosts=allowed_hosts(extra=["testserver"]))
    with anyio.from_thread.start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                                   base_url="http://testserver")  # fmt: skip
        yield partial(portal.call, client.get)  # type: ignore[arg-type]
        portal.call(client.aclose)


def test_material_page_shows_the_hs22_suppliers(page_client: partial[httpx.Response]) -> None:
    page = page_client("/material/batteries?perspective=EU27&year=2023")
    assert page.status_code == 200, page.text[:500]
    assert "850760" in page.text and "China" in page.text


def test_monitor_alerts_on_an_hs22_product(hs22_store: Store) -> None:
    alerts = calc_alerts(hs22_store, 2023, "EU27", "batteries")
    found = [a for a in alerts if a.rule_id == "new-dominant-supplier"]
    assert len(found) == 1
    assert (found[0].material, found[0].stage, found[0].value) == ("batteries", "component", 0.75)
