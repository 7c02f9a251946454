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
from chainwatch.services import metrics, reference
from chainwatch.services.defaults import default_year
from chainwatch.services.metrics import DEFAULT_BLOC, EngineSpec
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle


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
    return reference.sources(open_store(store))


def dependency_metrics(
    perspective: str,
    years: int | Sequence[int] | None = None,
    material: str | None = None,
    hs6: str | None = None,
    stage: str | None = None,
    bloc: str = DEFAULT_BLOC,
    store: Path | str | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    lake: Path | str | None = None,
) -> pd.DataFrame:
    """Every metric for a perspective (ISO3 or group), tidy, with method and sources; ``years``
    None: the default year (the latest with trade and production figures, as the CLI, the
    risk table and the pages).

    ``engine``: "duckdb" (default) or "spark" (``spark_master``: a Spark master URL, default
    ``local[2]``); ``lake``: read a Parquet lake (``chainwatch export lake``) instead of the
    store - on a cluster, a path every executor sees."""
    spec = EngineSpec(kind=engine, spark_master=spark_master, lake=_lake(lake))
    ready = open_store(store) if spec.lake is None else Store(store)
    chosen = default_year(ready, spec) if years is None else years
    return metrics.dependency_metrics(ready, perspective, chosen, material, hs6, stage, bloc,
                                      engine=spec)  # fmt: skip


def risk_table(
    perspective: str,
    year: int | None = None,
    bloc: str = DEFAULT_BLOC,
    store: Path | str | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    lake: Path | str | None = None,
) -> pd.DataFrame:
    """All materials ranked by supply risk for a perspective, with the criteria that flag them;
    ``year`` None: the default year (as :func:`dependency_metrics`).

    ``engine``, ``spark_master`` and ``lake``: as for :func:`dependency_metrics`."""
    spec = EngineSpec(kind=engine, spark_master=spark_master, lake=_lake(lake))
    ready = open_store(store) if spec.lake is None else Store(store)
    chosen = default_year(ready, spec) if year is None else year
    return metrics.risk_table(ready, perspective, chosen, bloc, engine=spec)


def _lake(lake: Path | str | None) -> Path | None:
    return None if lake is None else Path(lake)


def add_texts(paths: Sequence[Path | str], store: Path | str | None = None) -> pd.DataFrame:
    """Add press texts to the partnership tracker (all or none); one row per text."""
    from chainwatch.services import partnerships as tracker  # spaCy: only when used

    with tracker.tracker_state(open_store(store)) as state:
        added = tracker.add_texts(state, [Path(p) for p in paths], actor="python")
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
    from chainwatch.services import partnerships as tracker  # spaCy: only when used

    with tracker.tracker_state(open_store(store)) as state:
        records = tracker.stored_records(state)
    return tracker.partnerships_frame(
        tracker.filter_partnerships(records, theme, party, material=material)
    )


def partnership_coverage(
    perspective: str,
    year: int | None = None,
    top: int = 15,
    store: Path | str | None = None,
) -> pd.DataFrame:
    """The perspective's most exposed materials and the partnerships covering each."""
    from chainwatch.services import partnerships as tracker  # spaCy: only when used

    ready = open_store(store)
    with tracker.tracker_state(ready) as state:
        frame, _ = tracker.coverage_frame(None, ready, state, perspective, year, top)
    return frame
