"""Running a computation on the engine a caller chose (``--engine``, ``--lake``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chainwatch.store import Store
from chainwatch.store.engine import DUCKDB, EngineSpec, open_engine
from chainwatch.store.relations import Relations, Source

T = TypeVar("T")


def on_engine(store: Store, engine: EngineSpec, compute: Callable[[Source], T]) -> T:
    """``compute`` over the store itself (the default spec: DuckDB over the store file) or
    over relations on the engine ``engine`` names, opened for this call and closed after."""
    if engine == DUCKDB:
        return compute(store)
    with open_engine(store, engine) as opened:
        return compute(Relations(opened))
