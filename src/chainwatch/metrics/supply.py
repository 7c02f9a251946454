"""Production-side metrics for one scope and year: concentration, reliance, supply risk.

Production shares use the world total the publisher gives (USGS "World total") as denominator;
the HHI sums named countries only ("Other countries" is a residual of unknown make-up, so the
HHI is a lower bound). Production quantities are in the series' own unit (often contained
metal) while trade quantities are gross weight in tonnes: import reliance and sourcing shares
mix the two, as the EU CRM method does when it combines production and trade statistics.
Countries without a WGI estimate get the neutral midpoint (WGI_scaled 5, g 0.5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from chainwatch.metrics import formulas as f
from chainwatch.metrics.inputs import restriction_factors
from chainwatch.metrics.membership import is_member

if TYPE_CHECKING:
    from chainwatch.metrics.service import Context

AGGREGATES = {"WLD", "OTH"}
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
    domestic: float  # production of the perspective's members, in ``unit``

    @property
    def domestic_t(self) -> float | None:
        factor = TONNES_PER_UNIT.get(self.unit)
        return None if factor is None else self.domestic * factor


def production_series(context: Context, material: str, stage: str, year: int) -> pd.DataFrame:
    """Rows of the best production series of a material, stage and year in the context."""
    production = context.production
    rows = production[(production["material"] == material) & (production["stage"] == stage)
                      & (production["year"] == year)]  # fmt: skip
    return choose_production_series(rows)


def choose_product_type(rows: pd.DataFrame) -> str | None:
    """The one rule for which production series to use, given the rows of one material, stage
    and year: the product type naming the most countries (ties: the first type in alphabetical
    order); None where no row names a country."""
    counts = rows[~rows["country_iso3"].isin(AGGREGATES)].groupby("product_type").size()
    return None if counts.empty else str(counts.idxmax())


def select_production_series(rows: pd.DataFrame, product_type: str | None) -> pd.DataFrame:
    """The rows of ``product_type``, with the publisher's world total where it is filed under a
    type of its own (USGS "World mine production")."""
    if product_type is None:
        return rows.iloc[0:0]
    series = rows[rows["product_type"] == product_type]
    world = rows[rows["country_iso3"] == "WLD"]
    if "WLD" not in set(series["country_iso3"]) and len(world) == 1:
        series = pd.concat([series, world])
    return series


def choose_production_series(rows: pd.DataFrame) -> pd.DataFrame:
    """The best production series among the rows of one material, stage and year."""
    return select_production_series(rows, choose_product_type(rows))


def production_shares(series: pd.DataFrame) -> pd.DataFrame:
    """country_iso3, quantity, share (of the world total, else of the sum of all rows)."""
    named = series[~series["country_iso3"].isin(AGGREGATES) & series["quantity"].notna()]
    world = series.loc[series["country_iso3"] == "WLD", "quantity"].dropna()
    if len(world) and float(world.iloc[0]) > 0:
        total = float(world.iloc[0])
    else:
        total = float(series.loc[series["country_iso3"] != "WLD", "quantity"].sum())
    shares = named[["country_iso3", "quantity"]].copy()
    shares["share"] = shares["quantity"] / total if total > 0 else 0.0
    return shares


def _is_member(context: Context, country: str, year: int) -> bool:
    return is_member(context.members, country, year)


def trade_factor(context: Context, material: str, year: int, country: str) -> float:
    """Trade-related t: 0.8 inside the perspective, raised where the supplier restricts exports."""
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
    table = context.governance[context.governance["year"] == year].set_index("country_iso3")
    neutral = NEUTRAL_WGI_SCALED if column == "wgi_scaled" else NEUTRAL_INSTABILITY
    values = []
    for country in countries:
        value = table[column].get(country) if column in table else None
        values.append(neutral if value is None or pd.isna(value) else float(value))
    return values


def _supply(context: Context, material: str, stage: str, year: int) -> Supply | None:
    series = production_series(context, material, stage, year)
    if series.empty:
        return None
    shares = production_shares(series)
    if shares.empty:
        return None
    members = [c for c in shares["country_iso3"] if _is_member(context, c, year)]
    first = series.iloc[0]
    return Supply(
        material=material,
        year=year,
        shares=shares,
        unit=str(first["unit"]),
        label=f"{first['product_type']} ({first['source']} {first['vintage']})",
        domestic=float(shares.loc[shares["country_iso3"].isin(members), "quantity"].sum()),
    )


def supply_metrics(
    context: Context,
    year: int,
    scope: pd.DataFrame,
    imports_qty: float | None,
    exports_qty: float | None,
    row: RowMaker,
) -> list[dict[str, Any]]:
    material, stage = scope.iloc[0]["material"], scope.iloc[0]["stage"]
    if not isinstance(material, str) or stage not in ("mine", "refinery"):
        return []
    supply = _supply(context, material, stage, year)
    if supply is None:
        return []
    shares = supply.shares["share"].to_numpy()
    countries = list(supply.shares["country_iso3"])
    leader = supply.shares.sort_values("share", ascending=False)["country_iso3"].iloc[0]
    reliance = None
    if imports_qty is not None and exports_qty is not None and supply.domestic_t is not None:
        reliance = f.calc_import_reliance(imports_qty, exports_qty, supply.domestic_t)
    wgi = _governance(context, year, "wgi_scaled", countries)
    rows = [
        row("production_hhi", f.calc_hhi(shares), supply.label),
        row("production_top1_share", f.calc_top_k_share(shares, 1), str(leader)),
        row("production_top3_share", f.calc_top_k_share(shares, 3)),
        row("domestic_production", supply.domestic, f"{supply.unit}; {supply.label}"),
        row("import_reliance", reliance, f"trade gross weight t; production {supply.unit}"),
        row("governance_weighted_hhi", f.calc_weighted_hhi(shares, wgi)),
    ]
    partners = context.trade.partner_imports
    scope_key = str(scope.iloc[0]["scope_key"])
    partners = partners[(partners["year"] == year) & (partners["scope_key"] == scope_key)]
    rows += _eu_supply_risk(context, supply, partners, reliance, row)
    if imports_qty is not None:  # no loaded trade for the scope: GeoPolRisk is unknown, not 0
        rows += _geopolrisk(context, supply, partners, row)
    return rows


def _eu_supply_risk(
    context: Context,
    supply: Supply,
    partners: pd.DataFrame,
    reliance: float | None,
    row: RowMaker,
) -> list[dict[str, Any]]:
    if reliance is None or supply.domestic_t is None:
        return []
    year, material = supply.year, supply.material
    countries = list(supply.shares["country_iso3"])
    factors = [trade_factor(context, material, year, c) for c in countries]
    global_weights = [w * t for w, t in zip(
        _governance(context, year, "wgi_scaled", countries), factors, strict=True)]  # fmt: skip
    hhi_global = f.calc_weighted_hhi(supply.shares["share"].to_numpy(), global_weights)
    member_rows = supply.shares[[_is_member(context, c, year) for c in countries]]
    factor = TONNES_PER_UNIT[supply.unit]
    sourcing = pd.concat([
        pd.DataFrame({"country": member_rows["country_iso3"],
                      "quantity": member_rows["quantity"] * factor}),
        pd.DataFrame({"country": partners["exporter_iso3"],
                      "quantity": partners["quantity_t"].fillna(0.0)}),
    ]).groupby("country", as_index=False)["quantity"].sum()  # fmt: skip
    sourcing_shares = f.calc_shares(sourcing["quantity"].to_numpy())
    if not len(sourcing_shares):
        return []
    sourcing_countries = list(sourcing["country"])
    sourcing_weights = [w * trade_factor(context, material, year, c) for c, w in zip(
        sourcing_countries, _governance(context, year, "wgi_scaled", sourcing_countries),
        strict=True)]  # fmt: skip
    hhi_sourcing = f.calc_weighted_hhi(sourcing_shares, sourcing_weights)
    eol = context.eol.get(material)
    risk = f.calc_eu_supply_risk(hhi_global, hhi_sourcing, reliance, eol or 0.0)
    note = "SI_SR unknown: 1.0 assumed (no substitution)"
    if eol is None:
        note += "; EoL-RIR unknown: 0 assumed"
    return [
        row("eu_supply_risk", risk, note),
        row("eu_supply_risk_global_hhi_wgi_t", hhi_global),
        row("eu_supply_risk_sourcing_hhi_wgi_t", hhi_sourcing),
    ]


def _geopolrisk(
    context: Context, supply: Supply, partners: pd.DataFrame, row: RowMaker
) -> list[dict[str, Any]]:
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
    cf = f.calc_geopolrisk_cf(score, price) if price else None
    return [
        row("geopolrisk_score", score),
        row("geopolrisk_cf", cf, "average import price USD/kg"),
    ]
