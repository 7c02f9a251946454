"""Engines for the parity suite: DuckDB and Spark (local mode) over one lake of the bundled
real data set, started once per test session.

The lake holds the whole bundled data set (1995-2024 trade of the bundled HS6 codes, USGS,
WGI, prices, restriction events): every definition runs on real data. Spark local mode uses
two cores, as CI does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from chainwatch.store.engine import DuckDBEngine, Engine, SparkEngine
from chainwatch.store.lake import write_lake

ENGINE_KINDS = ("duckdb", "spark")


@pytest.fixture(scope="session")
def bundled_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled data set, loaded into a store and written as a lake."""
    store = Store(tmp_path_factory.mktemp("parity-store") / "chainwatch.duckdb")
    load_bundle(store)
    lake = tmp_path_factory.mktemp("parity-lake")
    write_lake(store, lake)
    return lake


@pytest.fixture(scope="session")
def spark_engine(bundled_lake: Path) -> Iterator[Engine]:
    engine = SparkEngine(bundled_lake, "local[2]")
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def duckdb_engine(bundled_lake: Path) -> Iterator[Engine]:
    engine = DuckDBEngine(lake=bundled_lake)
    yield engine
    engine.close()


@pytest.fixture(params=ENGINE_KINDS)
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each engine in turn (the ibis way: one parametrised fixture, every backend)."""
    found: Engine = request.getfixturevalue(f"{request.param}_engine")
    return found


@pytest.fixture
def engines(duckdb_engine: Engine, spark_engine: Engine) -> tuple[Engine, Engine]:
    return duckdb_engine, spark_engine
