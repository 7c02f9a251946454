"""Reference pages: the materials, the countries, and the sources and methods behind them."""

from __future__ import annotations

from typing import Any

import pandas as pd

from chainwatch.services.metrics import METHODS
from chainwatch.ui.formatting import country_names, stage_sort_key
from chainwatch.ui.loaders import PageData
from chainwatch.ui.rendering import records


def materials_table(data: PageData) -> pd.DataFrame:
    """Materials with their stages in value-chain order."""
    frame = data.materials().copy()
    frame["stages"] = [
        ", ".join(sorted(str(stages).split(","), key=stage_sort_key)) if stages else ""
        for stages in frame["stages"]
    ]
    return frame.sort_values("display_name").reset_index(drop=True)


def materials_context(data: PageData) -> dict[str, Any]:
    rows = records(materials_table(data))
    for row in rows:
        row["stage_list"] = [stage for stage in (row["stages"] or "").split(", ") if stage]
    return {"title": "Materials", "rows": rows}


def countries_table(data: PageData) -> pd.DataFrame:
    frame = data.countries()
    frame = frame[frame["kind"].isin(["country", "territory"])].copy()
    frame["name"] = frame["iso3"].map(country_names(frame))
    return frame.sort_values(["region", "name"]).reset_index(drop=True)


def countries_context(data: PageData) -> dict[str, Any]:
    rows = records(countries_table(data))
    regions: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        regions.setdefault(row["region"] or "Other", []).append(row)
    return {"title": "Countries", "regions": regions, "count": len(rows)}


def methods_table() -> pd.DataFrame:
    """The method registry: every metric with its method id, version, unit and inputs."""
    return pd.DataFrame(
        [
            {
                "metric": metric,
                "method_id": method.method_id,
                "method_version": method.version,
                "unit": method.unit,
                "inputs": ", ".join(method.inputs),
            }
            for metric, method in METHODS.items()
        ]
    )


def sources_context(data: PageData) -> dict[str, Any]:
    methods = records(methods_table())
    seen: set[str] = set()
    for row in methods:
        row["anchor"] = row["method_id"] if row["method_id"] not in seen else None
        seen.add(row["method_id"])
    return {"title": "Sources and methods", "sources": records(data.sources()), "methods": methods}
