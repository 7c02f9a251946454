"""Metrics for every importer at once: set-based, one pass over the flows.

``calc_metrics`` walks one perspective's scopes and years; this module computes the same
figures for every country and group as importer in one engine query (the trade side) and one
vectorised pass (the production side), for the metrics :data:`SET_METRICS` lists. A test
(tests/metrics/test_all_importers.py) checks that both paths agree on the bundled data.

The production side (series choice, shares, HHI) runs on the few thousand production rows in
pandas, through the same functions ``supply.py`` uses; domestic production of each
perspective comes from its members in the year (``metrics.membership``); the imports by
supplier are the PARTNER_IMPORTS definition over every perspective at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.metrics import inputs, sql
from chainwatch.metrics.formulas import calc_hhi
from chainwatch.metrics.methods import METHODS
from chainwatch.metrics.production import choose_production_series, production_shares
from chainwatch.metrics.service import DEFAULT_BLOC, TREND_YEARS, _sources
from chainwatch.metrics.supply import NEUTRAL_INSTABILITY, TONNES_PER_UNIT
from chainwatch.store.relations import Source, open_relations

TRADE_SET_METRICS = {
    "imports_value_usd": "imports_value_usd",
    "imports_quantity_t": "imports_quantity_t",
    "import_partner_hhi": "import_partner_hhi",
    "import_top3_share": "import_top3_share",
    "outside_bloc_share": "outside_bloc_share",
}
"""Metric -> IMPORT_CONCENTRATION column."""
SUPPLY_SET_METRICS = ("geopolrisk_score", "geopolrisk_cf", "production_hhi")
SET_METRICS = (*TRADE_SET_METRICS, *SUPPLY_SET_METRICS)
"""Metrics ``chainwatch metrics --as ALL`` computes for every importer at once."""
COLUMNS = [
    "perspective",
    "year",
    "material",
    "stage",
    "scope",
    "metric",
    "value",
    "unit",
    "detail",
    "method_id",
    "method_version",
    "sources",
]


def calc_all_importers(
    source: Source,
    years: int | Sequence[int],
    metrics: Sequence[str] = ("geopolrisk_score",),
    bloc: str = DEFAULT_BLOC,
) -> pd.DataFrame:
    """``metrics`` for every country and group as importer in ``years`` (tidy, as
    ``calc_metrics``: one row per perspective, year, scope and metric)."""
    unknown = sorted(set(metrics) - set(SET_METRICS))
    if unknown:
        raise QueryError(f"--as ALL computes {', '.join(SET_METRICS)}; not {', '.join(unknown)}")
    wanted = sorted({years} if isinstance(years, int) else set(years))
    with open_relations(source) as relations:
        available = set(relations.trade_years())
        missing = sorted(set(wanted) - available)
        if missing or not wanted:
            raise QueryError(f"no trade data for {missing or 'no year'}")
        window = sorted({y - back for y in wanted for back in range(TREND_YEARS)} & available)
        perspectives = relations.all_perspectives()
        members = relations.members(perspectives)
        scope = relations.scope(None, None, None)
        relations.register_trade(
            members, relations.bloc_members(relations.resolve_perspective(bloc)), scope, window
        )
        covered = {str(row[0]) for row in relations.engine.rows(sql.COVERED_SCOPES)}
        partners = relations.engine.frame(sql.PARTNER_IMPORTS)
        trade_metrics = [m for m in metrics if m in TRADE_SET_METRICS]
        concentration = relations.engine.frame(sql.IMPORT_CONCENTRATION) if trade_metrics else None
        materials = sorted(str(m) for m in scope["material"].dropna().unique())
        production = relations.production(materials, window)
        governance = inputs.read_governance(relations, window)
        sources = _sources(relations, production, governance)
    frames = []
    scope_keys = scope.drop_duplicates("scope_key")[["scope_key", "material", "stage"]]
    if concentration is not None:
        frames.append(_trade_rows(concentration, scope_keys, trade_metrics, wanted))
    supply_metrics = [m for m in metrics if m in SUPPLY_SET_METRICS]
    if supply_metrics:
        supply = _supply(production, members, wanted)
        codes = [p.code for p in perspectives]
        frames.append(
            _supply_rows(supply, partners, governance, covered, scope_keys, supply_metrics, codes)
        )
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return _provenance(frame, sources)


def _trade_rows(
    concentration: pd.DataFrame, scope_keys: pd.DataFrame, metrics: list[str], years: list[int]
) -> pd.DataFrame:
    rows = concentration[concentration["year"].isin(years)].merge(scope_keys, on="scope_key")
    long = rows.melt(
        id_vars=["perspective", "year", "scope_key", "material", "stage"],
        value_vars=[TRADE_SET_METRICS[m] for m in metrics],
        var_name="metric",
        value_name="value",
    )
    return long.rename(columns={"scope_key": "scope"}).assign(detail=None)


def _supply(production: pd.DataFrame, members: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Per material, stage (mine, refinery) and year: production HHI, unit and each
    perspective's domestic production (in tonnes where the unit converts)."""
    records = []
    rows = production[
        production["stage"].isin(inputs.PRODUCTION_STAGES) & production["year"].isin(years)
    ]
    for keys, group in rows.groupby(["material", "stage", "year"]):
        material, stage, year = str(keys[0]), str(keys[1]), int(str(keys[2]))
        series = choose_production_series(group)
        if series.empty:
            continue
        shares = production_shares(series)
        if shares.empty:
            continue
        unit = str(series["unit"].iloc[0])
        hhi = calc_hhi(shares["share"].to_numpy(dtype=float))
        inside = shares.merge(members, left_on="country_iso3", right_on="iso3")
        inside = inside[(inside["from_year"] <= year) & (inside["to_year"] >= year)]
        domestic = inside.groupby("perspective")["quantity"].sum()
        records.append(
            pd.DataFrame(
                {
                    "perspective": domestic.index,
                    "domestic": domestic.to_numpy(dtype=float),
                }
            ).assign(material=material, stage=stage, year=int(year), unit=unit, hhi=hhi)
        )
        records.append(
            pd.DataFrame(
                {
                    "perspective": [None],
                    "domestic": [0.0],
                    "material": [material],
                    "stage": [stage],
                    "year": [int(year)],
                    "unit": [unit],
                    "hhi": [hhi],
                }
            )
        )
    if not records:
        return pd.DataFrame(
            columns=["perspective", "domestic", "material", "stage", "year", "unit", "hhi"]
        )
    return pd.concat(records, ignore_index=True)


