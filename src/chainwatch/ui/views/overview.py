"""Overview: every material ranked for a perspective, the criticality matrix, highlights."""

from __future__ import annotations

from typing import Any

import pandas as pd

from chainwatch.services.metrics import EU_CRITICAL_SUPPLY_RISK, METHODS
from chainwatch.ui.formatting import number_or_none
from chainwatch.ui.loaders import PageData
from chainwatch.ui.perspectives import PerspectiveOption
from chainwatch.ui.rendering import records

LABELLED_POINTS = 8
"""How many of the riskiest materials carry a text label in the matrix (all have hovers)."""


def overview_context(data: PageData, perspective: PerspectiveOption, year: int) -> dict[str, Any]:
    table = data.risk_table(perspective.code, year)
    names = material_names(data.materials())
    rows = records(table)
    for row in rows:
        row["display_name"] = names.get(row["material"], row["material"])
    attrs = table.attrs.get("provenance", {"method_ids": [], "sources": []})
    provenance = {
        "methods": sorted(
            {f"{m.method_id} v{m.version}" for m in METHODS.values()
             if m.method_id in attrs["method_ids"]}
        ),
        "sources": list(attrs["sources"]),
    }  # fmt: skip
    return {
        "title": f"Overview — {perspective.label}, {year}",
        "rows": rows,
        "highlights": _highlights(rows),
        "provenance": provenance,
        "material_choices": sorted(names.items(), key=lambda item: item[1]),
        "charts": {"matrix": _matrix_chart(rows, perspective, year)},
    }


def material_names(materials: pd.DataFrame) -> dict[str, str]:
    return dict(zip(materials["material"], materials["display_name"], strict=True))


def _highlights(rows: list[dict[str, Any]]) -> dict[str, Any]:
    with_risk = [row for row in rows if row["eu_supply_risk"] is not None]
    return {
        "most_exposed": rows[:3],
        "dependent": [row for row in rows if row["dependent"]],
        "critical": [row for row in with_risk if row["eu_supply_risk"] >= EU_CRITICAL_SUPPLY_RISK],
        "with_supply_risk": len(with_risk),
        "materials": len(rows),
        "with_imports": sum(1 for row in rows if number_or_none(row["imports_value_usd"])),
    }


def _matrix_chart(
    rows: list[dict[str, Any]], perspective: PerspectiveOption, year: int
) -> dict[str, Any]:
    """Points for the criticality matrix: supply risk against import reliance or
    outside-bloc share, one per material with a supply risk."""
    points = [
        {
            "material": row["material"],
            "name": row["display_name"],
            "stage": row["riskiest_stage"],
            "supply_risk": row["eu_supply_risk"],
            "import_reliance": row["import_reliance"],
            "outside_bloc_share": row["outside_bloc_share"],
            "imports_value_usd": row["imports_value_usd"],
            "dependent": row["dependent"],
            "rank": row["rank"],
            "label": row["rank"] <= LABELLED_POINTS,
        }
        for row in rows
        if row["eu_supply_risk"] is not None
    ]
    return {
        "kind": "matrix",
        "points": points,
        "threshold": EU_CRITICAL_SUPPLY_RISK,
        "axes": [
            {
                "key": "import_reliance",
                "title": "Import reliance (net imports / apparent use)",
                "short": "Import reliance",
            },
            {
                "key": "outside_bloc_share",
                "title": "Share of imports from outside the bloc",
                "short": "Outside-bloc share",
            },
        ],
        "perspective": perspective.code,
        "missing": [row["display_name"] for row in rows if row["eu_supply_risk"] is None],
        "filename": f"criticality-matrix-{perspective.code}-{year}",
    }
