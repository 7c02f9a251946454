"""The risk table: every material ranked for a perspective and year, with the flags that fire,
what drives its score, which fallback applied, and why it is (or is not) material.

Ranking (docs/methods.md, "Ranking"): materials whose imports are known to be below the
materiality threshold (:data:`MATERIALITY_USD` a year, all stages together) cannot top the
table - they follow every material above it, so a US$1 import of asbestos or US$ 0.2 M of
mercury never outranks cobalt. Within each tier: EU supply risk (the larger of the mine and
refinery stages, full method or a JRC fallback), then how many screen criteria fire, then
outside-bloc share. A material with no trade data loaded has unknown materiality and stays in
the first tier, labelled so.
"""

from __future__ import annotations

import pandas as pd

from chainwatch.metrics.service import DEFAULT_BLOC, calc_metrics
from chainwatch.metrics.supply_risk import NOT_COMPUTABLE
from chainwatch.store.relations import Source

FLAG_LABELS = {
    "screen_concentrated_suppliers": "import HHI > 0.4",
    "screen_outside_bloc_reliance": "outside-bloc share > 0.5",
    "screen_net_importer": "imports/exports > 1",
}
EU_CRITICAL_SUPPLY_RISK = 1.0
MATERIALITY_USD = 1_000_000.0
"""Imports a year below which a material cannot rank above the material ones (US$ 1 M)."""


def calc_risk_table(
    source: Source,
    perspective: str,
    year: int | None = None,
    bloc: str = DEFAULT_BLOC,
    materiality_usd: float = MATERIALITY_USD,
) -> pd.DataFrame:
    """One row per material: headline metrics at its riskiest stage, the criteria it meets,
    its drivers, fallbacks, what is missing, and its materiality (see the module docstring)."""
    tidy = calc_metrics(source, perspective, year, bloc=bloc)
    keys = ["perspective", "year", "material", "stage"]
    wide = tidy.pivot_table(
        index=keys, columns="metric", values="value", aggfunc="first", dropna=False,
    ).reset_index()  # fmt: skip
    wide.columns.name = None
    # dropna=False keeps metrics that are missing everywhere, but also invents every
    # material x stage pair of the index levels: keep the pairs the metrics have
    present = tidy[keys].drop_duplicates()
    wide = wide.merge(present, on=keys, how="inner")
    details = tidy.pivot_table(
        index=keys, columns="metric", values="detail", aggfunc="first", dropna=True,
    ).add_suffix("__detail").reset_index()  # fmt: skip
    details.columns.name = None
    wide = wide.merge(details, on=keys, how="left")
    rows = [_material_row(str(material), group, materiality_usd)
            for material, group in wide.groupby("material")]  # fmt: skip
    table = pd.DataFrame(rows)
    table["below_materiality"] = table["below_materiality"].astype(bool)
    table = table.sort_values(
        ["below_materiality", "eu_supply_risk", "criteria_met", "outside_bloc_share"],
        ascending=[True, False, False, False], na_position="last",
    ).reset_index(drop=True)  # fmt: skip
    table.insert(0, "rank", range(1, len(table) + 1))
    table.attrs["provenance"] = {
        "method_ids": sorted(tidy["method_id"].unique()),
        "method_versions": sorted(set(tidy["method_id"] + " " + tidy["method_version"])),
        "sources": sorted(set("; ".join(tidy["sources"].dropna()).split("; ")) - {""}),
        "materiality_usd": materiality_usd,
    }
    return table


def _value(group: pd.DataFrame, metric: str) -> float | None:
    if metric not in group:
        return None
    values = pd.to_numeric(group[metric], errors="coerce").dropna()
    return float(values.max()) if len(values) else None


def _text(group: pd.DataFrame, metric: str) -> str:
    column = f"{metric}__detail"
    if column not in group:
        return ""
    values = [str(v) for v in group[column] if isinstance(v, str) and v]
    return values[0] if values else ""


