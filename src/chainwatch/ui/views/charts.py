"""Chart specifications: the data each chart plots, as JSON for static/chainwatch.js.

Each spec has a ``kind`` (choropleth, stacked, trend, bars, matrix) that names the function
drawing it in the browser, and a ``filename`` for its PNG and SVG downloads.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from chainwatch.ui.formatting import format_usd, number_or_none

TOP_SUPPLIERS = 8
"""Suppliers drawn one by one in the imports-over-time chart; the rest are "Others"."""
HHI_SCREEN = 0.4
OUTSIDE_BLOC_SCREEN = 0.5


def _values(series: pd.Series) -> list[float | None]:
    return [number_or_none(value) for value in series]


def import_map(frame: pd.DataFrame, countries: dict[str, str], filename: str) -> dict[str, Any]:
    """Suppliers' shares of the perspective's imports in one year and stage."""
    frame = frame.sort_values("value_usd", ascending=False)
    iso3 = [str(code) for code in frame["exporter_iso3"]]
    return {
        "kind": "choropleth",
        "locations": iso3,
        "names": [countries.get(code, code) for code in iso3],
        "values": _values(frame["share"]),
        "details": [
            f"{format_usd(value)} · {'inside' if inside else 'outside'} the bloc"
            for value, inside in zip(frame["value_usd"], frame["in_bloc"], strict=True)
        ],
        "in_bloc": [bool(flag) for flag in frame["in_bloc"]],
        "value_title": "Share of imports",
        "colorscale": "imports",
        "filename": filename,
    }


def production_map(frame: pd.DataFrame, countries: dict[str, str], filename: str) -> dict[str, Any]:
    """Countries' shares of world production at one stage (USGS rows; residuals left out)."""
    iso3 = [str(code) for code in frame["country_iso3"]]
    unit = str(frame["unit"].iloc[0]) if len(frame) else ""
    return {
        "kind": "choropleth",
        "locations": iso3,
        "names": [countries.get(code, code) for code in iso3],
        "values": _values(frame["share"]),
        "details": [f"{number_or_none(q) or 0:,.0f} {unit}" for q in frame["quantity"]],
        "value_title": "Share of world production",
        "colorscale": "production",
        "filename": filename,
    }


def stacked_imports(
    frame: pd.DataFrame, countries: dict[str, str], filename: str
) -> dict[str, Any]:
    """Imports by supplier and year: the largest suppliers over the whole period, then Others."""
    if frame.empty:
        return {"kind": "stacked", "years": [], "series": [], "filename": filename}
    years = list(range(int(frame["year"].min()), int(frame["year"].max()) + 1))
    totals = frame.groupby("exporter_iso3")["value_usd"].sum().sort_values(ascending=False)
    top = [str(code) for code in totals.index[:TOP_SUPPLIERS]]
    by_year = frame.pivot_table(
        index="year", columns="exporter_iso3", values="value_usd", aggfunc="sum", fill_value=0.0
    ).reindex(years, fill_value=0.0)
    latest = frame.sort_values("year").groupby("exporter_iso3")["in_bloc"].last()
    series = [
        {"name": countries.get(code, code), "iso3": code, "in_bloc": bool(latest[code]),
         "values": _values(by_year[code])}
        for code in top
    ]  # fmt: skip
    rest = [code for code in by_year.columns if code not in top]
    if rest:
        others = by_year[rest].sum(axis=1)
        series.append({"name": f"Others ({len(rest)})", "iso3": None, "in_bloc": None,
                       "values": _values(others)})  # fmt: skip
    return {"kind": "stacked", "years": years, "series": series, "filename": filename}


TREND_LINES = {
    "import_partner_hhi": "Import-partner HHI",
    "outside_bloc_share": "Outside-bloc share of imports",
    "production_hhi": "World production HHI",
}


def concentration_trend(metrics: pd.DataFrame, filename: str) -> dict[str, Any]:
    """Import-partner HHI, outside-bloc share and production HHI of one stage over the years."""
    years = sorted(int(year) for year in metrics["year"].unique())
    lines = []
    for metric, name in TREND_LINES.items():
        rows = metrics[metrics["metric"] == metric].groupby("year")["value"].first()
        values = _values(rows.reindex(years))
        if any(value is not None for value in values):
            lines.append({"metric": metric, "name": name, "values": values})
    return {
        "kind": "trend",
        "years": years,
        "lines": lines,
        "thresholds": [
            {"value": HHI_SCREEN, "label": f"HHI screen {HHI_SCREEN}"},
            {"value": OUTSIDE_BLOC_SCREEN, "label": f"outside-bloc screen {OUTSIDE_BLOC_SCREEN}"},
        ],
        "filename": filename,
    }


def material_bars(
    labels: list[str], values: list[float | None], title: str, filename: str
) -> dict[str, Any]:
    """A horizontal bar per material and stage (largest on top)."""
    return {
        "kind": "bars",
        "labels": labels,
        "values": values,
        "texts": [format_usd(value) for value in values],
        "value_title": title,
        "filename": filename,
    }
