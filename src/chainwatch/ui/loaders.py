"""Cached access to the services the pages show: the same functions the JSON API calls.

Results are cached per store version by the application's ``ResultCache``; the frames it
returns are shared, so callers copy before changing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
from fastapi import Request

from chainwatch.errors import QueryError
from chainwatch.partnerships.model import Partnership
from chainwatch.services import alerts as watch_service
from chainwatch.services import metrics, reference
from chainwatch.services import partnerships as tracker
from chainwatch.services.alerts import BacktestReport, Watch
from chainwatch.services.cache import ResultCache, Store
from chainwatch.services.metrics import DEFAULT_BLOC
from chainwatch.services.partnerships import AppState, StoredText
from chainwatch.watch.alerts import Alert

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
            "risk", params, lambda: metrics.risk_table(self.store, perspective, year, self.bloc)
        )

    def metrics(self, perspective: str, material: str, years: list[int]) -> pd.DataFrame:
        params = {"perspective": perspective, "material": material, "years": years,
                  "bloc": self.bloc}  # fmt: skip
        return self._cached(
            "metrics", params,
            lambda: metrics.dependency_metrics(self.store, perspective, years, material,
                                               bloc=self.bloc),
        )  # fmt: skip

    def import_sources(self, perspective: str, material: str) -> pd.DataFrame:
        params = {"perspective": perspective, "material": material, "bloc": self.bloc}
        return self._cached(
            "import_sources", params,
            lambda: metrics.import_sources(self.store, perspective, material, bloc=self.bloc),
        )  # fmt: skip

    def production_map(self, material: str, stage: str) -> pd.DataFrame | None:
        """Production shares by country, or None where no figures are loaded for the stage."""

        def compute() -> pd.DataFrame | None:
            try:
                return metrics.production_map(self.store, material, stage)
            except QueryError:
                return None

        return self._cached("production_map", {"material": material, "stage": stage}, compute)

    def country_profile(self, country: str, year: int) -> pd.DataFrame:
        params = {"country": country, "year": year, "bloc": self.bloc}
        return self._cached(
            "country_profile", params,
            lambda: metrics.country_profile(self.store, country, year, self.bloc),
        )  # fmt: skip

    def sources(self) -> pd.DataFrame:
        return self._cached("sources", {}, lambda: reference.sources(self.store))

    def groups(self) -> pd.DataFrame:
        return self._cached("groups", {}, lambda: reference.groups(self.store))

    def countries(self) -> pd.DataFrame:
        return self._cached("countries", {}, lambda: reference.countries(self.store))

    def materials(self) -> pd.DataFrame:
        return self._cached("materials", {}, lambda: reference.materials(self.store))

    def material_products(self, material: str) -> pd.DataFrame:
        return self._cached(
            "material_products", {"material": material},
            lambda: reference.material_products(self.store, material),
        )  # fmt: skip

    def trade_years(self) -> list[int]:
        return self._cached("trade_years", {}, lambda: reference.trade_years(self.store))

    def default_year(self) -> int:
        return self._cached("default_year", {}, lambda: reference.default_year(self.store))

    def alerts(
        self, year: int, perspective: str, material: str | None = None, severity: str | None = None
    ) -> tuple[list[Alert], Watch]:
        """The monitor's alerts of ``year`` (data known by its end), as /api/v1/alerts."""
        return watch_service.year_alerts(self.cache, self.store, year, perspective, material,
                                         severity, self.bloc)  # fmt: skip

    def backtest(self) -> BacktestReport:
        """The default backtest (2000-2024), as /api/v1/alerts/backtest."""
        return watch_service.backtest(self.cache, self.store)

    def text_ids(self) -> tuple[str, ...]:
        """The ids of the partnership texts added: the version of the tracker's records."""
        return tracker.text_ids(self.app_state)

    def texts(self) -> list[StoredText]:
        """The partnership texts added, oldest first (raw content included)."""
        return tracker.texts(self.app_state)

    def partnerships(self) -> list[Partnership]:
        """The records merged over the texts added, as /api/v1/partnerships (the extraction
        caches them by the set of text ids)."""
        return tracker.stored_records(self.app_state)

    def partnership_coverage(self, perspective: str, year: int, top: int) -> pd.DataFrame:
        """The perspective's ``top`` most exposed materials and the partnerships covering
        each, as /api/v1/partnerships/coverage (cached per set of texts)."""
        params = {"texts": self.text_ids(), "perspective": perspective, "year": year,
                  "top": top, "bloc": self.bloc}  # fmt: skip
        return self._cached(
            "partnership_coverage", params,
            lambda: tracker.coverage_frame(self.cache, self.store, self.app_state, perspective,
                                           year, top, self.bloc)[0],
        )  # fmt: skip