def _supply_rows(
    supply: pd.DataFrame,
    partners: pd.DataFrame,
    governance: pd.DataFrame,
    covered: set[str],
    scope_keys: pd.DataFrame,
    metrics: list[str],
    codes: list[str],
) -> pd.DataFrame:
    """GeoPolRisk score and CF for every perspective with imports or domestic production of a
    scope; production HHI for every perspective (it is the world's, the same for all)."""
    supply = supply.assign(scope_key=supply["material"] + "|" + supply["stage"])
    supply = supply[supply["scope_key"].isin(set(scope_keys["scope_key"]))]
    instability = governance[["year", "country_iso3", "instability"]].rename(
        columns={"country_iso3": "exporter_iso3"}
    )
    weighted = partners.merge(instability, on=["year", "exporter_iso3"], how="left")
    quantity = weighted["quantity_t"].fillna(0.0)
    weighted = (
        weighted.assign(
            quantity=quantity,
            weighted=quantity * weighted["instability"].fillna(NEUTRAL_INSTABILITY),
        )
        .groupby(["perspective", "year", "scope_key"], as_index=False)[
            ["quantity", "weighted", "value_usd"]
        ]
        .sum()
    )
    tables = supply[["material", "stage", "year", "unit", "hhi", "scope_key"]].drop_duplicates(
        ["scope_key", "year"]
    )
    domestic = supply.dropna(subset=["perspective"])
    pairs = pd.concat(
        [
            weighted[["perspective", "year", "scope_key"]],
            domestic[["perspective", "year", "scope_key"]],
        ]
    ).drop_duplicates()
    table = (
        pairs.merge(tables, on=["scope_key", "year"])
        .merge(
            domestic[["perspective", "year", "scope_key", "domestic"]],
            on=["perspective", "year", "scope_key"],
            how="left",
        )
        .merge(weighted, on=["perspective", "year", "scope_key"], how="left")
    )
    table = table.fillna({"domestic": 0.0, "quantity": 0.0, "weighted": 0.0, "value_usd": 0.0})
    factor = table["unit"].map(TONNES_PER_UNIT)
    domestic_t = table["domestic"] * factor
    denominator = domestic_t + table["quantity"]
    table["geopolrisk_score"] = np.where(
        denominator > 0,
        table["hhi"] * table["weighted"] / denominator.where(denominator > 0),
        np.nan,
    )
    scored = factor.notna() & (denominator > 0) & table["scope_key"].isin(covered)
    price = table["value_usd"] / (table["quantity"] * 1000).where(table["quantity"] > 0)
    table["geopolrisk_cf"] = table["geopolrisk_score"] * price.where(price != 0)
    frames = []
    if "production_hhi" in metrics:
        everyone = tables.merge(pd.DataFrame({"perspective": codes}), how="cross")
        frames.append(
            everyone[["perspective", "year", "scope_key", "material", "stage"]].assign(
                metric="production_hhi", value=everyone["hhi"], detail=None
            )
        )
    for metric in (m for m in metrics if m != "production_hhi"):
        chosen = table[scored]
        frames.append(
            chosen[["perspective", "year", "scope_key", "material", "stage"]].assign(
                metric=metric,
                value=chosen[metric],
                detail="average import price USD/kg" if metric == "geopolrisk_cf" else None,
            )
        )
    return pd.concat(frames, ignore_index=True).rename(columns={"scope_key": "scope"})


def _provenance(frame: pd.DataFrame, sources: dict[str, str]) -> pd.DataFrame:
    methods = {name: METHODS[name] for name in SET_METRICS}
    frame = frame.assign(
        unit=frame["metric"].map({n: m.unit for n, m in methods.items()}),
        method_id=frame["metric"].map({n: m.method_id for n, m in methods.items()}),
        method_version=frame["metric"].map({n: m.version for n, m in methods.items()}),
        sources=frame["metric"].map(
            {
                n: "; ".join(filter(None, (sources.get(s) for s in m.inputs)))
                for n, m in methods.items()
            }
        ),
    )
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame["year"] = frame["year"].astype(int)
    ordered = frame[COLUMNS].sort_values(["perspective", "year", "scope", "metric"])
    return ordered.reset_index(drop=True)


__all__ = ["SET_METRICS", "calc_all_importers"]
