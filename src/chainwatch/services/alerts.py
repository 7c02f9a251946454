"""Early-warning services: the alerts of a year and the backtest, precomputed where they are
asked for most, from a cached monitor elsewhere.

The default monitors (the API's default perspectives over the ALLIED bloc, and the first
screen's perspective and bloc, ALLIED against the OECD) have their alerts of every year and
the default backtest precomputed once per store version and kept on disk next to the store
(:mod:`chainwatch.services.precompute`, ADR 0010): ``chainwatch serve`` computes them before it
listens, and a request that finds them missing (a load replaced the store) computes them once,
inside the heavy gate, for every process after it.

Any other perspective or bloc gets a :class:`~chainwatch.watch.monitor.Monitor` in the result
cache (so per store version), weighed again as its year caches grow. A monitor reads the
inputs once and cuts them at every year it evaluates, so the alerts of year T rest only on
what was known at the end of T, exactly as ``calc_alerts(store, T)`` (docs/watch.md, "No
look-ahead"). The JSON API and the dashboard's Alerts page both read through these functions.
"""

from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.services import defaults, precompute, reference
from chainwatch.services.cache import ResultCache, release_memory
from chainwatch.store import Store
from chainwatch.store.app_state import AlertRecord, alert_scope
from chainwatch.watch.alerts import ALERT_COLUMNS, Alert, alerts_frame
from chainwatch.watch.backtest import (
    SCORED_SIGNALS,
    BacktestReport,
    backtest_monitor,
    calc_backtest_scores,
    calc_event_coverage,
    calc_volume_per_year,
)
from chainwatch.watch.inputs import DEFAULT_BLOC, WatchInputs, read_event_list, read_watch_inputs
from chainwatch.watch.monitor import Monitor
from chainwatch.watch.rules import SEVERITIES

__all__ = [
    "ALERT_COLUMNS",
    "BACKTEST_FROM",
    "BACKTEST_TO",
    "DEFAULT_BLOC",
    "MONITOR",
    "PAGE_BLOC",
    "PAGE_PERSPECTIVE",
    "PRECOMPUTED",
    "SEVERITIES",
    "BacktestReport",
    "LiveMonitor",
    "StoredAlerts",
    "Watch",
    "WatchScope",
    "alert_record",
    "alerts_frame",
    "backtest",
    "backtest_monitor",
    "feed_records",
    "finite",
    "live_monitor",
    "missing_precomputed",
    "precompute_alerts",
    "stored_alerts",
    "year_alerts",
]

BACKTEST_FROM, BACKTEST_TO = 2000, 2024
"""The default years of the backtest (those of ``chainwatch watch backtest``)."""
PAGE_PERSPECTIVE = defaults.DEFAULT_PERSPECTIVE
PAGE_BLOC = defaults.choose_bloc(PAGE_PERSPECTIVE).code
"""The first screen's perspective and bloc (the dashboard's Alerts page without parameters)."""
PRECOMPUTED: tuple[tuple[str | None, str], ...] = ((None, DEFAULT_BLOC),
                                                   (PAGE_PERSPECTIVE, PAGE_BLOC))  # fmt: skip
"""(perspective, bloc) of the monitors whose alerts are precomputed; None: the default set."""
MONITOR, BACKTEST, STORED = "watch.monitor", "watch.backtest", "watch.stored"
"""Result-cache names: a live monitor, a backtest on it, the precomputed alerts."""


@dataclass(frozen=True)
class WatchScope:
    """What alerts were computed over: perspectives, bloc, and the vintages of the inputs."""

    perspectives: tuple[str, ...]
    bloc_id: str
    sources: dict[str, str]

    @classmethod
    def of(cls, inputs: WatchInputs) -> WatchScope:
        return cls(tuple(inputs.perspectives), inputs.bloc_id, dict(inputs.sources))


@dataclass(frozen=True)
class Watch:
    """What a list of alerts rests on; ``inputs`` names the scope as a monitor's inputs do."""

    inputs: WatchScope


@dataclass
class LiveMonitor:
    """A monitor over one perspective set and bloc; the lock serialises its year caches;
    ``years``: the years evaluated (the entry is weighed again after a new one)."""

    inputs: WatchInputs
    monitor: Monitor
    lock: threading.Lock
    years: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class StoredAlerts:
    """A precomputed monitor: its alerts of every year, what a backtest of any years needs
    besides them (the rules, the first year each exporter traded each product, the first
    and last trade years), and (default set only) the default backtest or why it cannot run."""

    scope: WatchScope
    years: dict[int, tuple[Alert, ...]]
    rules: tuple[str, ...] = ()
    first_traded: pd.DataFrame | None = None
    """exporter_iso3, hs6, year: the first year with a flow of the pair"""
    first_year: int = 0
    last_year: int = 0
    backtest: BacktestReport | None = None
    backtest_error: str | None = None


