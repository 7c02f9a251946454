"""Partnership-tracker services for the adapters: the records merged over the texts added,
the coverage of a perspective's exposures, and the record shapes the API and pages show.

The tracker's own services (:mod:`chainwatch.partnerships.service`) join extraction and the
app database; this module adds what the adapters share on top of them (the coverage with the
risk table from the result cache) and re-exports the rest, so that no adapter imports the
app database or the text store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from chainwatch.partnerships.gazetteer import load_gazetteer, party_name
from chainwatch.partnerships.model import Partnership
from chainwatch.partnerships.service import (
    AddedText,
    add_text_files,
    calc_partnership_coverage,
    commitments_frame,
    extract_stored,
    filter_partnerships,
    find_partnership,
    partnerships_frame,
    record_document,
    texts_frame,
    themes_frame,
)
from chainwatch.partnerships.text import clean_text
from chainwatch.services import metrics, reference
from chainwatch.services.cache import ResultCache
from chainwatch.store import Store
from chainwatch.store.app_state import AppState
from chainwatch.store.text_store import StoredText, read_text_ids, read_texts

__all__ = [
    "DEFAULT_TOP",
    "AddedText",
    "AppState",
    "StoredText",
    "add_texts",
    "clean_text",
    "commitments_frame",
    "coverage_frame",
    "filter_partnerships",
    "find_partnership",
    "partnerships_frame",
    "party_name",
    "record_document",
    "stored_records",
    "text_ids",
    "texts",
    "texts_frame",
    "theme_labels",
    "themes_frame",
    "tracker_state",
]

DEFAULT_TOP = 15
"""How many of a perspective's most exposed materials the coverage shows by default."""


def tracker_state(store: Store) -> AppState:
    """The app database that holds the tracker's texts, beside ``store`` (close it, or use it
    as a context manager)."""
    return AppState(None, store.path)


def text_ids(state: AppState) -> tuple[str, ...]:
    """The ids of the texts added: the version of the tracker's records."""
    return read_text_ids(state)


def texts(state: AppState) -> list[StoredText]:
    """The texts added, oldest first (raw content included)."""
    return read_texts(state)


def add_texts(state: AppState, paths: Sequence[Path], actor: str) -> list[AddedText]:
    """Add text files to the tracker (all or none)."""
    return add_text_files(state, paths, actor=actor)


def stored_records(state: AppState) -> list[Partnership]:
    """The records merged over the texts added (the extraction caches them by text ids)."""
    return extract_stored(read_texts(state))


def coverage_frame(
    cache: ResultCache | None,
    store: Store,
    state: AppState,
    perspective: str,
    year: int | None,
    top: int,
    bloc: str = metrics.DEFAULT_BLOC,
) -> tuple[pd.DataFrame, int]:
    """The coverage table of the perspective's ``top`` most exposed materials and its year
    (default: the default risk year); the risk table comes from ``cache`` where one is given."""
    chosen = year if year is not None else reference.default_year(store)

    def risk() -> pd.DataFrame:
        return metrics.risk_table(store, perspective, chosen, bloc)

    params = {"perspective": perspective, "year": chosen, "bloc": bloc}
    exposures = cache.get("partnerships.risk", params, risk) if cache is not None else risk()
    frame = calc_partnership_coverage(store, stored_records(state), perspective, chosen, top,
                                      bloc, exposures=exposures)  # fmt: skip
    return frame, chosen


def theme_labels() -> dict[str, str]:
    """Theme id -> label, from the gazetteer's taxonomy."""
    return {theme.id: theme.label for theme in load_gazetteer().taxonomy}
