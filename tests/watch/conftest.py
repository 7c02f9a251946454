"""Fixtures of the monitor's tests: the bundled real data in a store (built once)."""

from __future__ import annotations

import pytest

from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle


@pytest.fixture(scope="session")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The bundled real data set loaded into a temporary store."""
    store = Store(tmp_path_factory.mktemp("watch") / "chainwatch.duckdb")
    load_bundle(store)
    return store
