"""Alerts: rules evaluated over signal rows, with stable ids, continuity and a workflow state.

An alert is one rule firing for one scope (a supplier and material, a perspective, a price
series, an event). The same rule firing for the same scope in consecutive years is one alert
that continues: its id hashes the rule, the scope and the first year of the run, so it stays
the same while the condition holds. The workflow state (new -> confirmed | dismissed ->
resolved) is a field; :class:`StateStore` is the seam where states persist
(``InMemoryStateStore``, or ``chainwatch.store.app_state.AppState`` on SQLite/PostgreSQL).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import pandas as pd

from chainwatch.watch.rules import SEVERITIES, Condition, RuleSpec, Severity


class AlertState(StrEnum):
    new = "new"
    confirmed = "confirmed"
    dismissed = "dismissed"
    resolved = "resolved"


TRANSITIONS: dict[AlertState, frozenset[AlertState]] = {
    AlertState.new: frozenset({AlertState.confirmed, AlertState.dismissed, AlertState.resolved}),
    AlertState.confirmed: frozenset({AlertState.resolved}),
    AlertState.dismissed: frozenset({AlertState.resolved}),
    AlertState.resolved: frozenset(),
}
"""Allowed workflow moves: an analyst confirms or dismisses a new alert; any open alert is
resolved when its condition ends (or by hand)."""


def check_transition(current: AlertState, target: AlertState) -> AlertState:
    """``target`` if the move from ``current`` is allowed, else ``ValueError``."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        raise ValueError(f"an alert cannot go from {current} to {target} (allowed: {allowed})")
    return target


class StateStore(Protocol):
    """Where alert states live (``AppState`` keeps them in the app database)."""

    def get(self, alert_id: str) -> AlertState | None: ...

    def set(self, alert_id: str, state: AlertState) -> None: ...


@dataclass
class InMemoryStateStore:
    """A :class:`StateStore` in a dict: for tests and single runs."""

    states: dict[str, AlertState] = field(default_factory=dict)

    def get(self, alert_id: str) -> AlertState | None:
        return self.states.get(alert_id)

    def set(self, alert_id: str, state: AlertState) -> None:
        current = self.states.get(alert_id, AlertState.new)
        if current != state:
            check_transition(current, state)
        self.states[alert_id] = state


@dataclass(frozen=True)
class Alert:
    """One alert of year ``year``: what fired, where, against what, and why in one sentence."""

    alert_id: str
    rule_id: str
    signal: str
    severity: Severity
    year: int
    first_year: int
    continuing: bool
    state: AlertState
    sentence: str
    perspective: str | None
    exporter_iso3: str | None
    material: str | None
    stage: str | None
    hs6: str
    scope: str
    field: str
    value: float | str | None
    threshold: str
    baseline: str
    series: tuple[tuple[str, float], ...]
    sources: str
    related_events: tuple[str, ...] = ()

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["state"] = str(self.state)
        record["series"] = [list(point) for point in self.series]
        record["related_events"] = list(self.related_events)
        return record


ALERT_COLUMNS = [
    "alert_id", "year", "severity", "rule_id", "signal", "first_year", "continuing", "state",
    "perspective", "exporter_iso3", "material", "stage", "hs6", "scope", "field", "value",
    "threshold", "baseline", "sentence", "related_events", "sources", "series",
]  # fmt: skip


def alerts_frame(alerts: Iterable[Alert]) -> pd.DataFrame:
    """Alerts as a table (series as 'period=value' text, related events ';'-joined)."""
    rows = []
    for alert in alerts:
        record = alert.to_record()
        record["series"] = "; ".join(f"{p}={v:.6g}" for p, v in alert.series)
        record["related_events"] = ";".join(alert.related_events)
        rows.append(record)
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def calc_alert_id(rule_id: str, scope: str, first_year: int | str) -> str:
    """Stable id: the same rule, scope and first year (or month, 'YYYY-MM') of the run give
    the same id."""
    return hashlib.sha256(f"{rule_id}|{scope}|{first_year}".encode()).hexdigest()[:16]


def calc_condition_mask(frame: pd.DataFrame, conditions: Sequence[Condition]) -> pd.Series:
    """Rows where every condition holds (a missing value never satisfies a condition)."""
    mask = pd.Series(True, index=frame.index)
    for condition in conditions:
        if condition.field not in frame.columns:
            return pd.Series(False, index=frame.index)
        column = frame[condition.field]
        if isinstance(condition.value, tuple):
            mask &= column.astype(str).isin(condition.value)
            continue
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        if condition.operator == "<=":
            held = values <= condition.value
        else:
            held = values >= condition.value
        mask &= pd.Series(held & ~np.isnan(values), index=frame.index)
    return mask


def _matches_any(values: pd.Series, wanted: Sequence[str]) -> pd.Series:
    """Rows whose value (or one of its ';'-separated values) is in ``wanted``."""
    chosen = set(wanted)
    return (
        values.fillna("")
        .astype(str)
        .map(lambda text: bool(chosen & {part for part in text.split(";") if part}))
    )


def calc_rule_hits(frame: pd.DataFrame, rule: RuleSpec) -> list[dict[str, Any]]:
    """Signal rows where ``rule`` fires, as records with rule_id, severity and scope identity."""
    if frame.empty:
        return []
    mask = calc_condition_mask(frame, rule.conditions)
    if rule.materials:
        mask &= _matches_any(frame["material"], rule.materials)
    if rule.exporters:
        mask &= frame.get("exporter_iso3", pd.Series("", index=frame.index)).isin(rule.exporters)
    if rule.perspectives:
        mask &= frame.get("perspective", pd.Series("", index=frame.index)).isin(rule.perspectives)
    hits = frame[mask]
    if hits.empty:
        return []
    critical = (
        calc_condition_mask(hits, rule.critical_when)
        if rule.critical_when
        else pd.Series(False, index=hits.index)
    )
    records = []
    for (_, row), escalated in zip(hits.iterrows(), critical, strict=True):
        record: dict[str, Any] = {str(key): _plain(value) for key, value in row.items()}
        record["rule_id"] = rule.rule_id
        record["severity"] = "critical" if escalated else rule.severity
        record["identity"] = f"{rule.rule_id}|{record['scope']}"
        records.append(record)
    return records


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """Most severe first, then new before continuing, then by rule and scope."""
    return sorted(
        alerts,
        key=lambda a: (-severity_rank(a.severity), a.continuing, a.rule_id, a.scope),
    )


def number(value: Any) -> float:
    """A float from a record value (NaN when missing)."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def first_years(
    identities: Iterable[str], year: int, fired_in: Callable[[int], set[str]], earliest: int
) -> dict[str, int]:
    """First year of the unbroken run of years ending at ``year`` in which each identity fired.

    ``fired_in(t)`` gives the identities that fired in year t (computed with data up to t only).
    """
    result = {}
    for identity in identities:
        start = year
        while start - 1 >= earliest and identity in fired_in(start - 1):
            start -= 1
        result[identity] = start
    return result
