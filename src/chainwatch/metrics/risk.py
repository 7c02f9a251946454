"""The risk table: every material ranked for a perspective and year, with the flags that fire."""

from __future__ import annotations

import pandas as pd

from chainwatch.metrics.service import DEFAULT_BLOC, calc_metrics
from chainwatch.store.relations import Source

FLAG_LABELS = {
    "screen_concentrated_suppliers": "import HHI > 0.4",
    "screen_outside_bloc_reliance": "outside-bloc share > 0.5",
    "screen_net_importer": "imports/exports > 1",
}
EU_CRITICAL_SUPPLY_RISK = 1.0


def calc_risk_table(
    source: Source, perspective: str, year: int | None = None, bloc: str = DEFAULT_BLOC
) -> pd.DataFrame:
    """One row per material: headline metrics at its riskiest stage and the criteria it meets.

    Ranked by EU supply risk (the larger of the mine and refinery stages), then by how many
    screen criteria fire, then by outside-bloc share.
    """
    tidy = calc_metrics(source, perspective, year, bloc=bloc)
    wide = tidy.pivot_table(
        index=["perspective", "year", "material", "stage"], columns="metric", values="value",
        aggfunc="first", dropna=False,
    ).reset_index()  # fmt: skip
    wide.columns.name = None
    rows = [_material_row(str(material), group) for material, group in wide.groupby("material")]
    table = pd.DataFrame(rows)
    table = table.sort_values(
        ["eu_supply_risk", "criteria_met", "outside_bloc_share"],
        ascending=[False, False, False], na_position="last",
    ).reset_index(drop=True)  # fmt: skip
    table.insert(0, "rank", range(1, len(table) + 1))
    table.attrs["provenance"] = {
        "method_ids": sorted(tidy["method_id"].unique()),
        "sources": sorted(set("; ".join(tidy["sources"].dropna()).split("; ")) - {""}),
    }
    return table


def _value(group: pd.DataFrame, metric: str) -> float | None:
    if metric not in group:
        return None
    values = pd.to_numeric(group[metric], errors="coerce").dropna()
    return float(values.max()) if len(values) else None


def _riskiest_stage(group: pd.DataFrame) -> pd.DataFrame:
    """The stage whose headline figures the row reports: highest supply risk, else the most
    concentrated production, else the largest imports."""
    for metric in ("eu_supply_risk", "production_hhi", "imports_value_usd"):
        if metric in group:
            values = pd.to_numeric(group[metric], errors="coerce")
            if values.notna().any():
                return group.loc[[values.idxmax()]]
    return group.iloc[[0]]


def _material_row(material: str, group: pd.DataFrame) -> dict[str, object]:
    risky = _riskiest_stage(group)
    flags = []
    for metric, label in FLAG_LABELS.items():
        if _value(group, metric):
            stages = group.loc[pd.to_numeric(group[metric]) > 0, "stage"]
            flags.append(f"{label} ({', '.join(sorted(stages))})")
    risk = _value(risky, "eu_supply_risk")
    if risk is not None and risk >= EU_CRITICAL_SUPPLY_RISK:
        flags.append("supply risk >= 1.0")
    return {
        "perspective": group["perspective"].iloc[0],
        "year": int(group["year"].iloc[0]),
        "material": material,
        "riskiest_stage": risky["stage"].iloc[0],
        "eu_supply_risk": risk,
        "import_reliance": _value(risky, "import_reliance"),
        "production_hhi": _value(risky, "production_hhi"),
        "import_partner_hhi": _value(group, "import_partner_hhi"),
        "outside_bloc_share": _value(group, "outside_bloc_share"),
        "imports_value_usd": float(pd.to_numeric(group["imports_value_usd"]).sum(min_count=1))
        if "imports_value_usd" in group
        else None,
        "geopolrisk_score": _value(group, "geopolrisk_score"),
        "dependent": bool(_value(group, "screen_dependent")),
        "criteria_met": len(flags),
        "criteria": "; ".join(flags),
    }
