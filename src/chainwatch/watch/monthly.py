"""Monthly supplier-drop signal over ``trade_flow_monthly`` (UN Comtrade monthly data).

One row per reporter (importing country, in the ``perspective`` column), partner (supplier,
``exporter_iso3``) and scope (``material|stage`` where the HS6 code is mapped to a material in
that revision, else ``hs6:CODE``) for a tested month M: the reporter's imports from that
partner in M, in tonnes (net weight), against its own history.

Baseline (the choice): the **trailing 12 months** M-12 .. M-1, not the same month of earlier
years. A same-month baseline would need three or more years of monthly history before the
first signal and would react to a break a year late at best; the trailing window catches a
stop within a month. Seasonality is handled by the extra fields instead: ``yoy_change``
compares M with the same month a year earlier (M-12).

The statistics are those of the annual signals (``watch/signals.py``, computed by the same
function with months as periods): ``robust_z`` = (x_M - median) / max(1.4826 MAD, 5 % of the
median) over M-12 .. M-1; ``change_z`` = the month-on-month log change against the 12 before
it (floor 0.05); ``change_vs_median`` = x_M / median - 1; ``previous_change`` = x_M / x_(M-1)
- 1; ``yoy_change`` = x_M / x_(M-12) - 1; ``baseline_share``, ``share_change_vs_median``,
``value_usd``, ``baseline_value_usd``, ``value_change_vs_median`` as for the partner signal
(b). The rows carry the field names of ``partner_export_drop``, so a rule written for that
signal (``watch/rules.py``) can be evaluated on them with ``alerts.calc_rule_hits``.

No look-ahead: the rows for month M are computed from flows dated M or earlier only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.store.relations import Relations, Source, open_relations
from chainwatch.watch.alerts import Alert, AlertState, calc_alert_id, calc_rule_hits, sort_alerts
from chainwatch.watch.explain import ExplainContext, explain
from chainwatch.watch.inputs import SHORT_NAMES
from chainwatch.watch.rules import MONTHLY_SIGNALS, RuleSpec, load_rules
from chainwatch.watch.signals import calc_partner_export_drops, calc_scope_panel

MONTH_WINDOW = 12
"""Trailing months a month is compared with (M-12 .. M-1)."""
SIGNAL = "monthly_partner_drop"


def month_index(month: date | pd.Timestamp) -> int:
    """Months since year 0: consecutive integers, so month arithmetic is subtraction."""
    return int(month.year) * 12 + int(month.month) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def calc_monthly_partner_drops(
    flows: pd.DataFrame,
    month: date | pd.Timestamp,
    scopes: pd.DataFrame | None = None,
    window: int = MONTH_WINDOW,
) -> pd.DataFrame:
    """Imports of each reporter from each partner in ``month`` against the trailing window.

    ``flows``: rows of ``trade_flow_monthly`` (period, reporter_iso3, partner_iso3, flow, hs6,
    hs_revision, value_usd, quantity_t); only imports are read, and only periods up to
    ``month``. ``scopes``: hs6, hs_revision, scope_key (as ``WatchInputs.scopes``); a code in
    none of them is its own scope ``hs6:CODE``.
    """
    tested = month_index(month)
    imports = flows[flows["flow"] == "import"].copy()
    periods = pd.to_datetime(imports["period"])
    imports["year"] = periods.dt.year * 12 + periods.dt.month - 1  # the period axis, in months
    imports = imports[imports["year"] <= tested]  # no look-ahead
    keys = ["perspective", "exporter_iso3", "scope_key"]
    if imports.empty:
        return pd.DataFrame(columns=[*keys, "month", "signal"])
    imports = imports.rename(columns={"reporter_iso3": "perspective",
                                      "partner_iso3": "exporter_iso3"})  # fmt: skip
    panel = calc_scope_panel(imports, _scopes(imports, scopes), ["perspective", "exporter_iso3"])
    rows = calc_partner_export_drops(panel, tested, window)
    if rows.empty:
        return pd.DataFrame(columns=[*keys, "month", "signal"])
    return _describe(rows, tested, window)


def _scopes(imports: pd.DataFrame, scopes: pd.DataFrame | None) -> pd.DataFrame:
    codes = imports[["hs6", "hs_revision"]].drop_duplicates()
    mapped = (
        scopes[["hs6", "hs_revision", "scope_key"]]
        if scopes is not None
        else pd.DataFrame(columns=["hs6", "hs_revision", "scope_key"])
    )
    unmapped = codes.merge(mapped, on=["hs6", "hs_revision"], how="left")
    unmapped = unmapped[unmapped["scope_key"].isna()]
    own = unmapped.assign(scope_key="hs6:" + unmapped["hs6"].astype(str))
    return pd.concat([mapped, own], ignore_index=True)


def _describe(rows: pd.DataFrame, tested: int, window: int = MONTH_WINDOW) -> pd.DataFrame:
    """Month labels instead of month indexes; yoy_change from the same month a year earlier."""
    previous_change = rows["yoy_change"]  # x_M / x_(M-1) - 1 in the annual calculation
    same_month = [_point(series, tested - 12) for series in rows["series"]]
    current = rows["quantity_t"].to_numpy(dtype=float)
    earlier = np.asarray(same_month, dtype=float)
    safe = np.where(earlier > 0, earlier, 1.0)
    described = rows.assign(
        month=month_label(tested),
        year=tested // 12,
        previous_change=previous_change,
        yoy_change=np.where(earlier > 0, current / safe - 1.0, np.nan),
        series=pd.Series(
            [tuple((month_label(int(p)), v) for p, v in series) for series in rows["series"]],
            index=rows.index,
            dtype=object,
        ),
        signal=SIGNAL,
        baseline_window=f"{month_label(tested - window)} to {month_label(tested - 1)}",
        scope=rows["perspective"] + "|" + rows["exporter_iso3"] + "|" + rows["scope_key"],
    )
    return described


def _point(series: Any, period: int) -> float:
    for label, value in series:
        if int(label) == period:
            return float(value)
    return float("nan")


def read_monthly_flows(relations: Relations, month: date | pd.Timestamp) -> pd.DataFrame:
    """Rows of ``trade_flow_monthly`` dated ``month`` or earlier."""
    return relations.monthly_flows(month)


NO_MONTHLY_DATA = "no monthly trade data loaded; see chainwatch ingest comtrade"


def calc_monthly_alerts(
    source: Source,
    month: date,
    perspective: str | None = None,
    material: str | None = None,
    rules: Sequence[RuleSpec] | None = None,
) -> list[Alert]:
    """Alerts of ``month`` from the monthly rules (``monthly_partner_drop``), explained.

    Only flows dated ``month`` or earlier are read; each earlier month a hit is traced back to
    (continuity) is evaluated on the flows up to that month only. ``perspective`` is a
    reporter (ISO3; monthly data are not aggregated to groups). The id hashes the rule, the
    scope and the first month of the run, so it stays the same while the condition holds.
    """
    chosen = [r for r in (rules if rules is not None else load_rules())
              if r.signal in MONTHLY_SIGNALS]  # fmt: skip
    label = month_label(month_index(month))
    with open_relations(source) as relations:
        if not relations.monthly_flow_count():
            raise QueryError(NO_MONTHLY_DATA)
        flows = read_monthly_flows(relations, month)
        mapped = relations.mapped_scopes()
        sources = relations.monthly_vintages(month)
        names = relations.names()
    if flows.empty:
        raise QueryError(f"no monthly trade data for {label} or earlier")
    if perspective is not None:
        flows = flows[flows["reporter_iso3"] == perspective.upper()]
        if flows.empty:
            raise QueryError(f"no monthly trade data reported by {perspective} up to {label}")
    evaluator = _MonthlyRules(flows, mapped, chosen, material, f"trade_flow_monthly: {sources}")
    tested = month_index(month)
    hits = evaluator.hits(tested)
    earliest = month_index(pd.Timestamp(pd.to_datetime(flows["period"]).min()))
    context = ExplainContext(
        year=month.year, bloc="", perspective=None,
        name=lambda code: (SHORT_NAMES.get(code) or names.get(code) or code) if code else "",
        material_name=lambda m: names.get(f"material:{m}", m).lower() if m else "",
        import_share=lambda *_: float("nan"),
        events=pd.DataFrame(columns=["event_id", "country_iso3", "hs6_codes", "end_date"]),
    )  # fmt: skip
    rules_by_id = {rule.rule_id: rule for rule in chosen}
    alerts = []
    for hit in hits:
        start = tested
        while start - 1 >= earliest and hit["identity"] in evaluator.fired(start - 1):
            start -= 1
        alerts.append(_alert(hit, rules_by_id[hit["rule_id"]], start, tested, context))
    return sort_alerts(alerts)


class _MonthlyRules:
    """Signal rows and rule hits of each month, each from the flows up to that month only."""

    def __init__(
        self,
        flows: pd.DataFrame,
        scopes: pd.DataFrame,
        rules: Sequence[RuleSpec],
        material: str | None,
        sources: str,
    ) -> None:
        self.flows, self.scopes, self.rules = flows, scopes, rules
        self.material, self.sources = material, sources
        self._hits: dict[int, list[dict[str, Any]]] = {}

    def signal(self, tested: int) -> pd.DataFrame:
        month = date(tested // 12, tested % 12 + 1, 1)
        rows = calc_monthly_partner_drops(self.flows, month, self.scopes)
        if rows.empty:
            return rows
        described = self.scopes.drop_duplicates("scope_key").set_index("scope_key")
        codes = self._codes(tested)
        return rows.assign(
            material=_objects(rows["scope_key"].map(described["material"])),
            stage=_objects(rows["scope_key"].map(described["stage"])),
            hs6=rows["scope_key"].map(codes).fillna(""),
            sources=self.sources,
        )

    def _codes(self, tested: int) -> dict[str, str]:
        """scope_key -> the traded HS6 codes (';'-joined) it sums."""
        periods = pd.to_datetime(self.flows["period"])
        traded = self.flows[periods.dt.year * 12 + periods.dt.month - 1 <= tested]
        traded = traded[["hs6", "hs_revision"]].drop_duplicates()
        merged = traded.merge(self.scopes, on=["hs6", "hs_revision"], how="left")
        keys = merged["scope_key"].fillna("hs6:" + merged["hs6"].astype(str))
        grouped: dict[str, list[str]] = {}
        for key, code in sorted(zip(keys, merged["hs6"].astype(str), strict=True)):
            grouped.setdefault(str(key), []).append(code)
        return {key: ";".join(dict.fromkeys(codes)) for key, codes in grouped.items()}

    def hits(self, tested: int) -> list[dict[str, Any]]:
        if tested not in self._hits:
            frame = self.signal(tested)
            if self.material is not None and not frame.empty:
                wanted = frame["material"].fillna("").astype(str) == self.material
                frame = frame[wanted]
            self._hits[tested] = [hit | {"signal": rule.signal} for rule in self.rules
                                  for hit in calc_rule_hits(frame, rule)]  # fmt: skip
        return self._hits[tested]

    def fired(self, tested: int) -> set[str]:
        return {hit["identity"] for hit in self.hits(tested)}


def _alert(
    hit: dict[str, Any], rule: RuleSpec, first: int, tested: int, context: ExplainContext
) -> Alert:
    explanation = explain(rule.signal, hit, context)
    sentence = explanation.sentence
    if first < tested:
        sentence += f" Flagged every month since {month_label(first)}."
    value = explanation.value
    return Alert(
        alert_id=calc_alert_id(rule.rule_id, str(hit["scope"]), month_label(first)),
        rule_id=rule.rule_id, signal=rule.signal, severity=hit["severity"],
        year=tested // 12, first_year=first // 12, continuing=first < tested,
        state=AlertState.new, sentence=sentence, perspective=_text(hit.get("perspective")),
        exporter_iso3=_text(hit.get("exporter_iso3")), material=_text(hit.get("material")),
        stage=_text(hit.get("stage")), hs6=str(hit.get("hs6") or ""), scope=str(hit["scope"]),
        field=explanation.field,
        value=value if isinstance(value, str) else None if value is None else float(value),
        threshold=rule.threshold_text(), baseline=explanation.baseline,
        series=tuple(hit.get("series") or ()), sources=str(hit.get("sources") or ""),
    )  # fmt: skip


def _objects(values: pd.Series) -> pd.Series:
    """Text values with None (not NaN) where missing."""
    return pd.Series(
        [value if isinstance(value, str) else None for value in values],
        index=values.index,
        dtype=object,
    )


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)
