"""Pure formulas of the methods reference (no I/O, no database): each cites its equation.

Shares are fractions (0-1); HHI is the sum of squared shares (0-1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

WGI_MAX = 2.5
"""WGI estimates run from about -2.5 to 2.5."""


def calc_shares(quantities: npt.ArrayLike) -> FloatArray:
    """s_i = q_i / sum(q); empty or all-zero input gives an empty array."""
    values = np.asarray(quantities, dtype=float)
    total = values.sum()
    if values.size == 0 or total <= 0:
        return np.array([], dtype=float)
    result: FloatArray = values / total
    return result


def calc_hhi(shares: npt.ArrayLike) -> float:
    """Herfindahl-Hirschman index HHI = sum_i s_i^2 (0-1; x 10 000 for points)."""
    values = np.asarray(shares, dtype=float)
    return float(np.sum(values * values))


def calc_top_k_share(shares: npt.ArrayLike, k: int = 3) -> float:
    """CR_k = sum of the k largest shares."""
    values = np.sort(np.asarray(shares, dtype=float))[::-1]
    return float(values[:k].sum())


def calc_weighted_hhi(shares: npt.ArrayLike, weights: npt.ArrayLike) -> float:
    """sum_i s_i^2 * w_i (governance-weighted HHI; with w = WGI_scaled * t the EU HHI_WGI,t)."""
    s = np.asarray(shares, dtype=float)
    w = np.asarray(weights, dtype=float)
    return float(np.sum(s * s * w))


def calc_import_reliance(imports: float, exports: float, production: float) -> float | None:
    """IR = (M - X) / (P + M - X), clipped to [0, 1].

    A net exporter (M - X <= 0) relies on no imports: 0. None only when there is no trade and
    no production at all (nothing to rely on or not).
    """
    net = imports - exports
    if net <= 0:
        return 0.0 if (imports > 0 or exports > 0 or production > 0) else None
    return float(min(1.0, max(0.0, net / (production + net))))


def calc_wgi_scaled(mean_estimate: float) -> float:
    """EU CRM scaling: WGI_scaled = (2.5 - mean of the six WGI estimates) * 2 (0-10, 10 worst)."""
    return float(min(10.0, max(0.0, (WGI_MAX - mean_estimate) * 2.0)))


def calc_political_instability(political_stability: float) -> float:
    """GeoPolRisk g_i: the WGI political-stability estimate rescaled to 0-1 (1 = least stable).

    g = (2.5 - PV) / 5, clipped to [0, 1] (the normalisation geopolrisk-py applies).
    """
    return float(min(1.0, max(0.0, (WGI_MAX - political_stability) / (2 * WGI_MAX))))


def calc_eu_supply_risk(
    hhi_global_supply: float,
    hhi_sourcing: float,
    import_reliance: float,
    end_of_life_recycling_rate: float,
    substitution_index: float = 1.0,
) -> float:
    """EU CRM supply risk for one stage (JRC 2017 method).

    SR = [HHI_WGI,t(GS) * IR/2 + HHI_WGI,t(sourcing) * (1 - IR/2)] * (1 - EoL_RIR) * SI_SR
    """
    blended = hhi_global_supply * import_reliance / 2 + hhi_sourcing * (1 - import_reliance / 2)
    return float(blended * (1 - end_of_life_recycling_rate) * substitution_index)


def calc_eu_supply_risk_single(
    weighted_hhi: float, end_of_life_recycling_rate: float, substitution_index: float = 1.0
) -> float:
    """EU CRM supply risk from one side only (the JRC fallbacks): global supply where the
    stage has no trade data, sourcing where it has no production data.

    SR = HHI_WGI,t * (1 - EoL_RIR) * SI_SR
    """
    return float(weighted_hhi * (1 - end_of_life_recycling_rate) * substitution_index)


def calc_geopolrisk(
    production_hhi: float,
    weighted_imports: float,
    total_imports: float,
    domestic_production: float,
) -> float | None:
    """GeoPolRisk = HHI_A * sum_i(g_i * f_i) / (p + F) (quantities); None if p + F is 0."""
    denominator = domestic_production + total_imports
    if denominator <= 0:
        return None
    return float(production_hhi * weighted_imports / denominator)


def calc_geopolrisk_cf(score: float, average_import_price: float) -> float:
    """Midpoint characterisation factor, unnormalised: GeoPolRisk * average import price
    (USD/kg)."""
    return float(score * average_import_price)


GEOPOLRISK_COPPER_REFERENCE = 0.409412948
"""The normaliser geopolrisk-py 2.0.1 divides by (its copper CF, an average over OECD
importers 2017-2021; ``CF_Cu`` in ``geopolrisk/assessment/core.py``), so published CFs are in
copper equivalents."""


def calc_geopolrisk_cf_copper_eq(score: float, average_import_price: float) -> float:
    """Published characterisation factor: GeoPolRisk * price / CF_copper (kg Cu-eq/kg)."""
    return float(score * average_import_price / GEOPOLRISK_COPPER_REFERENCE)


def calc_trend(years: Sequence[int], values: Sequence[float]) -> float | None:
    """Least-squares slope per year; None with fewer than three points."""
    x = np.asarray(years, dtype=float)
    y = np.asarray(values, dtype=float)
    keep = ~np.isnan(y)
    if keep.sum() < 3:
        return None
    slope = np.polyfit(x[keep], y[keep], 1)[0]
    return float(slope)


SCREEN_IMPORT_HHI = 0.4
SCREEN_OUTSIDE_SHARE = 0.5
SCREEN_IMPORT_EXPORT_RATIO = 1.0


def calc_dependency_screen(
    import_hhi: float | None, outside_share: float | None, imports_to_exports: float | None
) -> dict[str, bool]:
    """EU strategic-dependency screen: HHI > 0.4, extra-bloc share > 0.5, imports/exports > 1."""
    flags = {
        "concentrated_suppliers": import_hhi is not None and import_hhi > SCREEN_IMPORT_HHI,
        "outside_bloc_reliance": outside_share is not None and outside_share > SCREEN_OUTSIDE_SHARE,
        "net_importer": imports_to_exports is not None
        and imports_to_exports > SCREEN_IMPORT_EXPORT_RATIO,
    }
    flags["dependent"] = all(flags.values())
    return flags
