"""The monitor: signals, rule hits and alerts of a year from what was known at its end.

:class:`Monitor` holds one :class:`~chainwatch.watch.inputs.WatchInputs` and evaluates any
year up to its last: every signal of year T is computed from ``inputs.until(T)`` and from the
trade panels cut at T, so an alert for T is the alert an analyst would have had then (with the
data vintages loaded). Continuity is looked up in earlier years, each with its own cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.store.relations import Source
from chainwatch.watch.alerts import (
    Alert,
    AlertState,
    StateStore,
    calc_alert_id,
    calc_rule_hits,
    first_years,
    sort_alerts,
)
from chainwatch.watch.explain import ExplainContext, explain, related_events
from chainwatch.watch.inputs import DEFAULT_BLOC, WatchInputs, read_watch_inputs
from chainwatch.watch.rules import MONTHLY_SIGNALS, SIGNALS, RuleSpec, load_rules
from chainwatch.watch.signals import (
    calc_concentration_jumps,
    calc_import_structure,
    calc_in_bloc,
    calc_new_dominant_suppliers,
    calc_outside_bloc_rises,
    calc_partner_export_drops,
    calc_price_moves,
    calc_production_shifts,
    calc_restriction_events,
    calc_scope_panel,
    calc_supplier_export_drops,
)

_TRADE_KEYS = {"supplier": ["exporter_iso3", "scope_key"],
               "partner": ["perspective", "exporter_iso3", "scope_key"],
               "perspective": ["perspective", "scope_key"]}  # fmt: skip


class Monitor:
    """Evaluate rules year by year over one set of inputs (read once, cut per year)."""

    def __init__(
        self,
        inputs: WatchInputs,
        rules: Sequence[RuleSpec] | None = None,
        material: str | None = None,
        context_perspective: str | None = None,
        states: StateStore | None = None,
    ) -> None:
        self.inputs = inputs
        chosen = tuple(rules) if rules is not None else load_rules()
        # monthly rules run on monthly data (``watch run --month``), never year by year
        self.rules = tuple(rule for rule in chosen if rule.signal not in MONTHLY_SIGNALS)
        known = {str(m) for frame, column in ((inputs.scopes, "material"),
                                              (inputs.production, "material"),
                                              (inputs.price_series, "material"))
                 for m in frame[column].dropna()}  # fmt: skip
        if material is not None and material not in known:
            raise QueryError(f"unknown material {material!r}; known: {', '.join(sorted(known))}")
        self.material = material
        self.context_perspective = context_perspective or (
            inputs.perspectives[0] if inputs.perspectives else None
        )
        self.states = states
        scopes = inputs.scopes
        self._supplier = calc_scope_panel(inputs.exports, scopes, ["exporter_iso3"])
        self._partner = calc_scope_panel(inputs.imports, scopes, ["perspective", "exporter_iso3"])
        self._partner["in_bloc"] = calc_in_bloc(self._partner, inputs.bloc)
        self._structure = calc_import_structure(self._partner)
        self._first_year = int(inputs.exports["year"].min()) if len(inputs.exports) else 0
        self._signals: dict[tuple[int, str], pd.DataFrame] = {}
        self._hits: dict[tuple[int, str], list[dict[str, Any]]] = {}
        self._cut: dict[int, WatchInputs] = {}

    # --- signals ---------------------------------------------------------------------------

    def signals(self, year: int) -> dict[str, pd.DataFrame]:
        """Every signal of ``year`` (one frame per signal name), from data up to ``year``."""
        return {name: self.signal(year, name) for name in SIGNALS if name not in MONTHLY_SIGNALS}

    def signal(self, year: int, name: str) -> pd.DataFrame:
        """One signal of ``year``, computed on first use from data up to ``year`` only."""
        key = (year, name)
        if key not in self._signals:
            self._signals[key] = self._compute(year, name)
        return self._signals[key]

    def _known(self, year: int) -> WatchInputs:
        if year > self.inputs.last_year and year > self._price_year():
            raise QueryError(f"no data for {year}: the store's data end in {self.inputs.last_year}")
        if year not in self._cut:
            self._cut[year] = self.inputs.until(year)
        return self._cut[year]

    def _compute(self, year: int, name: str) -> pd.DataFrame:
        known = self._known(year)
        if name in ("price_spike", "price_volatility"):
            return self._describe_prices(calc_price_moves(known.prices, year), known)
        if name == "restriction_event":
            events = calc_restriction_events(known.events, year)
            source = f"export_restriction_event: {known.sources.get('export_restriction_event')}"
            return events.assign(
                signal=name, scope=events.get("event_id", pd.Series(dtype=str)),
                perspective=None, stage=None, scope_key=None, sources=source,
            )  # fmt: skip
        codes = self._scope_codes(known)
        if name == "production_share_shift":
            return self._describe_production(calc_production_shifts(known.production, year),
                                             codes)  # fmt: skip
        structure = self._structure[self._structure["year"] <= year]
        calculations = {
            "supplier_export_drop": lambda: calc_supplier_export_drops(
                self._supplier[self._supplier["year"] <= year], year),
            "partner_export_drop": lambda: calc_partner_export_drops(
                self._partner[self._partner["year"] <= year], year),
            "import_concentration": lambda: calc_concentration_jumps(structure, year),
            "new_dominant_supplier": lambda: calc_new_dominant_suppliers(structure, year),
            "outside_bloc_share": lambda: calc_outside_bloc_rises(structure, year),
        }  # fmt: skip
        source = f"trade_flow: {known.sources.get('trade_flow', '')}"
        return self._describe_trade(calculations[name](), name, codes, source)

    def _price_year(self) -> int:
        months = self.inputs.prices["month"]
        return int(months.max().year) if len(months) else 0

    def _scope_codes(self, known: WatchInputs) -> pd.DataFrame:
        """scope_key -> material, stage and the traded codes (';'-joined) it sums."""
        traded = known.exports[["hs6", "hs_revision"]].drop_duplicates()
        scopes = known.scopes.merge(traded, on=["hs6", "hs_revision"], how="left", indicator=True)
        scopes = scopes.sort_values("hs6")
        all_codes: dict[str, list[str]] = {}
        traded_codes: dict[str, list[str]] = {}
        for key, code, merge in zip(scopes["scope_key"], scopes["hs6"], scopes["_merge"],
                                    strict=True):  # fmt: skip
            all_codes.setdefault(str(key), []).append(str(code))
            if merge == "both":
                traded_codes.setdefault(str(key), []).append(str(code))
        grouped = scopes.groupby("scope_key")
        frame = pd.DataFrame({"material": grouped["material"].first(),
                              "stage": grouped["stage"].first()})  # fmt: skip
        frame["hs6"] = [";".join(dict.fromkeys(traded_codes.get(str(k)) or all_codes[str(k)]))
                        for k in frame.index]  # fmt: skip
        return frame

    def _describe_trade(
        self, frame: pd.DataFrame, name: str, codes: pd.DataFrame, source: str
    ) -> pd.DataFrame:
        keys = _TRADE_KEYS[SIGNALS[name].scope]
        if frame.empty:
            return frame.assign(signal=name, scope="", material=None, stage=None, hs6="",
                                sources=source)  # fmt: skip
        described = frame.join(codes, on="scope_key")
        scope = described[keys[0]].astype(str)
        for key in keys[1:]:
            scope = scope + "|" + described[key].astype(str)
        return described.assign(signal=name, scope=scope, sources=source)

    def _describe_production(self, frame: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
        if frame.empty:
            return frame.assign(signal="production_share_shift", scope="", hs6="", sources="")
        described = frame.join(codes[["hs6"]], on="scope_key")
        return described.assign(
            signal="production_share_shift",
            scope=described["exporter_iso3"] + "|" + described["scope_key"],
            hs6=described["hs6"].fillna(""),
            sources="production: " + described["edition"],
            perspective=None,
        )

    def _describe_prices(self, frame: pd.DataFrame, known: WatchInputs) -> pd.DataFrame:
        materials = dict(zip(known.price_series["series"], known.price_series["material"],
                             strict=True))  # fmt: skip
        labels = dict(zip(known.price_series["series"], known.price_series["name"], strict=True))
        if frame.empty:
            return frame.assign(scope="", material=None)
        return frame.assign(
            scope=frame["series_name"], material=frame["series_name"].map(materials),
            series_label=frame["series_name"].map(labels),
            stage=None, hs6="", perspective=None, exporter_iso3=None, scope_key=None,
            sources=f"price: {known.sources.get('price', '')}",
        )  # fmt: skip

    # --- rules and alerts ------------------------------------------------------------------

    def hits(self, year: int) -> list[dict[str, Any]]:
        """Signal rows of ``year`` where a rule fires (material filter applied)."""
        return [hit for rule in self.rules for hit in self._rule_hits(year, rule)]

    def _rule_hits(self, year: int, rule: RuleSpec) -> list[dict[str, Any]]:
        key = (year, rule.rule_id)
        if key not in self._hits:
            frame = self.signal(year, rule.signal)
            if self.material is not None and not frame.empty:
                wanted = frame["material"].fillna("").astype(str).map(
                    lambda text: self.material in text.split(";"))  # fmt: skip
                frame = frame[wanted]
            self._hits[key] = [hit | {"signal": rule.signal}
                               for hit in calc_rule_hits(frame, rule)]  # fmt: skip
        return self._hits[key]

    def fired(self, year: int, rule_ids: Iterable[str] | None = None) -> set[str]:
        """Identities (rule and scope) that fired in ``year`` (of the given rules only)."""
        if year < self._first_year:
            return set()
        wanted = set(rule_ids) if rule_ids is not None else None
        return {hit["identity"] for rule in self.rules
                if wanted is None or rule.rule_id in wanted
                for hit in self._rule_hits(year, rule)}  # fmt: skip

    def _starts(self, hits: list[dict[str, Any]], year: int) -> dict[str, int]:
        """First year of each hit's run, looking back only at the rules that fired."""
        rule_ids = {hit["rule_id"] for hit in hits}
        return first_years({hit["identity"] for hit in hits}, year,
                           lambda when: self.fired(when, rule_ids), self._first_year)  # fmt: skip

    def alerts(self, year: int) -> list[Alert]:
        """The alerts of ``year``: new ones and those continuing from earlier years."""
        hits = self.hits(year)
        starts = self._starts(hits, year)
        context = self._context(year)
        rules = {rule.rule_id: rule for rule in self.rules}
        alerts = [self._alert(hit, starts[hit["identity"]], rules[hit["rule_id"]], context)
                  for hit in hits]  # fmt: skip
        return sort_alerts(alerts)

    def resolved(self, year: int) -> list[Alert]:
        """Alerts of ``year - 1`` whose condition no longer holds in ``year`` (state resolved)."""
        now = self.fired(year)
        ended = [hit for hit in self.hits(year - 1) if hit["identity"] not in now]
        starts = self._starts(ended, year - 1)
        context = self._context(year - 1)
        rules = {rule.rule_id: rule for rule in self.rules}
        return sort_alerts(
            self._alert(hit, starts[hit["identity"]], rules[hit["rule_id"]], context,
                        AlertState.resolved)
            for hit in ended
        )  # fmt: skip

    def _context(self, year: int) -> ExplainContext:
        known = self._known(year)
        shares = _partner_shares(self._partner, year - 1)
        lookup = {
            (p, e, k): float(v) for p, e, k, v in zip(
                shares["perspective"], shares["exporter_iso3"], shares["scope_key"],
                shares["share"], strict=True)
        }  # fmt: skip

        def import_share(perspective: str, exporter: str, scope_key: str, when: int) -> float:
            return lookup.get((perspective, exporter, scope_key), float("nan"))

        return ExplainContext(
            year=year, bloc=self.inputs.bloc_id, perspective=self.context_perspective,
            name=known.name, material_name=known.material_name, import_share=import_share,
            events=known.events,
        )  # fmt: skip

    def _alert(
        self,
        hit: dict[str, Any],
        first_year: int,
        rule: RuleSpec,
        context: ExplainContext,
        state: AlertState | None = None,
    ) -> Alert:
        explanation = explain(rule.signal, hit, context)
        events = related_events(hit, context) if rule.signal != "restriction_event" else []
        sources = str(hit.get("sources") or "")
        if events:
            sources += (
                f"; export_restriction_event: "
                f"{self.inputs.sources.get('export_restriction_event', '')}"
            )
        alert_id = calc_alert_id(rule.rule_id, str(hit["scope"]), first_year)
        if state is None:
            stored = self.states.get(alert_id) if self.states is not None else None
            state = stored or AlertState.new
        value = explanation.value
        return Alert(
            alert_id=alert_id, rule_id=rule.rule_id, signal=rule.signal,
            severity=hit["severity"], year=int(hit["year"]), first_year=first_year,
            continuing=first_year < int(hit["year"]), state=state,
            sentence=explanation.sentence, perspective=_text(hit.get("perspective")),
            exporter_iso3=_text(hit.get("exporter_iso3")), material=_text(hit.get("material")),
            stage=_text(hit.get("stage")), hs6=str(hit.get("hs6") or ""), scope=str(hit["scope"]),
            field=explanation.field,
            value=value if isinstance(value, str) else None if value is None else float(value),
            threshold=rule.threshold_text(), baseline=explanation.baseline,
            series=tuple(hit.get("series") or ()), sources=sources,
            related_events=tuple(events),
        )  # fmt: skip


def _partner_shares(partners: pd.DataFrame, year: int) -> pd.DataFrame:
    """Share of each supplier in a perspective's imports (value) in ``year``: for sentences."""
    rows = partners[partners["year"] == year]
    total = rows.groupby(["perspective", "scope_key"])["value_usd"].transform("sum")
    return rows.assign(share=rows["value_usd"] / total.where(total > 0))


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def calc_alerts(
    source: Source,
    year: int,
    perspective: str | None = None,
    material: str | None = None,
    rules: Sequence[RuleSpec] | None = None,
    bloc: str = DEFAULT_BLOC,
) -> list[Alert]:
    """Alerts of ``year`` for a perspective (default: ALLIED, CAN, EU27, GBR, USA)."""
    inputs = read_watch_inputs(source, year, [perspective] if perspective else None, bloc)
    return Monitor(inputs, rules, material).alerts(year)
