"""Material page: where a perspective's imports come from, how concentrated, at each stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from chainwatch.errors import QueryError
from chainwatch.services.metrics import FLAG_LABELS
from chainwatch.ui.formatting import (
    country_names,
    format_percent,
    format_stage,
    format_usd,
    number_or_none,
    stage_sort_key,
)
from chainwatch.ui.loaders import PageData
from chainwatch.ui.perspectives import PerspectiveOption
from chainwatch.ui.rendering import provenance, records
from chainwatch.ui.views import charts
from chainwatch.ui.views.criteria import Verdict, plain_reason, stage_verdict

PRODUCTION_STAGES = ("mine", "refinery")
EXPLAINED_FIGURES = {
    "import_reliance": ("Import reliance", "needs trade and production figures in one unit"),
    "eu_supply_risk": ("EU supply risk", "an input is missing"),
    "production_hhi": ("World production HHI", "no production figures for the stage this year"),
}
"""Figures whose reason is shown beside the panel when they are missing or rest on a
fallback (trade figures share the panel's no-trade reason)."""


@dataclass
class StagePanel:
    """The key figures of one value-chain stage in the requested year."""

    stage: str
    products: list[dict[str, Any]]
    figures: dict[str, float | None]
    top_supplier: dict[str, Any] | None
    top_producer: str | None
    no_trade_reason: str | None
    verdict: Verdict
    notes: list[dict[str, str]] = field(default_factory=list)
    """Why a figure is missing or how it was computed (fallbacks), one line per figure."""
    dependent: bool = False


@dataclass
class MaterialRequest:
    material: str
    perspective: PerspectiveOption
    year: int
    stage: str | None
    bloc: PerspectiveOption | None = None
    """The bloc outside-bloc share is measured against (None: the perspective's own)."""


def material_context(data: PageData, request: MaterialRequest) -> dict[str, Any]:
    info = _material_info(data, request.material)
    material = str(info["material"])
    products = data.material_products(material)
    stages = sorted(set(products["stage"]), key=stage_sort_key)
    if not stages:
        raise QueryError(f"no HS6 code maps to {material!r}; no trade figures to show")
    code = request.perspective.code
    metrics = data.metrics(code, material, data.trade_years())
    imports = data.import_sources(code, material)
    countries = country_names(data.countries())
    panels = [
        _stage_panel(stage, request.year, metrics, imports, products, countries) for stage in stages
    ]
    stage = _chosen_stage(request.stage, panels)
    panel = next(p for p in panels if p.stage == stage)
    stage_imports = imports[imports["stage"] == stage]
    year_imports = stage_imports[stage_imports["year"] == request.year]
    productions = {s: data.production_map(material, s) for s in _production_stages(stages)}
    return {
        "title": f"{info['display_name']} — {request.perspective.label}",
        "material": material,
        "info": info,
        "stage": stage,
        "stages": stages,
        "year": request.year,
        "headline": _headline(request, str(info["display_name"]), panel),
        "panel": panel,
        "panels": panels,
        "suppliers": _supplier_rows(year_imports, countries),
        "imports_provenance": provenance(imports),
        "metrics_provenance": provenance(metrics),
        "productions": {
            s: _production_summary(frame, countries) for s, frame in productions.items()
        },
        "charts": _charts(request, material, stage, metrics, stage_imports, productions, countries),
    }


def _material_info(data: PageData, material: str) -> dict[str, Any]:
    materials = data.materials()
    match = materials[materials["material"].str.lower() == material.strip().lower()]
    if match.empty:
        raise QueryError(f"unknown material {material!r}; see the Materials page for the list")
    return records(match)[0]


def _chosen_stage(wanted: str | None, panels: list[StagePanel]) -> str:
    """The requested stage, else the stage with the largest imports, else the first."""
    stages = [panel.stage for panel in panels]
    if wanted:
        if wanted not in stages:
            raise QueryError(f"stage {wanted!r} is not mapped here; stages: {', '.join(stages)}")
        return wanted
    by_imports = [(panel.figures["imports_value_usd"] or 0.0, panel.stage) for panel in panels]
    best = max(by_imports, key=lambda item: item[0])
    return best[1] if best[0] > 0 else stages[0]


def _production_stages(stages: list[str]) -> list[str]:
    return [stage for stage in PRODUCTION_STAGES if stage in stages]


PANEL_METRICS = (
    "imports_value_usd", "imports_quantity_t", "exports_value_usd", "outside_bloc_share",
    "import_partner_hhi", "import_top3_share", "production_hhi", "production_top1_share",
    "import_reliance", "eu_supply_risk", "geopolrisk_score", "screen_dependent",
    "screen_outside_bloc_share_of_total_imports", "imports_to_exports_ratio",
    *FLAG_LABELS,
)  # fmt: skip


def _stage_panel(
    stage: str,
    year: int,
    metrics: pd.DataFrame,
    imports: pd.DataFrame,
    products: pd.DataFrame,
    countries: dict[str, str],
) -> StagePanel:
    rows = metrics[(metrics["year"] == year) & (metrics["stage"] == stage)]
    values = dict(zip(rows["metric"], rows["value"], strict=True))
    details = dict(zip(rows["metric"], rows["detail"], strict=True))
    figures = {metric: number_or_none(values.get(metric)) for metric in PANEL_METRICS}
    verdict = stage_verdict(figures, details)
    suppliers = imports[(imports["year"] == year) & (imports["stage"] == stage)]
    top = suppliers.nlargest(1, "value_usd")
    top_supplier = None
    if not top.empty:
        iso3 = str(top["exporter_iso3"].iloc[0])
        top_supplier = {"iso3": iso3, "name": countries.get(iso3, iso3),
                        "share": number_or_none(top["share"].iloc[0])}  # fmt: skip
    producer = details.get("production_top1_share")
    no_trade = details.get("imports_value_usd") if figures["imports_value_usd"] is None else None
    return StagePanel(
        stage=stage,
        products=records(products[products["stage"] == stage]),
        figures=figures,
        top_supplier=top_supplier,
        top_producer=countries.get(str(producer)) if producer else None,
        no_trade_reason=str(no_trade) if no_trade else None,
        verdict=verdict,
        notes=_figure_notes(figures, details),
        dependent=bool(figures["screen_dependent"]),
    )


def _figure_notes(
    figures: dict[str, float | None], details: dict[str, Any]
) -> list[dict[str, str]]:
    """Why a headline figure is missing, or the fallback it rests on."""
    notes = []
    for metric, (label, otherwise) in EXPLAINED_FIGURES.items():
        reason = plain_reason(details.get(metric))
        if figures[metric] is None:
            notes.append({"label": label, "text": f"not computable: {reason or otherwise}"})
        elif reason and "fallback" in reason:
            notes.append({"label": label, "text": reason})
    return notes


def _headline(request: MaterialRequest, display_name: str, panel: StagePanel) -> str:
    """One sentence answering: how much, how much from outside the bloc, from whom."""
    subject = request.perspective.subject
    what = f"{display_name.lower()} ({format_stage(panel.stage).lower()})"
    value = panel.figures["imports_value_usd"]
    if value is None:
        reason = f": {panel.no_trade_reason}" if panel.no_trade_reason else ""
        sentence = f"No trade figures for {what} in {request.year}{reason}."
        if panel.top_producer:
            share = format_percent(panel.figures["production_top1_share"])
            sentence += f" Top producer: {panel.top_producer} ({share} of world output)."
        return sentence
    if value == 0:
        return (f"{subject} recorded no imports of {what} in {request.year} (no flows for its "
                f"HS6 codes in the loaded trade data).")  # fmt: skip
    bloc_name = (request.bloc or request.perspective).phrase
    sentence = (
        f"{subject} imported {format_usd(value)} of {what} in {request.year}; "
        f"{format_percent(panel.figures['outside_bloc_share'])} from outside {bloc_name}"
    )
    if panel.top_supplier:
        top = panel.top_supplier
        sentence += f"; top supplier: {top['name']} ({format_percent(top['share'])})"
    return sentence + "."


def _supplier_rows(frame: pd.DataFrame, countries: dict[str, str]) -> list[dict[str, Any]]:
    rows = records(frame.sort_values("value_usd", ascending=False))
    for row in rows:
        row["name"] = countries.get(row["exporter_iso3"], row["exporter_name"])
    return rows


def _production_summary(
    frame: pd.DataFrame | None, countries: dict[str, str]
) -> dict[str, Any] | None:
    if frame is None or frame.empty:
        return None
    top = frame.iloc[0]
    iso3 = str(top["country_iso3"])
    return {
        "year": int(frame["year"].iloc[0]),
        "product_type": str(frame["product_type"].iloc[0]),
        "top_name": countries.get(iso3, iso3),
        "top_share": number_or_none(top["share"]),
        "countries": len(frame),
        "provenance": provenance(frame),
    }


def _charts(
    request: MaterialRequest,
    material: str,
    stage: str,
    metrics: pd.DataFrame,
    stage_imports: pd.DataFrame,
    productions: dict[str, pd.DataFrame | None],
    countries: dict[str, str],
) -> dict[str, Any]:
    code, year = request.perspective.code, request.year
    slug = f"{material.replace(' ', '-')}-{stage}-{code}"
    result: dict[str, Any] = {
        "imports-map": charts.import_map(
            stage_imports[stage_imports["year"] == year], countries, f"import-sources-{slug}-{year}"
        ),
        "imports-series": charts.stacked_imports(stage_imports, countries, f"imports-{slug}"),
        "concentration": charts.concentration_trend(
            metrics[metrics["stage"] == stage], f"concentration-{slug}"
        ),
    }
    for production_stage, frame in productions.items():
        if frame is not None:
            filename = f"production-{material.replace(' ', '-')}-{production_stage}"
            result[f"production-{production_stage}"] = charts.production_map(
                frame, countries, filename
            )
    return result