def live_monitor(
    cache: ResultCache, store: Store, perspective: str | None, bloc: str
) -> LiveMonitor:
    """The cached monitor for ``perspective`` (None: the default set) and ``bloc``."""

    def build() -> LiveMonitor:
        last = reference.latest_trade_year(store)
        inputs = read_watch_inputs(store, last, [perspective] if perspective else None, bloc)
        return LiveMonitor(inputs, Monitor(inputs), threading.Lock())

    return cache.get(MONITOR, {"perspective": perspective, "bloc": bloc}, build)


def stored_alerts(
    cache: ResultCache, store: Store, perspective: str | None, bloc: str, gated: bool = True
) -> StoredAlerts | None:
    """The precomputed alerts of ``perspective`` and ``bloc`` (None when they are not one of
    :data:`PRECOMPUTED`): from memory, else from disk, else computed now and written (in the
    heavy gate, unless not ``gated``)."""
    if (perspective, bloc) not in PRECOMPUTED:
        return None
    params = {"perspective": perspective, "bloc": bloc}
    return cache.get(
        STORED, params, lambda: _load_or_compute(cache, store, perspective, bloc, gated)
    )


def precompute_alerts(cache: ResultCache, store: Store, gated: bool = True) -> list[str]:
    """Make sure every precomputed monitor is on disk for the current store version; the
    names of the documents (each read from disk or computed now). A start-up job passes
    ``gated=False``: it runs once, beside the requests, and does not take their heavy slot."""
    names = []
    for perspective, bloc in PRECOMPUTED:
        stored_alerts(cache, store, perspective, bloc, gated)
        names.append(_document_name(perspective, bloc))
    return names


def missing_precomputed(store: Store) -> list[str]:
    """The precomputed documents not yet on disk for the store's current version."""
    version = ResultCache(store).store_version()
    names = [_document_name(perspective, bloc) for perspective, bloc in PRECOMPUTED]
    return [name for name in names if precompute.read_document(store, version, name) is None]


def _document_name(perspective: str | None, bloc: str) -> str:
    return f"alerts-{perspective or 'default'}-{bloc}"


def _load_or_compute(
    cache: ResultCache, store: Store, perspective: str | None, bloc: str, gated: bool = True
) -> StoredAlerts:
    version, name = cache.store_version(), _document_name(perspective, bloc)
    document = precompute.read_document(store, version, name)
    if document is None:
        gate = cache.gate(MONITOR) if gated else None  # as heavy as a monitor: the same bound
        slot = gate.slot() if gate is not None else contextlib.nullcontext()
        with slot, precompute.computing(store, version):  # once across processes
            document = precompute.read_document(store, version, name)
            if document is None:
                document = _compute_document(store, perspective, bloc)
                precompute.write_document(store, version, name, document)
        release_memory()
    return _read_document(document)


def _compute_document(store: Store, perspective: str | None, bloc: str) -> dict[str, Any]:
    """Every year's alerts of one monitor, and for the default set the default backtest."""
    years = reference.trade_years(store)
    if not years:
        raise QueryError("the store holds no trade flows")
    inputs = read_watch_inputs(store, years[-1], [perspective] if perspective else None, bloc)
    monitor = Monitor(inputs)
    scope = WatchScope.of(inputs)
    exports = inputs.exports
    first_traded = exports.groupby(["exporter_iso3", "hs6"], as_index=False).agg(
        year=("year", "min")
    )
    first_traded["year"] = first_traded["year"].astype("int64")
    document: dict[str, Any] = {
        "perspectives": list(scope.perspectives), "bloc_id": scope.bloc_id,
        "sources": scope.sources, "rules": [rule.rule_id for rule in monitor.rules],
        "first_year": int(exports["year"].min()) if len(exports) else 0,
        "last_year": inputs.last_year,
        "first_traded": precompute.write_frame(first_traded),
        "years": {str(year): [precompute.write_alert(a) for a in monitor.alerts(year)]
                  for year in years if year <= inputs.last_year},
    }  # fmt: skip
    if perspective is None:
        try:
            report = _backtest_on(monitor, store, BACKTEST_FROM, BACKTEST_TO)
            document["backtest"] = precompute.write_backtest(report)
        except QueryError as error:
            document["backtest_error"] = str(error)
    return document


