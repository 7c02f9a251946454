"""The services the adapters share: the backtest on a cached monitor is the watch backtest,
metrics on another engine are the same numbers, the request checks keep their messages."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from chainwatch.errors import QueryError
from chainwatch.services import alerts, metrics, reference
from chainwatch.services.cache import ResultCache
from chainwatch.store.engine import EngineSpec
from chainwatch.store.lake import write_lake
from chainwatch.watch.backtest import BacktestReport, backtest_inputs, run_backtest
from chainwatch.watch.monitor import Monitor
from tests.api.support import bundled_store
from tests.watch.synthetic import synthetic_inputs


def assert_same_report(left: BacktestReport, right: BacktestReport, sources: bool = True) -> None:
    """Same years, scores, alerts, events and volumes (and ``sources``: the same vintages;
    inputs read up to a later year name the vintages of the later years too)."""
    assert (left.year_from, left.year_to) == (right.year_from, right.year_to)
    assert left.summary == pytest.approx(right.summary, nan_ok=True)
    skip = set() if sources else {"sources"}
    assert {k: v for k, v in left.settings.items() if k not in skip} == {
        k: v for k, v in right.settings.items() if k not in skip
    }
    pd.testing.assert_frame_equal(left.alerts, right.alerts)
    pd.testing.assert_frame_equal(left.scores.events, right.scores.events)
    pd.testing.assert_frame_equal(left.scores.episodes, right.scores.episodes)
    pd.testing.assert_frame_equal(left.per_year, right.per_year)


class CountingLock:
    """A lock that counts how often it is taken."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.taken = 0

    def __enter__(self) -> None:
        self.lock.acquire()
        self.taken += 1

    def __exit__(self, *exc: Any) -> None:
        self.lock.release()


def test_backtest_on_a_monitor_is_backtest_inputs() -> None:
    inputs = synthetic_inputs()
    monitor = Monitor(inputs)
    lock = CountingLock()
    report = alerts.backtest_monitor(monitor, 2008, 2020, lock=lock)
    assert lock.taken == 1 and report.year_to == inputs.last_year
    assert_same_report(report, backtest_inputs(inputs, 2008, 2020))
    # the replay filled the monitor's year caches: a second run reads them
    assert_same_report(alerts.backtest_monitor(monitor, 2008, 2020), report)


def test_backtest_on_a_monitor_needs_history() -> None:
    with pytest.raises(QueryError, match="needs a year of history: start at 1997 or later"):
        alerts.backtest_monitor(Monitor(synthetic_inputs()), 1996, 2000)


def test_cached_backtest_is_run_backtest() -> None:
    store = bundled_store()
    cache = ResultCache(store)
    report = alerts.backtest(cache, store, 2012, 2016)
    assert alerts.backtest(cache, store, 2012, 2016) is report
    assert_same_report(report, run_backtest(store, 2012, 2016), sources=False)


@pytest.mark.parametrize(
    ("year_from", "year_to", "message"),
    [(2010, 2009, "no years to replay: from_year 2010 is after to_year 2009"),
     (2030, 2030, "no trade data for 2030: the data end in ")],
)  # fmt: skip
def test_backtest_errors(year_from: int, year_to: int, message: str) -> None:
    store = bundled_store()
    with pytest.raises(QueryError, match=message):
        alerts.backtest(ResultCache(store), store, year_from, year_to)


def test_metrics_on_a_lake_engine_are_the_store_metrics(tmp_path: Path) -> None:
    store = bundled_store()
    lake = tmp_path / "lake"
    write_lake(store, lake)
    spec = EngineSpec(lake=lake)
    year = reference.default_year(store)
    pd.testing.assert_frame_equal(
        metrics.risk_table(store, "CAN", year, engine=spec), metrics.risk_table(store, "CAN", year)
    )
    pd.testing.assert_frame_equal(
        metrics.dependency_metrics(store, "EU27", [year], "cobalt", engine=spec),
        metrics.dependency_metrics(store, "EU27", [year], "cobalt"),
    )
    pd.testing.assert_frame_equal(
        metrics.production_map(store, "cobalt", "mine", engine=spec),
        metrics.production_map(store, "cobalt", "mine"),
    )


def test_reference_checks_keep_their_messages() -> None:
    store = bundled_store()
    years = reference.trade_years(store)
    assert reference.latest_trade_year(store) == years[-1]
    assert reference.year_range(store, years[-2], None) == years[-2:]
    with pytest.raises(QueryError, match=r"no trade data for \[1900\]; available"):
        reference.require_trade_years(store, [1900])
    with pytest.raises(QueryError, match=r"no trade data in 1900-1901; available"):
        reference.year_range(store, 1900, 1901)
    with pytest.raises(QueryError, match="unknown material 'kryptonite'; known: "):
        reference.require_material(store, "kryptonite")
