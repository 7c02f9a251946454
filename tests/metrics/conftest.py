"""Fixtures of the metric tests: a template store (real country table only) and the bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainwatch.ingest.pipeline import countries_source
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from chainwatch.store.load import load_parsed


@pytest.fixture(scope="session")
def country_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file holding only the real country table; synthetic stores start as copies."""
    store = Store(tmp_path_factory.mktemp("template") / "chainwatch.duckdb")
    with store.writing() as con:
        load_parsed(con, countries_source())
    return store.path


@pytest.fixture(scope="session")
def bundled_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The bundled real data set loaded into a temporary store (built once per session)."""
    store = Store(tmp_path_factory.mktemp("bundle") / "chainwatch.duckdb")
    load_bundle(store)
    return store