def _read_document(document: dict[str, Any]) -> StoredAlerts:
    scope = WatchScope(tuple(document["perspectives"]), document["bloc_id"],
                       dict(document["sources"]))  # fmt: skip
    years = {int(year): tuple(precompute.read_alert(record) for record in records)
             for year, records in document["years"].items()}  # fmt: skip
    report = document.get("backtest")
    return StoredAlerts(
        scope, years, tuple(document["rules"]), precompute.read_frame(document["first_traded"]),
        int(document["first_year"]), int(document["last_year"]),
        precompute.read_backtest(report) if report else None, document.get("backtest_error"),
    )  # fmt: skip


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
    stored = stored_alerts(cache, store, perspective, bloc)
    if stored is not None and year in stored.years:
        alerts, scope = list(stored.years[year]), stored.scope
    else:
        live = live_monitor(cache, store, perspective, bloc)
        with live.lock:
            alerts = live.monitor.alerts(year)
            grew = year not in live.years
            live.years.add(year)
        if grew:  # the monitor's year caches grew: weigh it again (it may be evicted)
            cache.reweigh(MONITOR, {"perspective": perspective, "bloc": bloc})
        scope = WatchScope.of(live.inputs)
    if material is not None:
        alerts = [a for a in alerts if material in (a.material or "").split(";")]
    if severity is not None:
        alerts = [a for a in alerts if a.severity == severity]
    return alerts, Watch(scope)


def backtest(
    cache: ResultCache, store: Store, year_from: int = BACKTEST_FROM, year_to: int = BACKTEST_TO
) -> BacktestReport:
    """The backtest of ``year_from`` .. ``year_to`` as ``run_backtest`` scores it, from the
    precomputed alerts of the default monitor: the default years as precomputed, others scored
    from the stored alerts of their years (cached)."""
    if year_from > year_to:
        raise QueryError(f"no years to replay: from_year {year_from} is after to_year {year_to}")
    stored = stored_alerts(cache, store, None, DEFAULT_BLOC)
    assert stored is not None
    if (year_from, year_to) == (BACKTEST_FROM, BACKTEST_TO):
        if stored.backtest is None:
            raise QueryError(stored.backtest_error or "no backtest for this store")
        return stored.backtest
    return cache.get(BACKTEST, {"from": year_from, "to": year_to},
                     lambda: _stored_backtest(stored, store, year_from, year_to))  # fmt: skip


def _stored_backtest(
    stored: StoredAlerts, store: Store, year_from: int, year_to: int
) -> BacktestReport:
    """What ``backtest_monitor`` computes, from the stored alerts of the years replayed (the
    same pure scoring functions; tests compare the two)."""
    first, last = stored.first_year, stored.last_year
    if year_from >= first + 1 and year_from > last:
        raise QueryError(f"no trade data for {year_from}: the data end in {last}")
    if year_from < first + 1:
        raise QueryError(f"the backtest needs a year of history: start at {first + 1} or later")
    year_to = min(year_to, last)
    replayed = [alert for year in range(year_from, year_to + 1)
                for alert in stored.years.get(year, ())]  # fmt: skip
    alerts = alerts_frame(replayed)
    assert stored.first_traded is not None
    pairs = stored.first_traded
    traded = pairs.loc[pairs["year"] <= year_to, ["exporter_iso3", "hs6"]]
    coverage = calc_event_coverage(read_event_list(store), traded, year_from, year_to, last)
    scores = calc_backtest_scores(alerts, coverage, year_from, year_to)
    per_year = calc_volume_per_year(alerts, scores.episodes, year_from, year_to)
    settings = {
        "perspectives": list(stored.scope.perspectives), "bloc": stored.scope.bloc_id,
        "rules": list(stored.rules), "scored_signals": list(SCORED_SIGNALS),
        "sources": dict(stored.scope.sources),
    }  # fmt: skip
    return BacktestReport(year_from, year_to, alerts, scores, per_year, settings)


def _backtest_on(monitor: Monitor, store: Store, year_from: int, year_to: int) -> BacktestReport:
    first, last = int(monitor.inputs.exports["year"].min()), monitor.inputs.last_year
    # a start without a year of history is backtest_monitor's error, checked first
    if year_from >= first + 1 and year_from > last:
        raise QueryError(f"no trade data for {year_from}: the data end in {last}")
    return backtest_monitor(monitor, year_from, year_to, read_event_list(store))


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