def _riskiest_stage(group: pd.DataFrame) -> pd.DataFrame:
    """The stage whose headline figures the row reports: highest supply risk, else the most
    concentrated production, else the largest imports."""
    for metric in ("eu_supply_risk", "production_hhi", "imports_value_usd"):
        if metric in group:
            values = pd.to_numeric(group[metric], errors="coerce")
            if values.notna().any():
                return group.loc[[values.idxmax()]]
    return group.iloc[[0]]


def _drivers(risky: pd.DataFrame) -> str:
    """Which term of the supply risk dominates, and which supplier dominates that term."""
    risk = _value(risky, "eu_supply_risk")
    if risk is None or risk <= 0:
        return ""
    terms = {"global supply": _value(risky, "eu_supply_risk_global_term"),
             "sourcing": _value(risky, "eu_supply_risk_sourcing_term")}  # fmt: skip
    known = {name: value for name, value in terms.items() if value is not None}
    if not known:
        return ""
    name = max(known, key=lambda key: known[key])
    metric = "eu_supply_risk_global_term" if name == "global supply" else (
        "eu_supply_risk_sourcing_term")  # fmt: skip
    text = f"{name} {known[name]:.2f} of {risk:.2f}"
    who = _text(risky, metric).split("; unit-value screen")[0].removeprefix("top contributor ")
    return f"{text}: {who}" if who else text


def _screened(risky: pd.DataFrame) -> str:
    """The unit-value screen's note on the sourcing quantities, where it changed any."""
    detail = _text(risky, "eu_supply_risk_sourcing_term")
    at = detail.find("unit-value screen")
    return detail[at:] if at >= 0 else ""


def _fallback(risky: pd.DataFrame) -> str:
    detail = _text(risky, "eu_supply_risk")
    return detail.split("; ")[0] if detail.startswith("fallback") else ""


def _missing(group: pd.DataFrame) -> tuple[str, str]:
    """(what is missing where nothing is scored, the stages left unscored and why)."""
    unscored = []
    for _, stage_row in group.iterrows():
        detail = stage_row.get("eu_supply_risk__detail")
        if isinstance(detail, str) and detail.startswith(NOT_COMPUTABLE):
            unscored.append(f"{stage_row['stage']}: {detail[len(NOT_COMPUTABLE) + 2 :]}")
    if _value(group, "eu_supply_risk") is None:
        return " | ".join(unscored) or "no trade and no production data for this material", ""
    return "", " | ".join(unscored)


def _materiality(imports: float | None, threshold: float) -> tuple[bool, str]:
    if imports is None:
        return False, "not assessed: no trade data loaded for this material"
    if imports < threshold:
        return True, f"below threshold: imports US${imports:,.0f} < US${threshold:,.0f}"
    return False, f"imports US${imports:,.0f} >= US${threshold:,.0f}"


def _material_row(material: str, group: pd.DataFrame, threshold: float) -> dict[str, object]:
    risky = _riskiest_stage(group)
    flags = []
    for metric, label in FLAG_LABELS.items():
        if _value(group, metric):
            stages = group.loc[pd.to_numeric(group[metric]) > 0, "stage"]
            flags.append(f"{label} ({', '.join(sorted(stages))})")
    risk = _value(risky, "eu_supply_risk")
    if risk is not None and risk >= EU_CRITICAL_SUPPLY_RISK:
        flags.append("supply risk >= 1.0")
    imports = (
        float(pd.to_numeric(group["imports_value_usd"]).sum(min_count=1))
        if "imports_value_usd" in group
        else None
    )
    imports = None if imports is None or pd.isna(imports) else imports
    below, materiality = _materiality(imports, threshold)
    missing, unscored = _missing(group)
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
        "imports_value_usd": imports,
        "geopolrisk_score": _value(group, "geopolrisk_score"),
        "dependent": bool(_value(group, "screen_dependent")),
        "criteria_met": len(flags),
        "criteria": "; ".join(flags),
        "drivers": _drivers(risky),
        "fallbacks": _fallback(risky),
        "quantity_screen": _screened(risky),
        "missing": missing,
        "unscored_stages": unscored,
        "materiality": materiality,
        "below_materiality": below,
        "production_series": _text(risky, "production_hhi"),
    }
