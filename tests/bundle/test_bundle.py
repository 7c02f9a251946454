"""The bundled data set: complete, mapped, with provenance; rebuildable from shared/data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from chainwatch import schema
from chainwatch.ingest.pipeline import build_bundle
from chainwatch.store.bundle import bundle_directory
from tests.conftest import SHARED_DATA

BACI_PARQUET = (
    SHARED_DATA
    / "baci_cepii_hs92_geopolrisk"
    / "baci_hs92_V202401b_geopolrisk_subset_1995_2024.parquet"
)


def _bundle(table: str) -> str:
    return f"'{bundle_directory() / (table + '.parquet')}'"


def test_every_canonical_table_is_bundled() -> None:
    for name in schema.tables():
        assert (bundle_directory() / f"{name}.parquet").exists(), name


def test_trade_table_has_every_source_flow_and_thirty_years() -> None:
    flows, years, first, last = duckdb.execute(
        f"SELECT count(*), count(DISTINCT year), min(year), max(year) FROM {_bundle('trade_flow')}"
    ).fetchone()  # type: ignore[misc]
    assert (flows, years, first, last) == (1_264_888, 30, 1995, 2024)
    unmapped = duckdb.execute(
        f"SELECT count(*) FROM {_bundle('trade_flow')} t WHERE t.exporter_iso3 NOT IN "
        f"(SELECT iso3 FROM {_bundle('country')}) OR t.importer_iso3 NOT IN "
        f"(SELECT iso3 FROM {_bundle('country')})"
    ).fetchone()
    assert unmapped == (0,)


@pytest.mark.skipif(not BACI_PARQUET.exists(), reason="needs ../shared/data")
def test_every_baci_code_in_the_source_is_mapped_to_iso3() -> None:
    codes = duckdb.execute(
        f"SELECT DISTINCT code FROM (SELECT i AS code FROM '{BACI_PARQUET}' "
        f"UNION SELECT j FROM '{BACI_PARQUET}')"
    ).fetchall()
    mapped = dict(
        duckdb.execute(f"SELECT code, iso3 FROM {_bundle('country_code_concordance')}").fetchall()
    )
    assert {code for (code,) in codes} <= set(mapped)
    assert all(len(mapped[code]) == 3 for (code,) in codes)


def test_provenance_lists_every_source_with_licence() -> None:
    rows = duckdb.execute(
        f"SELECT source_id, licence_class, licence, citation, bundled FROM {_bundle('source')}"
    ).fetchall()
    ids = {row[0] for row in rows}
    assert {"cepii-baci-hs92-v202401b", "usgs-mcs-2022-2023-2024", "worldbank-wgi-2024-update",
            "worldbank-pink-sheet-2025-12-02", "datahub-country-codes"} <= ids  # fmt: skip
    assert {row[1] for row in rows} <= {"A", "D"}, "only class A data and curated lists ship"
    assert all(row[2] and row[3] and row[4] for row in rows)
    assert not any("world-mining" in row[0] for row in rows)


@pytest.mark.slow
@pytest.mark.skipif(not BACI_PARQUET.exists(), reason="needs ../shared/data")
def test_bundle_rebuilds_to_the_same_row_counts(tmp_path: Path) -> None:
    counts = build_bundle(SHARED_DATA, tmp_path)
    for table, rows in counts.items():
        shipped = duckdb.execute(f"SELECT count(*) FROM {_bundle(table)}").fetchone()
        assert shipped == (rows,), table
