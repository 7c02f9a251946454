"""Backtest: replay years, raise alerts with only what was known each year, score them against
the dated export-restriction events.

Scoring (docs/backtest.md):

* **scored alerts** come from the signals that point at a supplier country and a fall in its
  supply: ``supplier_export_drop``, ``partner_export_drop`` and ``production_share_shift``.
  Alerts raised from the event list itself (``restriction_event``) are not scored (they would
  catch every event by construction), nor are price and import-structure alerts (no country).
* an alert is **relevant** to an event when its supplier is the restricting country and it
  covers one of the event's HS6 codes or materials;
* an event is **caught** when a relevant alert is active in a year from its effective year - 1
  to its effective year + 1; **lead/lag** = first such year - effective year;
* an event is **scoreable** when it restricts a good (not technology or outbound equipment
  controls), is not the easing of an earlier measure, takes effect within the years replayed
  and the data, and its country exports at least one of its HS6 codes in the bundled HS92 data;
* **recall** = caught / scoreable; **precision** = alert episodes (counted once, in their first
  year) relevant to a scoreable event within its window / scored alert episodes; **false
  alarms** = the other scored episodes, per year replayed.

An event missing from the curated list counts against precision: the monitor also flags real
disruptions nobody listed (docs/backtest.md names some), so precision is a lower bound.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.store.relations import Source, open_relations
from chainwatch.watch.alerts import Alert, alerts_frame
from chainwatch.watch.inputs import (
    DEFAULT_BLOC,
    WatchInputs,
    read_event_list,
    read_watch_inputs,
)
from chainwatch.watch.monitor import Monitor
from chainwatch.watch.rules import RuleSpec

SCORED_SIGNALS = ("supplier_export_drop", "partner_export_drop", "production_share_shift")
WINDOW_BEFORE = 1
"""An alert up to this many years before the effective year counts (a lead)."""
WINDOW_AFTER = 1
"""An alert up to this many years after the effective year counts (a lag: annual data)."""
EASING_MEASURES = frozenset({"export_quota_relaxation"})


@cache
def _goods_measures() -> dict[str, bool]:
    """measure_type -> whether it restricts goods (reference/trade_restriction_factors.csv)."""
    text = resources.files("chainwatch.reference").joinpath("trade_restriction_factors.csv")
    rows = csv.DictReader(text.read_text(encoding="utf-8").splitlines())
    return {row["measure_type"]: row["applies_to_goods"].strip() == "true" for row in rows}


def calc_event_coverage(
    events: pd.DataFrame,
    traded: pd.DataFrame,
    year_from: int,
    year_to: int,
    last_data_year: int,
) -> pd.DataFrame:
    """Which events can be scored, and why not.

    ``events``: event_id, country_iso3, effective_date, measure_type, hs6_codes,
    scope_materials. ``traded``: exporter_iso3, hs6 - the pairs with at least one flow in the
    data. Adds effective_year, codes_with_data, scoreable, reason.
    """
    goods = _goods_measures()
    pairs = set(zip(traded["exporter_iso3"], traded["hs6"], strict=True))
    rows = []
    for _, event in events.iterrows():
        effective = event["effective_date"]
        year = int(pd.Timestamp(effective).year) if pd.notna(effective) else None
        codes = [c for c in str(event["hs6_codes"] or "").split(";") if c]
        with_data = [c for c in codes if (event["country_iso3"], c) in pairs]
        reason = ""
        if not goods.get(str(event["measure_type"]), True):
            reason = "controls technology or outbound equipment, not the supply of a material"
        elif str(event["measure_type"]) in EASING_MEASURES:
            reason = "eases an earlier restriction: exports are expected to rise, not fall"
        elif not codes:
            reason = "no HS6 code recorded"
        elif year is None:
            reason = "no effective date"
        elif year > last_data_year:
            reason = f"takes effect in {year}, after the last trade year ({last_data_year})"
        elif not year_from <= year <= year_to:
            reason = f"takes effect in {year}, outside the years replayed ({year_from}-{year_to})"
        elif not with_data:
            reason = (f"no HS92 flows from {event['country_iso3']} for {', '.join(codes)} in "
                      "the data (HS2007+ codes, or codes outside the bundled 74)")  # fmt: skip
        rows.append({
            "event_id": event["event_id"], "country_iso3": event["country_iso3"],
            "measure_type": event["measure_type"], "effective_year": year,
            "hs6_codes": ";".join(codes), "codes_with_data": ";".join(with_data),
            "materials": event["scope_materials"], "scoreable": not reason, "reason": reason,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _relevant(alert: pd.Series, event: pd.Series) -> bool:
    if alert["exporter_iso3"] != event["country_iso3"]:
        return False
    alert_codes = {c for c in str(alert["hs6"] or "").split(";") if c}
    event_codes = {c for c in str(event["hs6_codes"] or "").split(";") if c}
    materials = {m for m in str(event["materials"] or "").split(";") if m}
    return bool(alert_codes & event_codes) or (
        bool(alert["material"]) and str(alert["material"]) in materials
    )


@dataclass(frozen=True)
class BacktestScores:
    events: pd.DataFrame
    """coverage plus caught, first_alert_year, lead_lag, alerts (ids)"""
    episodes: pd.DataFrame
    """scored alert episodes: alert_id, first_year, rule_id, exporter_iso3, ..., matched_event"""
    summary: dict[str, Any]


def calc_backtest_scores(
    alerts: pd.DataFrame, coverage: pd.DataFrame, year_from: int, year_to: int
) -> BacktestScores:
    """Score alert-years (``alerts``: alert_id, year, first_year, rule_id, signal, exporter_iso3,
    material, hs6) against the events of ``coverage`` (:func:`calc_event_coverage`)."""
    scored = alerts[
        alerts["signal"].isin(SCORED_SIGNALS) & alerts["year"].between(year_from, year_to)
    ]
    scoreable = coverage[coverage["scoreable"]]
    matched: dict[str, str] = {}
    event_rows = []
    for _, event in coverage.iterrows():
        row = event.to_dict() | {"caught": False, "first_alert_year": None, "lead_lag": None,
                                 "alerts": ""}  # fmt: skip
        if event["scoreable"]:
            low = int(event["effective_year"]) - WINDOW_BEFORE
            high = int(event["effective_year"]) + WINDOW_AFTER
            window = scored[scored["year"].between(low, high)]
            hits = window[[_relevant(alert, event) for _, alert in window.iterrows()]]
            if not hits.empty:
                first = int(hits["year"].min())
                ids = sorted(set(hits["alert_id"]))
                row |= {"caught": True, "first_alert_year": first,
                        "lead_lag": first - int(event["effective_year"]),
                        "alerts": ";".join(ids)}  # fmt: skip
                for alert_id in ids:
                    matched.setdefault(alert_id, str(event["event_id"]))
        event_rows.append(row)
    events = pd.DataFrame(event_rows)
    for column in ("first_alert_year", "lead_lag", "effective_year"):
        if column in events:  # whole years, missing where none (not NaN floats)
            events[column] = pd.Series(
                [None if pd.isna(v) else int(v) for v in events[column]], dtype=object
            )
    episodes = (scored.sort_values("year").groupby("alert_id", as_index=False).first()
                if not scored.empty else scored.copy())  # fmt: skip
    episodes = episodes[episodes["first_year"].between(year_from, year_to)].copy()
    episodes["matched_event"] = episodes["alert_id"].map(matched)
    years = year_to - year_from + 1
    caught = int(events["caught"].sum()) if not events.empty else 0
    lead_lags = [int(v) for v in events.loc[events["caught"], "lead_lag"]] if caught else []
    false_alarms = int(episodes["matched_event"].isna().sum())
    summary = {
        "years": f"{year_from}-{year_to}",
        "window": f"effective year -{WINDOW_BEFORE} to +{WINDOW_AFTER}",
        "events_listed": len(coverage),
        "events_scoreable": len(scoreable),
        "events_caught": caught,
        "recall": caught / len(scoreable) if len(scoreable) else None,
        "scored_alerts": len(episodes),
        "scored_alerts_matching_an_event": len(episodes) - false_alarms,
        "precision": (len(episodes) - false_alarms) / len(episodes) if len(episodes) else None,
        "mean_lead_lag_years": sum(lead_lags) / len(lead_lags) if lead_lags else None,
        "false_alarms": false_alarms,
        "false_alarms_per_year": false_alarms / years,
    }
    return BacktestScores(events=events, episodes=episodes.reset_index(drop=True),
                          summary=summary)  # fmt: skip


@dataclass(frozen=True)
class BacktestReport:
    """The replay: every alert-year, the scores, alert volumes per year."""

    year_from: int
    year_to: int
    alerts: pd.DataFrame
    scores: BacktestScores
    per_year: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        return self.scores.summary | self.volume_summary()

    def volume_summary(self) -> dict[str, Any]:
        per_year = self.per_year
        return {
            "alerts_per_year_mean": float(per_year["alerts"].mean()),
            "new_alerts_per_year_mean": float(per_year["new_alerts"].mean()),
            "new_alerts_per_year_max": int(per_year["new_alerts"].max()),
            "critical_new_alerts_per_year_mean": float(per_year["critical_new"].mean()),
        }

    def to_json(self) -> str:
        events = self.scores.events
        document = {
            "summary": _plain(self.summary),
            "settings": self.settings,
            "events": [_plain(r) for r in events.to_dict(orient="records")],
            "per_year": [_plain(r) for r in self.per_year.to_dict(orient="records")],
            "alerts": [_plain(r) for r in self.alerts.to_dict(orient="records")],
        }
        return json.dumps(document, indent=2)


def _plain(record: Mapping[Any, Any]) -> dict[str, Any]:
    def value(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if hasattr(v, "item"):
            return v.item()
        return v

    return {str(k): value(v) for k, v in record.items()}


def calc_volume_per_year(
    alerts: pd.DataFrame, episodes: pd.DataFrame, year_from: int, year_to: int
) -> pd.DataFrame:
    """Per year: alerts (new + continuing), new alerts, critical new, by signal; scored and
    false alarms among the new."""
    rows = []
    for year in range(year_from, year_to + 1):
        now = alerts[alerts["year"] == year]
        new = now[now["first_year"] == year]
        scored = episodes[episodes["first_year"] == year]
        row: dict[str, Any] = {
            "year": year, "alerts": len(now), "new_alerts": len(new),
            "critical_new": int((new["severity"] == "critical").sum()),
            "scored_new": len(scored),
            "scored_matching_event": int(scored["matched_event"].notna().sum()),
            "false_alarms": int(scored["matched_event"].isna().sum()),
        }  # fmt: skip
        for signal, count in new.groupby("signal").size().items():
            row[f"new_{signal}"] = int(count)
        rows.append(row)
    frame = pd.DataFrame(rows).fillna(0)
    return frame.astype({c: int for c in frame.columns})


def replay(monitor: Monitor, years: Iterable[int]) -> list[Alert]:
    """Alerts of each year, each from what was known at the end of that year."""
    found: list[Alert] = []
    for year in years:
        found += monitor.alerts(year)
    return found


def run_backtest(
    source: Source,
    year_from: int = 2000,
    year_to: int = 2024,
    rules: Sequence[RuleSpec] | None = None,
    perspectives: Sequence[str] | None = None,
    bloc: str = DEFAULT_BLOC,
) -> BacktestReport:
    """Replay ``year_from`` .. ``year_to`` and score the alerts against the event list."""
    if year_from > year_to:
        raise QueryError(f"--from {year_from} is after --to {year_to}")
    with open_relations(source) as relations:
        inputs = read_watch_inputs(relations, year_to, perspectives, bloc)
        last_trade_year = max(relations.trade_years())
        events = read_event_list(relations)
    return backtest_inputs(inputs, year_from, year_to, rules, events, last_trade_year)


def backtest_inputs(
    inputs: WatchInputs,
    year_from: int,
    year_to: int,
    rules: Sequence[RuleSpec] | None = None,
    events: pd.DataFrame | None = None,
    last_trade_year: int | None = None,
) -> BacktestReport:
    """:func:`run_backtest` over inputs already read (up to ``year_to`` or later).

    ``events``: the event list to score against (default: the events in ``inputs``, those known
    by ``year_to``); the monitor itself only ever sees ``inputs``, cut year by year.
    """
    return backtest_monitor(Monitor(inputs, rules), year_from, year_to, events, last_trade_year)


def backtest_monitor(
    monitor: Monitor,
    year_from: int,
    year_to: int,
    events: pd.DataFrame | None = None,
    last_trade_year: int | None = None,
    lock: AbstractContextManager[Any] | None = None,
) -> BacktestReport:
    """:func:`backtest_inputs` on a monitor already built, so that
    its year caches serve the replay (and the replay warms them); ``lock`` is held while it
    replays.

    ``year_to`` is cut to the monitor's last year; the exporter-product pairs an event is
    checked against are those traded up to ``year_to``, as when the inputs are read up to it
    (``run_backtest``). ``events``: as in ``backtest_inputs`` (default: the inputs' events).
    """
    inputs = monitor.inputs
    first = int(inputs.exports["year"].min())
    if year_from < first + 1:
        raise QueryError(f"the backtest needs a year of history: start at {first + 1} or later")
    year_to = min(year_to, inputs.last_year)
    with lock if lock is not None else contextlib.nullcontext():
        alerts = alerts_frame(replay(monitor, range(year_from, year_to + 1)))
    exports = inputs.exports[inputs.exports["year"] <= year_to]
    traded = exports[["exporter_iso3", "hs6"]].drop_duplicates()
    answers = inputs.events if events is None else events
    coverage = calc_event_coverage(answers, traded, year_from, year_to,
                                   last_trade_year or inputs.last_year)  # fmt: skip
    scores = calc_backtest_scores(alerts, coverage, year_from, year_to)
    per_year = calc_volume_per_year(alerts, scores.episodes, year_from, year_to)
    settings = {
        "perspectives": list(inputs.perspectives), "bloc": inputs.bloc_id,
        "rules": [rule.rule_id for rule in monitor.rules],
        "scored_signals": list(SCORED_SIGNALS), "sources": inputs.sources,
    }  # fmt: skip
    return BacktestReport(year_from, year_to, alerts, scores, per_year, settings)
