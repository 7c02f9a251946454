"""Reference data and the checks a request needs: thin wrappers over the store's read queries.

Adapters call these instead of :mod:`chainwatch.store.queries`, so none of them knows how the
store is read. The checks raise :class:`~chainwatch.errors.QueryError` (404 in the API, the
error page in the dashboard) with the messages the metric services use.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.services import defaults
from chainwatch.store import Store, queries

PERSPECTIVE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{1,31}$"
"""An ISO3 code or a group id (the rule user-defined groups follow)."""


def sources(store: Store) -> pd.DataFrame:
    """The provenance table: one row per loaded data set."""
    return queries.read_sources(store)


def groups(store: Store) -> pd.DataFrame:
    """Country groups with member counts."""
    return queries.read_groups(store)


def group_members(store: Store) -> pd.DataFrame:
    """Every group with one row per member (a group without members: one row, no member)."""
    return queries.read_group_members(store)


def countries(store: Store) -> pd.DataFrame:
    """The country reference table (ISO3, name, ISO2, M49 code, kind, region)."""
    return queries.read_countries(store)


def country(store: Store, iso3: str) -> pd.DataFrame:
    """One row of the country table, or none."""
    return queries.read_country(store, iso3)


def perspectives(store: Store) -> pd.DataFrame:
    """Every country and group a metric can be asked for."""
    return queries.read_perspectives(store)


def materials(store: Store) -> pd.DataFrame:
    """Materials with their list status and the stages their HS6 codes cover."""
    return queries.read_materials(store)


def material_catalogue(store: Store) -> pd.DataFrame:
    """Materials with their list status, stages and HS6 codes (the API's /materials)."""
    return queries.read_material_catalogue(store)


def material_products(store: Store, material: str | None = None) -> pd.DataFrame:
    """The HS6 codes mapped to materials and stages, with their descriptions."""
    return queries.read_material_products(store, material)


def products(store: Store, material: str | None = None, stage: str | None = None) -> pd.DataFrame:
    """HS6 products, one row per product and material it carries."""
    return queries.read_products(store, material, stage)


def trade_years(store: Store) -> list[int]:
    """Years with at least one loaded trade flow, ascending."""
    return queries.read_trade_years(store)


def default_year(store: Store) -> int:
    """The latest year with both trade flows and production figures (else the latest trade
    year): the default of the risk table and the pages
    (:func:`chainwatch.services.defaults.default_year`, the one rule)."""
    return defaults.default_year(store)


def latest_trade_year(store: Store) -> int:
    """The last year with trade data (QueryError when there is none)."""
    available = trade_years(store)
    if not available:
        raise QueryError("the store holds no trade flows")
    return available[-1]


def require_trade_years(store: Store, years: Iterable[int]) -> None:
    """Raise QueryError for years without trade data, as the metric services do."""
    available = trade_years(store)
    if not available:
        raise QueryError("the store holds no trade flows")
    missing = sorted(set(years) - set(available))
    if missing:
        raise QueryError(f"no trade data for {missing}; available {available[0]}-{available[-1]}")


def year_range(store: Store, first: int | None, last: int | None) -> list[int]:
    """Years with trade data between ``first`` and ``last`` (inclusive, open ends allowed)."""
    available = trade_years(store)
    chosen = [year for year in available
              if (first is None or year >= first) and (last is None or year <= last)]  # fmt: skip
    if not chosen:
        span = f"{available[0]}-{available[-1]}" if available else "none"
        asked = f"{first if first is not None else '...'}-{last if last is not None else '...'}"
        raise QueryError(f"no trade data in {asked}; available {span}")
    return chosen


def require_material(store: Store, material: str) -> None:
    """Raise QueryError for a material the store does not know, naming the known ones."""
    known = list(material_catalogue(store)["material"])
    if material not in known:
        raise QueryError(f"unknown material {material!r}; known: {', '.join(known)}")
