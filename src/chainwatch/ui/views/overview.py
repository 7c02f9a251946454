"""Overview: every material ranked for a perspective, the criticality matrix, highlights.

Each row says which criteria it meets and which cannot be computed (and why); the reasons
the risk table gives (what is missing, the fallback used, the drivers of the score, why the
material is ranked) are shown where the table has them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from chainwatch.services.metrics import EU_CRITICAL_SUPPLY_RISK
from chainwatch.ui.formatting import format_stage, number_or_none
from chainwatch.ui.loaders import PageData
from chainwatch.ui.perspectives import BlocSetting, PerspectiveOption
from chainwatch.ui.rendering import provenance, records
from chainwatch.ui.views.criteria import row_verdict

LABELLED_POINTS = 8
"""How many of the riskiest materials carry a text label in the matrix (all have hovers)."""
REASONS = {
    "missing": "Missing",
    "fallbacks": "Fallback",
    "drivers": "Drivers",
    "materiality": "Materiality",
    "unscored_stages": "Stages not scored",
}
"""Explanatory columns of the risk table shown under a row's "why" (those it has)."""


def overview_context(
    data: PageData,
    perspective: PerspectiveOption,
    year: int,
    bloc: BlocSetting,
    links: dict[str, Any],
) -> dict[str, Any]:
    """``links``: what a link from the page keeps besides the perspective (the matrix's
    points link to the materials)."""
    table = data.risk_table(perspective.code, year)
    names = material_names(data.materials())
    rows = records(table)
    for row in rows:
        row["display_name"] = names.get(row["material"], row["material"])
        row["stage_label"] = format_stage(row["riskiest_stage"])
        row["verdict"] = row_verdict(row, year)
        row["reasons"] = [{"label": label, "text": str(row[key])}
                          for key, label in REASONS.items() if row.get(key)]  # fmt: skip
        row["below_materiality"] = bool(row.get("below_materiality"))
    return {
        "title": f"Overview — {perspective.label}, {year}",
        "rows": rows,
        "highlights": _highlights(rows),
        "provenance": provenance(table),
        "material_choices": sorted(names.items(), key=lambda item: item[1]),
        "charts": {"matrix": _matrix_chart(rows, perspective, year, bloc, links)},
    }


def material_names(materials: pd.DataFrame) -> dict[str, str]:
    return dict(zip(materials["material"], materials["display_name"], strict=True))


def _highlights(rows: list[dict[str, Any]]) -> dict[str, Any]:
    with_risk = [row for row in rows if row["eu_supply_risk"] is not None]
    with_imports = [row for row in rows if number_or_none(row["imports_value_usd"])]
    return {
        "most_exposed": rows[:3],
        "dependent": [row for row in rows if row["dependent"]],
        "critical": [row for row in with_risk if row["eu_supply_risk"] >= EU_CRITICAL_SUPPLY_RISK],
        "with_supply_risk": len(with_risk),
        "without_supply_risk": [row for row in rows if row["eu_supply_risk"] is None],
        "materials": len(rows),
        "with_imports": len(with_imports),
        "screen_not_computable": [row for row in rows if not row["verdict"].screen_complete],
    }


def _matrix_chart(
    rows: list[dict[str, Any]],
    perspective: PerspectiveOption,
    year: int,
    bloc: BlocSetting,
    links: dict[str, Any],
) -> dict[str, Any]:
    """Points for the criticality matrix: supply risk against import reliance or
    outside-bloc share, one per material with a supply risk (a point whose horizontal
    figure is not computable is drawn apart, hollow, and says so)."""
    points = [
        {
            "material": row["material"],
            "name": row["display_name"],
            "stage": row["stage_label"],
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
                "title": f"Share of imports from outside {bloc.option.phrase}",
                "short": "Outside-bloc share",
            },
        ],
        "perspective": perspective.code,
        "links": {key: value for key, value in links.items() if value is not None},
        "missing": [row["display_name"] for row in rows if row["eu_supply_risk"] is None],
        "filename": f"criticality-matrix-{perspective.code}-{year}",
    }
