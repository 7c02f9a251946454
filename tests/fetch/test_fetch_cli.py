"""``chainwatch data fetch`` end to end against the SYNTHETIC publisher on 127.0.0.1: download,
check, ingest all or nothing; interrupted and resumed; checksum mismatch; server errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from chainwatch.ingest.countries import bundled_resolver
from chainwatch.ingest.wgi import parse_wgi
from chainwatch.store import Store
from tests.conftest import table_snapshot
from tests.fetch.conftest import Cli
from tests.fetch.publisher import (
    WGI_SAMPLE,
    PublisherServer,
    baci_zip,
    pink_workbook,
    small_workbook,
    usgs_zip,
    wgi_workbook,
)

RELEASE = "V202501_SYNTHETIC"
ZIP_NAME = f"BACI_HS22_{RELEASE}.zip"
FETCH_BACI = ("data", "fetch", "baci", "--hs", "HS22", "--release", RELEASE)


@pytest.fixture
def baci_url(publisher: PublisherServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the BACI URL template at the local publisher (as a user's override would)."""
    monkeypatch.setenv("CHAINWATCH_FETCH_URL_BACI", publisher.url("/baci/BACI_{hs}_{release}.zip"))
    return publisher.url(f"/baci/{ZIP_NAME}")


def _snapshot(store: Store) -> list[tuple[int, float]]:
    return [table_snapshot(store, table) for table in ("trade_flow", "product", "source")]


def _hs22_flows(store: Store) -> int:
    with store.connect() as con:
        found = con.execute(
            "SELECT count(*) FROM trade_flow WHERE hs_revision = 'HS22' AND vintage = ?", [RELEASE]
        ).fetchone()
    return int(found[0]) if found else 0


