"""Production-side metrics for one scope and year: concentration, reliance, supply risk.

The production series is chosen by the one rule in :mod:`chainwatch.metrics.production`;
shares divide by that series' own world total (same source, unit and edition) and stay in
[0, 1]. The HHI sums named countries only ("Other countries" is a residual of unknown make-up,
so the HHI is a lower bound). Production quantities are in the series' own unit (often
contained metal) while trade quantities are gross weight in tonnes: import reliance and
sourcing shares mix the two, as the EU CRM method does when it combines production and trade
statistics. Countries without a WGI estimate get the neutral midpoint (WGI_scaled 5, g 0.5).
Where a stage lacks trade or production data, the EU supply risk uses the JRC fallbacks
(:mod:`chainwatch.metrics.supply_risk`) and says which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from chainwatch.metrics import formulas as f
from chainwatch.metrics import unit_values
from chainwatch.metrics.inputs import PRODUCTION_STAGES, restriction_factors
from chainwatch.metrics.membership import members_in
from chainwatch.metrics.production import (
    choose_production_series,
    production_shares,
    series_label,
)
from chainwatch.metrics.supply_risk import (
    SupplyRiskInputs,
    Weighted,
    sourcing_shares,
    supply_risk_rows,
    weighted_hhi,
)

if TYPE_CHECKING:
    from chainwatch.metrics.service import Context

TONNES_PER_UNIT = {"t": 1.0, "kg": 0.001}
NEUTRAL_WGI_SCALED = 5.0
NEUTRAL_INSTABILITY = 0.5
MEMBER_FACTOR = 0.8
"""t for suppliers inside the perspective (the EU CRM method's 0.8 for EU members)."""
RowMaker = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Supply:
    """Production of one material at one stage in one year."""

    material: str
    year: int
    shares: pd.DataFrame  # country_iso3, quantity, share
    unit: str
    label: str
    source: str
    domestic: float  # production of the perspective's members, in ``unit``

    @property
    def domestic_t(self) -> float | None:
        factor = TONNES_PER_UNIT.get(self.unit)
        return None if factor is None else self.domestic * factor


def production_series(context: Context, material: str, stage: str, year: int) -> pd.DataFrame:
    """Rows of the production series of a material, stage and year in the context."""
    key = ("series", material, stage, year)
    if key not in context.memo:
        rows = _groups(context, "production", context.production, ["material", "stage", "year"])
        group = rows.get((material, stage, year))
        empty = context.production.iloc[0:0]
        context.memo[key] = choose_production_series(empty if group is None else group)
    series = context.memo[key]
    assert isinstance(series, pd.DataFrame)
    return series


def _groups(
    context: Context, name: str, frame: pd.DataFrame, keys: list[str]
) -> dict[tuple[object, ...], pd.DataFrame]:
    """``frame`` split by ``keys`` once per request (a dict lookup instead of a filter)."""
    key = ("groups", name)
    if key not in context.memo:
        context.memo[key] = {
            tuple(k) if isinstance(k, tuple) else (k,): group
            for k, group in frame.groupby(keys, sort=False)
        }
    groups = context.memo[key]
    assert isinstance(groups, dict)
    return groups


def partner_imports(context: Context, year: int, scope_key: str) -> pd.DataFrame:
    """The perspective's imports by partner for one year and scope."""
    frame = context.trade.partner_imports
    found = _groups(context, "partners", frame, ["year", "scope_key"]).get((year, scope_key))
    return frame.iloc[0:0] if found is None else found


def _is_member(context: Context, country: str, year: int) -> bool:
    key = ("members", year)
    if key not in context.memo:
        context.memo[key] = members_in(context.members, year)
    inside = context.memo[key]
    assert isinstance(inside, frozenset)
    return country in inside


def trade_factor(context: Context, material: str, year: int, country: str) -> float:
    """Trade-related t: 0.8 inside the perspective, raised where the supplier restricts exports."""
    key = ("t", material, year, country)
    if key not in context.memo:
        context.memo[key] = _trade_factor(context, material, year, country)
    factor = context.memo[key]
    assert isinstance(factor, float)
    return factor


def _trade_factor(context: Context, material: str, year: int, country: str) -> float:
    if _is_member(context, country, year):
        return MEMBER_FACTOR
    events = context.restrictions.get(material)
    factor = 1.0
    if events is None or events.empty:
        return factor
    for _, event in events[events["country_iso3"] == country].iterrows():
        effective, ended = event["effective_date"], event["end_date"]
        start = pd.Timestamp(effective).year if pd.notna(effective) else 0
        end = pd.Timestamp(ended).year if pd.notna(ended) else 9999
        if start <= year <= end:
            factor = max(factor, restriction_factors().get(str(event["measure_type"]), 1.0))
    return factor


def _governance(context: Context, year: int, column: str, countries: list[str]) -> list[float]:
    key = ("governance", year, column)
    if key not in context.memo:
        table = context.governance[context.governance["year"] == year]
        known = {} if column not in table else {
            str(c): float(v) for c, v in zip(table["country_iso3"], table[column], strict=True)
            if v is not None and not pd.isna(v)
        }  # fmt: skip
        context.memo[key] = known
    values = context.memo[key]
    assert isinstance(values, dict)
    neutral = NEUTRAL_WGI_SCALED if column == "wgi_scaled" else NEUTRAL_INSTABILITY
    return [float(values.get(country, neutral)) for country in countries]


def _supply(context: Context, material: str, stage: str, year: int) -> Supply | None:
    series = production_series(context, material, stage, year)
    if series.empty:
        return None
    shares = production_shares(series)
    if shares.empty or float(shares["quantity"].sum()) <= 0:
        return None
    members = [c for c in shares["country_iso3"] if _is_member(context, c, year)]
    first = series.iloc[0]
    return Supply(
        material=material,
        year=year,
        shares=shares,
        unit=str(first["unit"]),
        label=series_label(series),
        source=f"{first['source']} {first['vintage']}",
        domestic=float(shares.loc[shares["country_iso3"].isin(members), "quantity"].sum()),
    )


def missing_trade(scope: pd.DataFrame) -> str:
    """What trade data a scope lacks, and how to load them."""
    codes = sorted({str(c) for c in scope["hs6"].dropna()})
    if not codes:
        first = scope.iloc[0]
        return f"no HS6 code maps to the {first['stage']} stage of {first['material']}"
    revisions = sorted({str(r) for r in scope["hs_revision"].dropna()})
    return (
        f"no trade data loaded for HS6 {', '.join(codes)} ({'/'.join(revisions)} codes: "
        "load a BACI release of that HS revision or later, `chainwatch data fetch baci --hs HS22`)"
    )


def missing_production(material: str, stage: str, withheld: bool = False) -> str:
    """What production data a stage lacks, and how to load them."""
    if withheld:
        return (
            f"the loaded {stage} production series for {material} gives no figure for the "
            "year (withheld or not available at the publisher)"
        )
    return (
        f"no {stage} production series for {material} "
        "(`chainwatch ingest usgs-mcs FILE` or `chainwatch ingest wmd FILE`)"
    )


def supply_metrics(
    context: Context,
    year: int,
    scope: pd.DataFrame,
    imports_qty: float | None,
    exports_qty: float | None,
    row: RowMaker,
) -> list[dict[str, Any]]:
    """Production metrics, EU supply risk (with its fallbacks) and GeoPolRisk of one scope.

    ``imports_qty`` is None where no trade data are loaded for the scope."""
    material, stage = scope.iloc[0]["material"], scope.iloc[0]["stage"]
    if not isinstance(material, str) or stage not in PRODUCTION_STAGES:
        return []
    supply = _supply(context, material, stage, year)
    used = supply.source if supply is not None else ""
    base = row

    def sourced(metric: str, value: float | None, detail: str | None = None) -> dict[str, Any]:
        return base(metric, value, detail, production_source=used)

    row = sourced
    scope_key = str(scope.iloc[0]["scope_key"])
    partners = partner_imports(context, year, scope_key)
    rows: list[dict[str, Any]] = []
    reliance = None
    if supply is not None:
        rows += _production_rows(context, supply, row)
        if imports_qty is not None and exports_qty is not None and supply.domestic_t is not None:
            reliance = f.calc_import_reliance(imports_qty, exports_qty, supply.domestic_t)
        reliance_note = f"trade gross weight t; production {supply.unit}"
        if supply.domestic_t is None:
            reliance_note = f"not computable: production in {supply.unit}, trade in t"
        elif imports_qty is None:
            reliance_note = f"not computable: {missing_trade(scope)}"
        rows.append(row("import_reliance", reliance, reliance_note))
    inputs = _risk_inputs(context, year, scope, supply, partners, reliance, imports_qty)
    rows += supply_risk_rows(inputs, row)
    if imports_qty is not None and supply is not None:  # no trade: GeoPolRisk unknown, not 0
        rows += _geopolrisk(context, supply, partners, scope_key, row)
    return rows


def _production_rows(context: Context, supply: Supply, row: RowMaker) -> list[dict[str, Any]]:
    shares = supply.shares["share"].to_numpy()
    countries = list(supply.shares["country_iso3"])
    leader = supply.shares.sort_values("share", ascending=False)["country_iso3"].iloc[0]
    wgi = _governance(context, supply.year, "wgi_scaled", countries)
    return [
        row("production_hhi", f.calc_hhi(shares), supply.label),
        row("production_top1_share", f.calc_top_k_share(shares, 1), str(leader)),
        row("production_top3_share", f.calc_top_k_share(shares, 3)),
        row("domestic_production", supply.domestic, f"{supply.unit}; {supply.label}"),
        row("governance_weighted_hhi", f.calc_weighted_hhi(shares, wgi)),
    ]


def _risk_inputs(
    context: Context,
    year: int,
    scope: pd.DataFrame,
    supply: Supply | None,
    partners: pd.DataFrame,
    reliance: float | None,
    imports_qty: float | None,
) -> SupplyRiskInputs:
    """Global-supply and sourcing HHI_WGI,t where the stage has the data for them."""
    material, stage = str(scope.iloc[0]["material"]), str(scope.iloc[0]["stage"])
    global_supply = None
    if supply is not None:
        countries = list(supply.shares["country_iso3"])
        wgi = _governance(context, year, "wgi_scaled", countries)
        weights = [w * trade_factor(context, material, year, c)
                   for c, w in zip(countries, wgi, strict=True)]  # fmt: skip
        global_supply = weighted_hhi(countries, supply.shares["share"].to_numpy(), weights)
    sourcing: Weighted | None = None
    notes: tuple[str, ...] = ()
    if imports_qty is not None and (supply is None or supply.domestic_t is not None):
        sourcing, notes = _sourcing(context, year, scope, supply, partners)
    if supply is not None and imports_qty is not None and supply.domestic_t is None:
        notes = (f"production in {supply.unit} does not convert to tonnes",)
    return SupplyRiskInputs(
        global_supply=global_supply,
        sourcing=sourcing,
        reliance=reliance,
        end_of_life=context.eol.get(material),
        missing_trade=None if imports_qty is not None else missing_trade(scope),
        missing_production=None
        if supply is not None
        else missing_production(
            material, stage, withheld=not production_series(context, material, stage, year).empty
        ),
        sourcing_notes=tuple(notes),
    )


def _sourcing(
    context: Context,
    year: int,
    scope: pd.DataFrame,
    supply: Supply | None,
    partners: pd.DataFrame,
) -> tuple[Weighted | None, tuple[str, ...]]:
    """The perspective's sourcing HHI_WGI,t: its own producers and its import partners, the
    partners' quantities passed through the unit-value screen."""
    material = str(scope.iloc[0]["material"])
    scope_key = str(scope.iloc[0]["scope_key"])
    world = context.trade.world_exports
    world = world[(world["year"] == year) & (world["scope_key"] == scope_key)]
    reference = None
    if len(world):
        reference = unit_values.world_unit_value(
            float(world["world_exports_value_with_quantity_usd"].iloc[0]),
            float(world["world_exports_quantity_t"].iloc[0] or 0.0),
        )
    screened, notes = unit_values.screen_quantities(partners, reference)
    imported = pd.DataFrame({"country": screened["exporter_iso3"],
                             "quantity": screened["quantity_t"].fillna(0.0)})  # fmt: skip
    if supply is not None:
        members = supply.shares[
            [_is_member(context, c, year) for c in supply.shares["country_iso3"]]
        ]
        factor = TONNES_PER_UNIT[supply.unit]
        domestic = pd.DataFrame({"country": members["country_iso3"],
                                 "quantity": members["quantity"] * factor})  # fmt: skip
    else:
        domestic = pd.DataFrame(
            {"country": pd.Series(dtype=str), "quantity": pd.Series(dtype=float)}
        )
    countries, shares = sourcing_shares(domestic, imported)
    if not len(shares):
        return None, tuple(notes)
    weights = [w * trade_factor(context, material, year, c) for c, w in zip(
        countries, _governance(context, year, "wgi_scaled", countries), strict=True)]  # fmt: skip
    return weighted_hhi(countries, shares, weights), tuple(notes)


def _geopolrisk(
    context: Context, supply: Supply, partners: pd.DataFrame, scope_key: str, row: RowMaker
) -> list[dict[str, Any]]:
    """GeoPolRisk as geopolrisk-py 2 defines it for a country; for a group both definitions:
    flows between members left out (``geopolrisk_score``, the bloc as one importer) and, as
    the peer does, kept in total imports and price with g = 0 (``..._peer_groups``)."""
    if supply.domestic_t is None:
        return []
    quantities = partners["quantity_t"].fillna(0.0).to_numpy()
    instability = _governance(context, supply.year, "instability", list(partners["exporter_iso3"]))
    weighted = float((quantities * pd.Series(instability).to_numpy()).sum())
    total = float(quantities.sum())
    production_hhi = f.calc_hhi(supply.shares["share"].to_numpy())
    score = f.calc_geopolrisk(production_hhi, weighted, total, supply.domestic_t)
    if score is None:
        return []
    value = float(partners["value_usd"].sum())
    price = value / (total * 1000) if total > 0 else None
    rows = [
        row("geopolrisk_score", score),
        row("geopolrisk_cf", f.calc_geopolrisk_cf(score, price) if price else None,
            "unnormalised midpoint: score x average import price USD/kg"),
        row("geopolrisk_cf_copper_eq", f.calc_geopolrisk_cf_copper_eq(score, price)
            if price else None, "score x average import price / CF of copper (geopolrisk-py 2)"),
    ]  # fmt: skip
    if context.perspective.kind == "group":
        internal = context.trade.internal_imports
        internal = internal[
            (internal["year"] == supply.year) & (internal["scope_key"] == scope_key)
        ]
        inside_qty = float(internal["quantity_t"].fillna(0.0).sum())
        peer = f.calc_geopolrisk(production_hhi, weighted, total + inside_qty, supply.domestic_t)
        note = "flows between members kept with g = 0 (geopolrisk-py 2 regions)"
        rows.append(row("geopolrisk_score_peer_groups", peer, note))
    return rows
