"""Cached access to the services the pages show: the same functions the JSON API calls.

Results are cached per store version by the application's ``ResultCache``; the frames it
returns are shared, so callers copy before changing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from fastapi import Request

from chainwatch.api.alert_routes import Watch, backtest, year_alerts
from chainwatch.api.partnership_routes import coverage_frame, stored_records
from chainwatch.errors import QueryError
from chainwatch.metrics.risk import calc_risk_table
from chainwatch.metrics.series import (
    calc_country_profile,
    calc_import_sources,
    calc_production_map,
)
from chainwatch.metrics.service import DEFAULT_BLOC, calc_metrics
from chainwatch.partnerships.model import Partnership
from chainwatch.store import Store, queries
from chainwatch.store.app_state import AppState
from chainwatch.store.text_store import StoredText, read_text_ids, read_texts
from chainwatch.watch.alerts import Alert
from chainwatch.watch.backtest import BacktestReport

if TYPE_CHECKING:
    from chainwatch.api.cache import ResultCache

T = TypeVar("T")


class PageData:
    """The data one page request reads, through the application's result cache."""

    def __init__(self, request: Request, bloc: str = DEFAULT_BLOC) -> None:
        self.store: Store = request.app.state.store
        self.cache: ResultCache = request.app.state.cache
        self.app_state: AppState = request.app.state.app_state
        self.bloc = bloc

    def _cached(self, name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        return self.cache.get(f"ui.{name}", params, compute)

    def risk_table(self, perspective: str, year: int) -> pd.DataFrame:
        params = {"perspective": perspective, "year": year, "bloc": self.bloc}
        return self._cached(
            "risk", params, lambda: calc_risk_table(self.store, perspective, year, self.bloc)
        )

    def metrics(self, perspective: str, material: str, years: list[int]) -> pd.DataFrame:
        params = {"perspective": perspective, "material": material, "years": years,
                  "bloc": self.bloc}  # fmt: skip
        return self._cached(
            "metrics", params,
            lambda: calc_metrics(self.store, perspective, years, material, bloc=self.bloc),
        )  # fmt: skip

    def import_sources(self, perspective: str, material: str) -> pd.DataFrame:
        params = {"perspective": perspective, "material": material, "bloc": self.bloc}
        return self._cached(
            "import_sources", params,
            lambda: calc_import_sources(self.store, perspective, material, bloc=self.bloc),
        )  # fmt: skip

    def production_map(self, material: str, stage: str) -> pd.DataFrame | None:
        """Production shares by country, or None where no figures are loaded for the stage."""

        def compute() -> pd.DataFrame | None:
            try:
                return calc_production_map(self.store, material, stage)
            except QueryError:
                return None

        return self._cached("production_map", {"material": material, "stage": stage}, compute)

    def country_profile(self, country: str, year: int) -> pd.DataFrame:
        params = {"country": country, "year": year, "bloc": self.bloc}
        return self._cached(
            "country_profile", params,
            lambda: calc_country_profile(self.store, country, year, self.bloc),
        )  # fmt: skip

    def sources(self) -> pd.DataFrame:
        return self._cached("sources", {}, lambda: queries.read_sources(self.store))

    def groups(self) -> pd.DataFrame:
        return self._cached("groups", {}, lambda: queries.read_groups(self.store))

    def countries(self) -> pd.DataFrame:
        return self._cached("countries", {}, lambda: queries.read_countries(self.store))

    def materials(self) -> pd.DataFrame:
        return self._cached("materials", {}, lambda: queries.read_materials(self.store))

    def material_products(self, material: str) -> pd.DataFrame:
        return self._cached(
            "material_products", {"material": material},
            lambda: queries.read_material_products(self.store, material),
        )  # fmt: skip

    def trade_years(self) -> list[int]:
        return self._cached("trade_years", {}, lambda: queries.read_trade_years(self.store))

    def default_year(self) -> int:
        return self._cached("default_year", {}, lambda: queries.default_risk_year(self.store))

    def alerts(
        self, year: int, perspective: str, material: str | None = None, severity: str | None = None
    ) -> tuple[list[Alert], Watch]:
        """The monitor's alerts of ``year`` (data known by its end), as /api/v1/alerts."""
        return year_alerts(self.cache, self.store, year, perspective, material, severity,
                           self.bloc)  # fmt: skip

    def backtest(self) -> BacktestReport:
        """The default backtest (2000-2024), as /api/v1/alerts/backtest."""
        return backtest(self.cache, self.store)

    def text_ids(self) -> tuple[str, ...]:
        """The ids of the partnership texts added: the version of the tracker's records."""
        return read_text_ids(self.app_state)

    def texts(self) -> list[StoredText]:
        """The partnership texts added, oldest first (raw content included)."""
        return read_texts(self.app_state)

    def partnerships(self) -> list[Partnership]:
        """The records merged over the texts added, as /api/v1/partnerships (the extraction
        caches them by the set of text ids)."""
        return stored_records(self.app_state)

    def partnership_coverage(self, perspective: str, year: int, top: int) -> pd.DataFrame:
        """The perspective's ``top`` most exposed materials and the partnerships covering
        each, as /api/v1/partnerships/coverage (cached per set of texts)."""
        params = {"texts": self.text_ids(), "perspective": perspective, "year": year,
                  "top": top, "bloc": self.bloc}  # fmt: skip
        return self._cached(
            "partnership_coverage", params,
            lambda: coverage_frame(self.cache, self.store, self.app_state, perspective, year,
                                   top, self.bloc)[0],
        )  # fmt: skip