def test_baci_release_is_downloaded_checked_and_loaded(
    cli: Cli, publisher: PublisherServer, baci_url: str, bundled_store: Store, tmp_path: Path
) -> None:
    body = baci_zip(tmp_path / ZIP_NAME)
    publisher.serve(f"/baci/{ZIP_NAME}", body)
    result = cli(*FETCH_BACI, "--store", str(bundled_store.path), "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["sha256"] == hashlib.sha256(body).hexdigest()
    assert (summary["url"], summary["ingested"], summary["resumed_from"]) == (baci_url, True, 0)
    assert summary["source_id"] == "cepii-baci-hs22-v202501_synthetic"
    assert summary["rows"]["trade_flow"] == 52 == _hs22_flows(bundled_store)
    downloads = bundled_store.path.parent / "downloads"
    assert (downloads / f"{ZIP_NAME}.sha256").read_text().split()[0] == summary["sha256"]


def test_interrupted_download_resumes_and_only_the_whole_file_is_loaded(
    cli: Cli, publisher: PublisherServer, baci_url: str, bundled_store: Store, tmp_path: Path
) -> None:
    body = baci_zip(tmp_path / ZIP_NAME)
    half = len(body) // 2
    publisher.serve(f"/baci/{ZIP_NAME}", body, break_after=half)
    before = _snapshot(bundled_store)
    broken = cli(*FETCH_BACI, "--store", str(bundled_store.path), "--quiet")
    assert broken.code == 2 and broken.out == ""
    assert f"broke off after {half:,} bytes" in broken.err and "again to resume" in broken.err
    assert len(broken.err.strip().splitlines()) == 1 and "Traceback" not in broken.err
    assert _snapshot(bundled_store) == before
    part = bundled_store.path.parent / "downloads" / f"{ZIP_NAME}.part"
    assert part.stat().st_size == half
    resumed = cli(*FETCH_BACI, "--store", str(bundled_store.path), "--json")
    assert resumed.code == 0, resumed.err
    assert json.loads(resumed.out)["resumed_from"] == half
    assert publisher.requests[-1][1] == f"bytes={half}-"
    assert _hs22_flows(bundled_store) == 52


@pytest.mark.parametrize("known_in", ["option", "config file"])
def test_checksum_mismatch_ingests_nothing_and_keeps_nothing(
    cli: Cli,
    publisher: PublisherServer,
    baci_url: str,
    bundled_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    known_in: str,
) -> None:
    publisher.serve(f"/baci/{ZIP_NAME}", baci_zip(tmp_path / ZIP_NAME))
    wrong = "ab" * 32  # SYNTHETIC: not the digest of the file served
    extra: tuple[str, ...] = ("--sha256", wrong)
    if known_in == "config file":
        config = tmp_path / "sources.toml"
        config.write_text(f'[baci.sha256]\n"{ZIP_NAME}" = "{wrong}"\n', encoding="utf-8")
        monkeypatch.setenv("CHAINWATCH_FETCH_CONFIG", str(config))
        extra = ()
    before = _snapshot(bundled_store)
    result = cli(*FETCH_BACI, *extra, "--store", str(bundled_store.path), "--quiet")
    assert result.code == 2
    assert "checksum mismatch" in result.err and f"expected {wrong}" in result.err
    assert "nothing was ingested" in result.err and "Traceback" not in result.err
    assert _snapshot(bundled_store) == before
    assert list((bundled_store.path.parent / "downloads").iterdir()) == []


@pytest.mark.parametrize(
    ("status", "says"),
    [(500, "HTTP 500 Internal Server Error: the server failed; try again later"),
     (404, "HTTP 404 Not Found: no such file at the publisher (check --hs and --release")],
)  # fmt: skip
def test_server_error_is_one_clear_line(
    cli: Cli,
    publisher: PublisherServer,
    baci_url: str,
    bundled_store: Store,
    status: int,
    says: str,
) -> None:
    publisher.serve(f"/baci/{ZIP_NAME}", b"", status=status)
    before = _snapshot(bundled_store)
    result = cli(*FETCH_BACI, "--store", str(bundled_store.path), "--quiet")
    assert result.code == 2
    assert result.err.startswith(f"error: {baci_url}: {says}")
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert _snapshot(bundled_store) == before


def test_usgs_release_is_unzipped_and_its_world_tables_loaded(
    cli: Cli,
    publisher: PublisherServer,
    bundled_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = ["mcs2024-lithi_world.csv", "mcs2024-galli_world.csv", "mcs2024-cobal_world.csv"]
    publisher.serve("/sciencebase/world.zip", usgs_zip(tmp_path / "world.zip", names))
    monkeypatch.setenv("CHAINWATCH_FETCH_URL_USGS_MCS", publisher.url("/sciencebase/world.zip"))
    result = cli("data", "fetch", "usgs-mcs", "--store", str(bundled_store.path), "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["ingested"] and summary["rows"]["production"] > 0
    unpacked = bundled_store.path.parent / "downloads" / "mcs2024_world"
    assert sorted(p.name for p in unpacked.iterdir()) == sorted(names)  # the metadata left out


def test_wgi_workbook_is_written_as_the_long_csv_and_loaded(
    cli: Cli,
    publisher: PublisherServer,
    bundled_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    publisher.serve("/wgi/wgidataset.xlsx", wgi_workbook(tmp_path / "wgidataset.xlsx"))
    monkeypatch.setenv("CHAINWATCH_FETCH_URL_WGI", publisher.url("/wgi/wgidataset.xlsx"))
    result = cli("data", "fetch", "wgi", "--store", str(bundled_store.path), "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    direct = parse_wgi(WGI_SAMPLE, bundled_resolver()).tables["governance"]
    assert summary["rows"]["governance"] == direct.num_rows  # type: ignore[union-attr]
    assert summary["source_id"] == "worldbank-wgi-2024-update"
    assert (bundled_store.path.parent / "downloads" / "wgidataset_2024update.csv").exists()


def test_pink_sheet_workbook_is_loaded_as_published(
    cli: Cli,
    publisher: PublisherServer,
    bundled_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workbook = pink_workbook(tmp_path / "CMO-Historical-Data-Monthly.xlsx")
    publisher.serve("/pink/CMO-Historical-Data-Monthly.xlsx", workbook)
    monkeypatch.setenv(
        "CHAINWATCH_FETCH_URL_PINK_SHEET", publisher.url("/pink/CMO-Historical-Data-Monthly.xlsx")
    )
    result = cli("data", "fetch", "pink-sheet", "--store", str(bundled_store.path), "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["rows"]["price"] > 0 and "2025-12-02" in summary["source_id"]


def test_world_mining_data_is_downloaded_but_not_ingested(
    cli: Cli,
    publisher: PublisherServer,
    bundled_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = small_workbook(tmp_path / "wmd.xlsx")
    publisher.serve("/wmd/6.4.xlsx", body)
    monkeypatch.setenv("CHAINWATCH_FETCH_URL_WMD", publisher.url("/wmd/6.4.xlsx"))
    before = _snapshot(bundled_store)
    result = cli("data", "fetch", "wmd", "--store", str(bundled_store.path), "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert not summary["ingested"] and summary["note"].startswith("not ingested:")
    assert summary["sha256"] == hashlib.sha256(body).hexdigest()
    assert _snapshot(bundled_store) == before


def test_sources_command_lists_each_publisher_url_with_overrides(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAINWATCH_FETCH_URL_WGI", "http://127.0.0.1:9/wgi.xlsx")
    result = cli("data", "sources", "--format", "json")
    assert result.code == 0, result.err
    listed = {row["source"]: row for row in json.loads(result.out)}
    assert set(listed) == {"baci", "wgi", "pink-sheet", "usgs-mcs", "wmd"}
    assert listed["wgi"]["url"] == "http://127.0.0.1:9/wgi.xlsx"
    assert listed["baci"]["url"].startswith("https://www.cepii.fr/DATA_DOWNLOAD/baci/data/")
    assert listed["wmd"]["ingest"] == "(download only)"


def test_unknown_revision_is_refused_before_any_download(
    cli: Cli, publisher: PublisherServer, baci_url: str, bundled_store: Store
) -> None:
    result = cli("data", "fetch", "baci", "--hs", "HS99", "--store", str(bundled_store.path))
    assert result.code == 2 and "--hs: 'HS99' is not one of HS92" in result.err
    assert publisher.requests == []


def test_human_output_names_the_file_its_digest_and_what_happened(
    cli: Cli,
    publisher: PublisherServer,
    bundled_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = small_workbook(tmp_path / "wmd.xlsx")
    publisher.serve("/wmd/6.4.xlsx", body)
    monkeypatch.setenv("CHAINWATCH_FETCH_URL_WMD", publisher.url("/wmd/6.4.xlsx"))
    digest = hashlib.sha256(body).hexdigest()
    first = cli("data", "fetch", "wmd", "--store", str(bundled_store.path))
    assert first.code == 0, first.err
    assert f"downloaded, {len(body):,} bytes, sha256 {digest}" in first.out
    assert "not ingested:" in first.out
    again = cli("data", "fetch", "wmd", "--store", str(bundled_store.path))
    assert again.code == 0 and "already downloaded" in again.out
    assert len(publisher.requests) == 1
