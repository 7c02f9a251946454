"""Metric tables for a perspective: one signature for every metric, tidy output.

``calc_metrics(store, perspective, years, material=..., hs6=..., stage=...)`` returns one row
per (perspective, year, material, stage, metric) with its value, unit, method id and version,
and the data vintages it rests on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.metrics import formulas as f
from chainwatch.metrics import inputs, sql, trade
from chainwatch.metrics.methods import METHODS
from chainwatch.store.relations import Perspective, Relations, Source, open_relations

DEFAULT_BLOC = "ALLIED"
TREND_YEARS = 5


@dataclass
class Context:
    """Everything the per-scope computation needs, read once per request."""

    perspective: Perspective
    bloc: str
    members: pd.DataFrame
    scope: pd.DataFrame
    trade: trade.TradeFrames
    production: pd.DataFrame
    governance: pd.DataFrame
    eol: dict[str, float | None]
    restrictions: dict[str, pd.DataFrame]
    years: list[int] = field(default_factory=list)
    """Years computed: the requested years and the trend window, where trade data exist."""
    sources: dict[str, str] = field(default_factory=dict)
    memo: dict[tuple[object, ...], object] = field(default_factory=dict)
    """Lookups repeated across scopes of one request (membership, governance, series)."""


def calc_metrics(
    source: Source,
    perspective: str,
    years: int | Sequence[int] | None = None,
    material: str | None = None,
    hs6: str | None = None,
    stage: str | None = None,
    bloc: str = DEFAULT_BLOC,
) -> pd.DataFrame:
    """All metrics for one perspective, tidy (see docs/methods.md for each metric).

    ``source``: a store (DuckDB over its file) or relations open on any engine."""
    with open_relations(source) as relations:
        context, wanted = _read_context(relations, perspective, years, material, hs6, stage, bloc)
    rows: list[dict[str, Any]] = []
    for (year, scope_key), scope in _scope_years(context, wanted):
        rows.extend(_scope_metrics(context, year, scope_key, scope))
    frame = pd.DataFrame(rows, columns=_COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame = _add_trends(frame, wanted)
    return frame[frame["year"].isin(wanted)].reset_index(drop=True)


_COLUMNS = ["perspective", "year", "material", "stage", "scope", "metric", "value", "unit",
            "detail", "method_id", "method_version", "sources"]  # fmt: skip


def _read_context(
    relations: Relations,
    perspective: str,
    years: int | Sequence[int] | None,
    material: str | None,
    hs6: str | None,
    stage: str | None,
    bloc: str,
) -> tuple[Context, list[int]]:
    who = relations.resolve_perspective(perspective)
    bloc_of = relations.resolve_perspective(bloc)
    wanted, available = _years(relations, years)
    window = sorted({y - back for y in wanted for back in range(TREND_YEARS)} & available)
    scope = relations.scope(material, hs6, stage)
    if scope.empty:
        raise QueryError("no HS6 code maps to that material and stage")
    members = relations.members([who])
    relations.register_trade(members, relations.bloc_members(bloc_of), scope, window)
    materials = sorted(m for m in scope["material"].dropna().unique())
    production = relations.production(materials, window)
    if hs6 is None:
        scope = _with_production_stages(scope, production, stage)
    codes = {m: list(scope.loc[scope["material"] == m, "hs6"]) for m in materials}
    events = relations.restriction_events()
    context = Context(
        perspective=who,
        bloc=bloc_of.code,
        members=members,
        scope=scope,
        trade=trade.read_trade_frames(relations),
        production=production,
        governance=inputs.read_governance(relations, window),
        eol=relations.end_of_life_rates(materials),
        restrictions={m: inputs.select_restrictions(events, m, codes[m]) for m in materials},
        years=window,
    )
    context.sources = _sources(relations, production, context.governance)
    return context, wanted


def _with_production_stages(
    scope: pd.DataFrame, production: pd.DataFrame, stage: str | None
) -> pd.DataFrame:
    """The scope plus a code-less scope for each mapped material's production stage that no
    HS6 code maps to (niobium's mine stage, say): global supply alone can score it."""
    mapped = set(zip(scope["material"], scope["stage"], strict=True))
    staged = production[production["stage"].isin(inputs.PRODUCTION_STAGES)]
    extra = sorted(set(zip(staged["material"], staged["stage"], strict=True)) - mapped)
    extra = [(m, s) for m, s in extra if stage is None or s == stage]
    if not extra:
        return scope
    added = pd.DataFrame(
        {"hs6": None, "hs_revision": None, "scope_key": [f"{m}|{s}" for m, s in extra],
         "material": [m for m, _ in extra], "stage": [s for _, s in extra]}
    )  # fmt: skip
    return pd.concat([scope, added.astype({"hs6": object, "hs_revision": object})],
                     ignore_index=True)  # fmt: skip


def _years(relations: Relations, years: int | Sequence[int] | None) -> tuple[list[int], set[int]]:
    """(requested years, years with any loaded trade flow)."""
    available = set(relations.trade_years())
    if not available:
        raise QueryError("the store holds no trade flows")
    if years is None:
        return [max(available)], available
    wanted = [years] if isinstance(years, int) else list(years)
    missing = sorted(set(wanted) - set(available))
    if missing:
        raise QueryError(
            f"no trade data for {missing}; available {min(available)}-{max(available)}"
        )
    return sorted(wanted), available


def _sources(
    relations: Relations, production: pd.DataFrame, governance: pd.DataFrame
) -> dict[str, str]:
    production_sources = sorted(
        {f"{s} {v}" for s, v in zip(production["source"], production["vintage"], strict=True)}
    )
    governance_sources = sorted({f"World Bank WGI {v}" for v in governance["vintage"].unique()})
    return {
        "trade": relations.trade_vintages(),
        "production": "; ".join(production_sources),
        "governance": "; ".join(governance_sources),
        "restrictions": "chainwatch curated export-restriction events",
    }


def _scope_years(
    context: Context, wanted: list[int]
) -> Iterable[tuple[tuple[int, str], pd.DataFrame]]:
    keys = context.scope.drop_duplicates("scope_key")
    for year in context.years:
        for _, scope in keys.iterrows():
            yield (
                (year, str(scope["scope_key"])),
                context.scope[context.scope["scope_key"] == scope["scope_key"]],
            )


def _row(
    context: Context,
    year: int,
    scope: pd.DataFrame,
    metric: str,
    value: float | None,
    detail: str | None = None,
    production_source: str | None = None,
) -> dict[str, Any]:
    """One tidy row. ``production_source``: the production series the value rests on (its
    source and edition), listed instead of every loaded production source."""
    method = METHODS[metric]
    first = scope.iloc[0]
    sources = dict(context.sources)
    if production_source is not None:
        sources["production"] = production_source
    return {
        "perspective": context.perspective.code,
        "year": year,
        "material": first["material"],
        "stage": first["stage"],
        "scope": str(first["scope_key"]),
        "metric": metric,
        "value": None if value is None or (isinstance(value, float) and np.isnan(value)) else value,
        "unit": method.unit,
        "detail": detail,
        "method_id": method.method_id,
        "method_version": method.version,
        "sources": "; ".join(filter(None, (sources.get(s) for s in method.inputs))),
    }


def _pick(frame: pd.DataFrame, year: int, scope_key: str) -> pd.DataFrame:
    return frame[(frame["year"] == year) & (frame["scope_key"] == scope_key)]


def _scope_metrics(
    context: Context, year: int, scope_key: str, scope: pd.DataFrame
) -> list[dict[str, Any]]:
    from chainwatch.metrics.supply import missing_trade, supply_metrics

    def row(
        metric: str, value: float | None, detail: str | None = None, **given: Any
    ) -> dict[str, Any]:
        return _row(context, year, scope, metric, value, detail, **given)

    if (year, scope_key) not in context.trade.covered_years:
        note = missing_trade(scope)
        rows = [row(metric, None, note) for metric in TRADE_METRICS]
        return rows + supply_metrics(context, year, scope, None, None, row)
    rows, imports_qty, exports_qty = _trade_rows(context, year, scope_key, row)
    return rows + supply_metrics(context, year, scope, imports_qty, exports_qty, row)


TRADE_METRICS = (
    "imports_value_usd", "imports_quantity_t", "exports_value_usd", "exports_quantity_t",
    "net_imports_value_usd", "net_imports_quantity_t", "import_partner_hhi",
    "import_top3_share", "outside_bloc_share", "world_export_hhi",
    "screen_outside_bloc_share_of_total_imports", "imports_to_exports_ratio",
)  # fmt: skip


def _trade_rows(
    context: Context, year: int, scope_key: str, row: Any
) -> tuple[list[dict[str, Any]], float, float]:
    tf = context.trade
    summary = _pick(tf.concentration, year, scope_key)
    exported = _pick(tf.exports, year, scope_key)
    internal = _pick(tf.internal_imports, year, scope_key)
    world = _pick(tf.world_exports, year, scope_key)
    imports_value = float(summary["imports_value_usd"].sum()) if len(summary) else 0.0
    imports_qty = float(summary["imports_quantity_t"].sum()) if len(summary) else 0.0
    exports_value = float(exported["value_usd"].sum()) if len(exported) else 0.0
    exports_qty = float(exported["quantity_t"].sum()) if len(exported) else 0.0
    internal_value = float(internal["value_usd"].sum()) if len(internal) else 0.0

    def get(column: str) -> float | None:
        return float(summary[column].iloc[0]) if len(summary) else None

    top = str(summary["top_partner_iso3"].iloc[0]) if len(summary) else None
    outside_value = float(summary["outside_bloc_value_usd"].sum()) if len(summary) else 0.0
    total_with_internal = imports_value + internal_value
    ratio = imports_value / exports_value if exports_value > 0 else None
    if imports_value > 0 and exports_value == 0:
        ratio = float("inf")
    screen_share = outside_value / total_with_internal if total_with_internal > 0 else None
    flags = f.calc_dependency_screen(get("import_partner_hhi"), screen_share, ratio)
    rows = [
        row("imports_value_usd", imports_value),
        row("imports_quantity_t", imports_qty),
        row("exports_value_usd", exports_value),
        row("exports_quantity_t", exports_qty),
        row("net_imports_value_usd", imports_value - exports_value),
        row("net_imports_quantity_t", imports_qty - exports_qty),
        row("import_partner_hhi", get("import_partner_hhi"), top and f"top partner {top}"),
        row("import_top3_share", get("import_top3_share")),
        row("outside_bloc_share", get("outside_bloc_share"), f"bloc {context.bloc}"),
        row("world_export_hhi", float(world["world_export_hhi"].iloc[0]) if len(world) else None),
        row("screen_outside_bloc_share_of_total_imports", screen_share,
            "denominator includes flows between members"),
        row("imports_to_exports_ratio", None if ratio in (None, float("inf")) else ratio,
            "no exports" if ratio == float("inf") else None),
    ]  # fmt: skip
    rows += [row(f"screen_{name}", float(flag)) for name, flag in flags.items()]
    return rows, imports_qty, exports_qty


def _add_trends(frame: pd.DataFrame, wanted: list[int]) -> pd.DataFrame:
    """Five-year least-squares slope (per year) of the headline metrics, for each wanted year."""
    trend_rows = []
    for metric in ("import_partner_hhi", "outside_bloc_share", "production_hhi",
                   "imports_value_usd", "eu_supply_risk"):  # fmt: skip
        series = frame[frame["metric"] == metric]
        for _keys, group in series.groupby(["scope", "perspective"]):
            for year in wanted:
                window = group[(group["year"] > year - TREND_YEARS) & (group["year"] <= year)]
                values = pd.to_numeric(window["value"], errors="coerce")
                slope = f.calc_trend(list(window["year"]), list(values))
                base = group[group["year"] == year]
                if base.empty:
                    continue
                trend = base.iloc[0].to_dict()
                method = METHODS[f"{metric}_trend_5y"]
                trend.update(
                    metric=f"{metric}_trend_5y",
                    value=slope,
                    unit=method.unit,
                    detail=f"{int(window['year'].min())}-{year}",
                    method_id=method.method_id,
                    method_version=method.version,
                )
                trend_rows.append(trend)
    if not trend_rows:
        return frame
    trends = pd.DataFrame(trend_rows, columns=frame.columns).astype(frame.dtypes.to_dict())
    return pd.concat([frame, trends], ignore_index=True)


def calc_import_concentration_table(
    source: Source, years: Sequence[int] | None = None, bloc: str = DEFAULT_BLOC
) -> pd.DataFrame:
    """Every importing country x every HS6 code x every year: imports, import-partner HHI,
    top-3 share and outside-bloc share (the IMPORT_CONCENTRATION definition, value basis)."""
    with open_relations(source) as relations:
        members = relations.all_country_members()
        bloc_members = relations.bloc_members(relations.resolve_perspective(bloc))
        scope = relations.traded_codes()
        wanted = list(years) if years is not None else relations.trade_years()
        relations.register_trade(members, bloc_members, scope, wanted)
        frame = relations.engine.frame(sql.IMPORT_CONCENTRATION)
    return frame.rename(columns={"perspective": "importer_iso3", "scope_key": "hs6"})
