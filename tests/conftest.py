"""Shared fixtures: fresh stores in temporary directories, paths to fixture files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chainwatch.ingest.pipeline import countries_source
from chainwatch.store import Store
from chainwatch.store.load import load_parsed

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A new store holding only the country reference table."""
    fresh = Store(tmp_path / "store" / "chainwatch.duckdb")
    with fresh.writing() as con:
        load_parsed(con, countries_source())
    return fresh


@pytest.fixture
def baci_release(tmp_path: Path) -> Path:
    """A writable copy of the BACI fixture release (real rows, CEPII layout)."""
    target = tmp_path / "baci"
    shutil.copytree(FIXTURES / "baci" / "release", target)
    return target


def table_snapshot(store: Store, table: str) -> tuple[int, float]:
    """(row count, a checksum) of a table, to prove a failed load changed nothing."""
    with store.connect() as con:
        count, checksum = con.execute(
            f"SELECT count(*), coalesce(sum(hash(t) % 1000003), 0) FROM {table} t"
        ).fetchone()
    return int(count), float(checksum)
