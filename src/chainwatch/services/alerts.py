"""Early-warning services: the cached monitor, the alerts of a year and the backtest.

One :class:`~chainwatch.watch.monitor.Monitor` per perspective and bloc is kept in the result
cache (so per store version): it reads the inputs once and cuts them at every year it
evaluates, so the alerts of year T rest only on what was known at the end of T, exactly as
``calc_alerts(store, T)`` (docs/watch.md, "No look-ahead"). The backtest replays years on the
default monitor, so a first backtest warms every later one and the alerts of every year. The
JSON API and the dashboard's Alerts page both read through these functions.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chainwatch.errors import QueryError
from chainwatch.services import reference
from chainwatch.services.cache import ResultCache
from chainwatch.store import Store
from chainwatch.store.app_state import AlertRecord, alert_scope
from chainwatch.watch.alerts import ALERT_COLUMNS, Alert, alerts_frame
from chainwatch.watch.backtest import BacktestReport, backtest_monitor
from chainwatch.watch.inputs import DEFAULT_BLOC, WatchInputs, read_event_list, read_watch_inputs
from chainwatch.watch.monitor import Monitor
from chainwatch.watch.rules import SEVERITIES

__all__ = [
    "ALERT_COLUMNS",
    "BACKTEST_FROM",
    "BACKTEST_TO",
    "DEFAULT_BLOC",
    "SEVERITIES",
    "BacktestReport",
    "Watch",
    "alert_record",
    "alerts_frame",
    "backtest",
    "backtest_monitor",
    "feed_records",
    "finite",
    "watch",
    "year_alerts",
]

BACKTEST_FROM, BACKTEST_TO = 2000, 2024
"""The default years of the backtest (those of ``chainwatch watch backtest``)."""


@dataclass
class Watch:
    """A monitor over one perspective set and bloc; the lock serialises its year caches."""

    inputs: WatchInputs
    monitor: Monitor
    lock: threading.Lock


def watch(cache: ResultCache, store: Store, perspective: str | None, bloc: str) -> Watch:
    """The cached monitor for ``perspective`` (None: the default set) and ``bloc``."""

    def build() -> Watch:
        last = reference.latest_trade_year(store)
        inputs = read_watch_inputs(store, last, [perspective] if perspective else None, bloc)
        return Watch(inputs, Monitor(inputs), threading.Lock())

    return cache.get("watch.monitor", {"perspective": perspective, "bloc": bloc}, build)


def year_alerts(
    cache: ResultCache,
    store: Store,
    year: int,
    perspective: str | None = None,
    material: str | None = None,
    severity: str | None = None,
    bloc: str = DEFAULT_BLOC,
) -> tuple[list[Alert], Watch]:
    """The alerts of ``year`` from what was known at its end (QueryError for a year without
    trade data, an unknown perspective, bloc or material), most severe first."""
    reference.require_trade_years(store, [year])
    if material is not None:
        reference.require_material(store, material)
    chosen = watch(cache, store, perspective, bloc)
    with chosen.lock:
        alerts = chosen.monitor.alerts(year)
    if material is not None:
        alerts = [a for a in alerts if material in (a.material or "").split(";")]
    if severity is not None:
        alerts = [a for a in alerts if a.severity == severity]
    return alerts, chosen


def backtest(
    cache: ResultCache, store: Store, year_from: int = BACKTEST_FROM, year_to: int = BACKTEST_TO
) -> BacktestReport:
    """The backtest of ``year_from`` .. ``year_to`` as ``run_backtest`` scores it, replayed on
    the cached default monitor (cached itself)."""
    if year_from > year_to:
        raise QueryError(f"no years to replay: from_year {year_from} is after to_year {year_to}")

    def build() -> BacktestReport:
        chosen = watch(cache, store, None, DEFAULT_BLOC)
        first, last = int(chosen.inputs.exports["year"].min()), chosen.inputs.last_year
        # a start without a year of history is backtest_monitor's error, checked first
        if year_from >= first + 1 and year_from > last:
            raise QueryError(f"no trade data for {year_from}: the data end in {last}")
        return backtest_monitor(chosen.monitor, year_from, year_to, read_event_list(store),
                                lock=chosen.lock)  # fmt: skip

    return cache.get("watch.backtest", {"from": year_from, "to": year_to}, build)


def finite(value: Any) -> Any:
    """``value``, or None for a non-finite float (NaN, infinities)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def alert_record(alert: Alert) -> dict[str, Any]:
    """An alert as a plain record without workflow state (the API and pages are read-only):
    non-finite numbers become None, the series a list of ``{period, value}``."""
    record = alert.to_record()
    record.pop("state")
    record["value"] = finite(record["value"])
    record["series"] = [{"period": str(period), "value": finite(float(value))}
                        for period, value in alert.series]  # fmt: skip
    return record


def feed_records(alerts: list[Alert], year: int) -> list[AlertRecord]:
    """Computed alerts as feed entries: updated at the end of their year (what they rest on
    was known then), so the document, and its ETag, depend on the data only."""
    updated = datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC)
    return [
        AlertRecord(alert_id=alert.alert_id, rule_id=alert.rule_id, severity=alert.severity,
                    scope=alert_scope(alert), first_year=alert.first_year, last_year=alert.year,
                    sentence=alert.sentence, state=alert.state, updated_at=updated)
        for alert in alerts
    ]  # fmt: skip
