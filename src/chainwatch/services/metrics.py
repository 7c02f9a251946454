"""Metric services: every metric of a perspective, the risk ranking, import and production
series and a country's profile, on the engine a caller chooses.

With the default spec (DuckDB over the store file) the store goes straight to the metric
function, which opens its own engine; any other spec (Spark, a Parquet lake) opens one engine
for the call and hands the metric function :class:`~chainwatch.store.relations.Relations` on
it. The metric modules compute; these functions only choose what they read from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pandas as pd

from chainwatch.metrics.methods import METHODS
from chainwatch.metrics.risk import EU_CRITICAL_SUPPLY_RISK, FLAG_LABELS, calc_risk_table
from chainwatch.metrics.series import (
    calc_country_profile,
    calc_import_sources,
    calc_production_map,
)
from chainwatch.metrics.service import DEFAULT_BLOC, calc_metrics
from chainwatch.services import defaults
from chainwatch.services.engines import on_engine
from chainwatch.store import Store
from chainwatch.store.engine import DUCKDB, EngineSpec

__all__ = [
    "DEFAULT_BLOC",
    "DUCKDB",
    "EU_CRITICAL_SUPPLY_RISK",
    "FLAG_LABELS",
    "METHODS",
    "EngineSpec",
    "country_profile",
    "dependency_metrics",
    "import_sources",
    "production_map",
    "risk_table",
]

T = TypeVar("T")


def dependency_metrics(
    store: Store,
    perspective: str,
    years: int | Sequence[int] | None = None,
    material: str | None = None,
    hs6: str | None = None,
    stage: str | None = None,
    bloc: str = DEFAULT_BLOC,
    engine: EngineSpec = DUCKDB,
) -> pd.DataFrame:
    """Every metric for a perspective (ISO3 or group), tidy, with method and sources
    (:func:`chainwatch.metrics.service.calc_metrics`)."""
    return on_engine(
        store, engine,
        lambda source: calc_metrics(source, perspective, years, material, hs6, stage, bloc),
    )  # fmt: skip


def risk_table(
    store: Store,
    perspective: str,
    year: int | None = None,
    bloc: str = DEFAULT_BLOC,
    engine: EngineSpec = DUCKDB,
) -> pd.DataFrame:
    """All materials ranked by supply risk, with the criteria that flag them
    (:func:`chainwatch.metrics.risk.calc_risk_table`)."""
    return on_engine(store, engine, lambda source: calc_risk_table(source, perspective, year, bloc))


def import_sources(
    store: Store,
    perspective: str,
    material: str | None = None,
    stage: str | None = None,
    hs6: str | None = None,
    years: Sequence[int] | None = None,
    bloc: str = DEFAULT_BLOC,
    engine: EngineSpec = DUCKDB,
) -> pd.DataFrame:
    """Imports of a perspective by supplier and year: value, quantity, share, in the bloc
    (:func:`chainwatch.metrics.series.calc_import_sources`)."""
    return on_engine(
        store, engine,
        lambda source: calc_import_sources(source, perspective, material, stage, hs6, years,
                                           bloc),
    )  # fmt: skip


def production_map(
    store: Store,
    material: str,
    stage: str,
    year: int | None = None,
    engine: EngineSpec = DUCKDB,
) -> pd.DataFrame:
    """Production by country and its share of world output (latest year if none)
    (:func:`chainwatch.metrics.series.calc_production_map`)."""
    return on_engine(
        store, engine, lambda source: calc_production_map(source, material, stage, year)
    )


def country_profile(
    store: Store,
    country: str,
    year: int,
    bloc: str = DEFAULT_BLOC,
    engine: EngineSpec = DUCKDB,
) -> pd.DataFrame:
    """What a country supplies to the bloc and what it imports, by material and stage
    (:func:`chainwatch.metrics.series.calc_country_profile`)."""
    return on_engine(
        store, engine, lambda source: calc_country_profile(source, country, year, bloc)
    )


def all_importers(
    store: Store,
    years: int | Sequence[int],
    metrics: Sequence[str],
    bloc: str = DEFAULT_BLOC,
    engine: EngineSpec = DUCKDB,
) -> pd.DataFrame:
    """``metrics`` for every country and group as importer, set-based
    (:func:`chainwatch.metrics.all_importers.calc_all_importers`)."""
    from chainwatch.metrics.all_importers import calc_all_importers

    return on_engine(store, engine, lambda source: calc_all_importers(source, years, metrics,
                                                                       bloc))  # fmt: skip


def default_risk_year(store: Store, engine: EngineSpec = DUCKDB) -> int:
    """The default year (:func:`chainwatch.services.defaults.default_year`, the one rule)."""
    return defaults.default_year(store, engine)
