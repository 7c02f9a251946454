"""The Python API: the same services the CLI calls, returning DataFrames.

>>> import chainwatch
>>> chainwatch.build_store()                      # bundled real data -> DuckDB store
>>> chainwatch.dependency_metrics("CAN", 2023, material="cobalt")
>>> chainwatch.risk_table("ALLIED", 2023)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from chainwatch.ingest.pipeline import ingest_file as _ingest_file
from chainwatch.metrics.risk import calc_risk_table
from chainwatch.metrics.service import DEFAULT_BLOC, calc_metrics
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from chainwatch.store.queries import read_sources


def open_store(path: Path | str | None = None) -> Store:
    """The store at ``path`` (default: $CHAINWATCH_STORE or the user data directory),
    built from the bundled data on first use."""
    store = Store(path)
    if not store.exists():
        load_bundle(store)
    return store


def build_store(path: Path | str | None = None) -> dict[str, int]:
    """(Re)build the store from the bundled real data set; returns rows per table."""
    return load_bundle(Store(path))


def ingest_file(kind: str, path: Path | str, store: Path | str | None = None) -> dict[str, int]:
    """Load a publisher's file (kinds: baci, usgs-mcs, wgi, pink-sheet, wmd, ...)."""
    return _ingest_file(open_store(store), kind, Path(path)).rows


def list_sources(store: Path | str | None = None) -> pd.DataFrame:
    """Provenance of every data set in the store."""
    return read_sources(open_store(store))


def dependency_metrics(
    perspective: str,
    years: int | Sequence[int] | None = None,
    material: str | None = None,
    hs6: str | None = None,
    stage: str | None = None,
    bloc: str = DEFAULT_BLOC,
    store: Path | str | None = None,
) -> pd.DataFrame:
    """Every metric for a perspective (ISO3 or group), tidy, with method and sources."""
    return calc_metrics(open_store(store), perspective, years, material, hs6, stage, bloc)


def risk_table(
    perspective: str,
    year: int | None = None,
    bloc: str = DEFAULT_BLOC,
    store: Path | str | None = None,
) -> pd.DataFrame:
    """All materials ranked by supply risk for a perspective, with the criteria that flag them."""
    return calc_risk_table(open_store(store), perspective, year, bloc)


def add_texts(paths: Sequence[Path | str], store: Path | str | None = None) -> pd.DataFrame:
    """Add press texts to the partnership tracker (all or none); one row per text."""
    from chainwatch.partnerships.service import add_text_files
    from chainwatch.store.app_state import AppState

    with AppState(None, open_store(store).path) as state:
        added = add_text_files(state, [Path(p) for p in paths], actor="python")
    return pd.DataFrame(
        [{"id": a.text.id, "name": a.text.name, "added": a.text.added_now,
          "instruments": "; ".join(a.instruments)} for a in added]
    )  # fmt: skip


def partnership_records(
    theme: str | None = None,
    party: str | None = None,
    material: str | None = None,
    store: Path | str | None = None,
) -> pd.DataFrame:
    """The partnership records read from the texts added so far, one row each."""
    from chainwatch.partnerships.service import (
        filter_partnerships,
        partnerships_frame,
        read_partnerships,
    )
    from chainwatch.store.app_state import AppState

    with AppState(None, open_store(store).path) as state:
        records = read_partnerships(state)
    return partnerships_frame(filter_partnerships(records, theme, party, material=material))


def partnership_coverage(
    perspective: str,
    year: int | None = None,
    top: int = 15,
    store: Path | str | None = None,
) -> pd.DataFrame:
    """The perspective's most exposed materials and the partnerships covering each."""
    from chainwatch.partnerships.service import calc_partnership_coverage, read_partnerships
    from chainwatch.store.app_state import AppState
    from chainwatch.store.queries import default_risk_year

    ready = open_store(store)
    with AppState(None, ready.path) as state:
        records = read_partnerships(state)
    chosen = year if year is not None else default_risk_year(ready)
    return calc_partnership_coverage(ready, records, perspective, chosen, top)
