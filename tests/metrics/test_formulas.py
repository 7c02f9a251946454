"""The pure formulas of the methods reference: hand-checked cases, edge cases, invariants.

Every expected number is worked out by hand in the comment next to it (no formula is re-run
to produce its own expectation). The examples are textbook-sized: a handful of suppliers.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainwatch.metrics import formulas as f

approx = pytest.approx

# --- shares -------------------------------------------------------------------------------------


def test_shares_hand_checked() -> None:
    # 2 + 3 + 5 = 10  ->  0.2, 0.3, 0.5
    assert list(f.calc_shares([2, 3, 5])) == approx([0.2, 0.3, 0.5])
    # a zero quantity keeps its (zero) share and its position
    assert list(f.calc_shares([0, 1, 3])) == approx([0.0, 0.25, 0.75])


@pytest.mark.parametrize("quantities", [[], [0, 0, 0], [0.0]])
def test_shares_empty_or_zero_total(quantities: list[float]) -> None:
    assert f.calc_shares(quantities).size == 0


# --- HHI ----------------------------------------------------------------------------------------


def test_hhi_merger_guidelines_example() -> None:
    # US DOJ/FTC Horizontal Merger Guidelines: four firms with 30, 30, 20 and 20 % have an HHI
    # of 30^2 + 30^2 + 20^2 + 20^2 = 900 + 900 + 400 + 400 = 2 600 points = 0.26.
    assert f.calc_hhi([0.3, 0.3, 0.2, 0.2]) == approx(0.26)
    assert f.calc_hhi([0.3, 0.3, 0.2, 0.2]) * 10_000 == approx(2_600)


def test_hhi_hand_checked() -> None:
    # monopoly: 1^2 = 1
    assert f.calc_hhi([1.0]) == approx(1.0)
    # n equal suppliers: n * (1/n)^2 = 1/n  (n = 4: 0.25)
    assert f.calc_hhi([0.25] * 4) == approx(0.25)
    # 0.6^2 + 0.2^2 + 0.1^2 + 0.1^2 = 0.36 + 0.04 + 0.01 + 0.01 = 0.42
    assert f.calc_hhi([0.6, 0.2, 0.1, 0.1]) == approx(0.42)
    # shares of a residual-free subset (named producers only) give a lower bound:
    # 0.7^2 + 0.1^2 + 0.05^2 + 0.05^2 = 0.49 + 0.01 + 0.0025 + 0.0025 = 0.505
    assert f.calc_hhi([0.7, 0.1, 0.05, 0.05]) == approx(0.505)


def test_hhi_empty_is_zero() -> None:
    assert f.calc_hhi([]) == 0.0


# --- top-k share ---------------------------------------------------------------------------------


def test_top_k_share_hand_checked() -> None:
    shares = [0.1, 0.5, 0.15, 0.25]  # sorted: 0.5, 0.25, 0.15, 0.1
    assert f.calc_top_k_share(shares, 1) == approx(0.5)
    assert f.calc_top_k_share(shares, 2) == approx(0.75)  # 0.5 + 0.25
    assert f.calc_top_k_share(shares) == approx(0.9)  # default k = 3: 0.5 + 0.25 + 0.15
    assert f.calc_top_k_share(shares, 10) == approx(1.0)  # k > n: all of it


def test_top_k_share_edge_cases() -> None:
    assert f.calc_top_k_share([], 3) == 0.0
    assert f.calc_top_k_share([0.4, 0.6], 0) == 0.0


# --- weighted HHI --------------------------------------------------------------------------------


def test_weighted_hhi_hand_checked() -> None:
    # 0.5^2 * 8 + 0.3^2 * 2 + 0.2^2 * 5 = 2.0 + 0.18 + 0.2 = 2.38
    assert f.calc_weighted_hhi([0.5, 0.3, 0.2], [8, 2, 5]) == approx(2.38)
    # EU HHI_WGI,t with weights WGI_scaled * t (COD 8.0 * 1.1, AUS 2.0 * 1.0, CAN 3.0 * 0.8,
    # CHN 6.0 * 1.5): 0.49 * 8.8 + 0.01 * 2 + 0.0025 * 2.4 + 0.0025 * 9
    # = 4.312 + 0.02 + 0.006 + 0.0225 = 4.3605
    weights = [8.0 * 1.1, 2.0 * 1.0, 3.0 * 0.8, 6.0 * 1.5]
    assert f.calc_weighted_hhi([0.7, 0.1, 0.05, 0.05], weights) == approx(4.3605)


def test_weighted_hhi_empty() -> None:
    assert f.calc_weighted_hhi([], []) == 0.0


# --- import reliance -----------------------------------------------------------------------------


def test_import_reliance_hand_checked() -> None:
    # (M - X) / (P + M - X) = (100 - 20) / (40 + 80) = 80 / 120 = 2/3
    assert f.calc_import_reliance(100, 20, 40) == approx(2 / 3)
    # (100 - 10) / (50 + 90) = 90 / 140 = 9/14
    assert f.calc_import_reliance(100, 10, 50) == approx(9 / 14)
    # no domestic production, net importer: fully import reliant
    assert f.calc_import_reliance(100, 20, 0) == approx(1.0)
    # no trade at all, some production: self-sufficient
    assert f.calc_import_reliance(0, 0, 10) == approx(0.0)


def test_import_reliance_clipped_at_zero_for_net_exporter() -> None:
    # (10 - 30) / (100 - 20) = -20 / 80 = -0.25  ->  clipped to 0
    assert f.calc_import_reliance(10, 30, 100) == 0.0
    # exports exceed production + imports: apparent consumption 50 + 10 - 200 = -140 <= 0;
    # a net exporter relies on nobody: 0
    assert f.calc_import_reliance(10, 200, 50) == 0.0


def test_import_reliance_undefined_without_any_activity() -> None:
    assert f.calc_import_reliance(0, 0, 0) is None


def test_import_reliance_net_exporter_without_production_is_zero() -> None:
    # M = 5, X = 10, P = 0: a re-exporter; net imports are negative, so reliance is 0 (the
    # formula clipped to [0, 1]), exactly as for the P > 0 net exporter above.
    assert f.calc_import_reliance(5, 10, 0) == 0.0


@given(
    imports=st.floats(0, 1e9, allow_nan=False),
    exports=st.floats(0, 1e9, allow_nan=False),
    production=st.floats(0, 1e9, allow_nan=False),
)
@settings(max_examples=200, deadline=None)
def test_import_reliance_in_unit_interval(
    imports: float, exports: float, production: float
) -> None:
    value = f.calc_import_reliance(imports, exports, production)
    assert value is None or 0.0 <= value <= 1.0


# --- governance scalings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mean_estimate", "expected"),
    [
        (2.5, 0.0),  # (2.5 - 2.5) * 2 = 0 (best)
        (-2.5, 10.0),  # (2.5 + 2.5) * 2 = 10 (worst)
        (0.0, 5.0),  # 2.5 * 2 = 5
        (1.5, 2.0),  # 1.0 * 2 = 2
        (-1.5, 8.0),  # 4.0 * 2 = 8
        (3.0, 0.0),  # -1 -> clipped to 0
        (-3.0, 10.0),  # 11 -> clipped to 10
    ],
)
def test_wgi_scaled(mean_estimate: float, expected: float) -> None:
    assert f.calc_wgi_scaled(mean_estimate) == approx(expected)


@pytest.mark.parametrize(
    ("political_stability", "expected"),
    [
        (2.5, 0.0),  # (2.5 - 2.5) / 5 = 0 (most stable)
        (-2.5, 1.0),  # 5 / 5 = 1 (least stable)
        (0.0, 0.5),  # 2.5 / 5
        (-2.0, 0.9),  # 4.5 / 5
        (1.0, 0.3),  # 1.5 / 5
        (3.0, 0.0),  # clipped
        (-4.0, 1.0),  # clipped
    ],
)
def test_political_instability(political_stability: float, expected: float) -> None:
    assert f.calc_political_instability(political_stability) == approx(expected)


# --- EU CRM supply risk ---------------------------------------------------------------------------


def test_eu_supply_risk_hand_checked() -> None:
    # [4 * 0.5/2 + 2 * (1 - 0.5/2)] * (1 - 0.25) * 1 = (1 + 1.5) * 0.75 = 1.875
    assert f.calc_eu_supply_risk(4.0, 2.0, 0.5, 0.25) == approx(1.875)
    # IR = 0: only the sourcing HHI counts: 2 * 1 * 1 = 2
    assert f.calc_eu_supply_risk(4.0, 2.0, 0.0, 0.0) == approx(2.0)
    # IR = 1: half and half: 4/2 + 2/2 = 3
    assert f.calc_eu_supply_risk(4.0, 2.0, 1.0, 0.0) == approx(3.0)
    # substitution index 0.5 halves it: 3 * 0.5 = 1.5
    assert f.calc_eu_supply_risk(4.0, 2.0, 1.0, 0.0, 0.5) == approx(1.5)
    # all end-of-life recycled: no risk
    assert f.calc_eu_supply_risk(4.0, 2.0, 1.0, 1.0) == approx(0.0)


def test_eu_supply_risk_synthetic_cobalt_case() -> None:
    # The case of test_supply_risk.py: HHI_GS = 4.3605, HHI_sourcing = 1.8702222 (= 420.8/225),
    # IR = 9/14, EoL-RIR 0.2:
    # [4.3605 * 9/28 + 420.8/225 * 19/28] * 0.8 = (1.4015893 + 1.2690794) * 0.8 = 2.1365350
    value = f.calc_eu_supply_risk(4.3605, 420.8 / 225, 9 / 14, 0.2)
    assert value == approx(2.1365350, abs=1e-6)


# --- GeoPolRisk ---------------------------------------------------------------------------------


def test_geopolrisk_hand_checked() -> None:
    # HHI 0.5 * sum(g f) 30 / (p 50 + F 100) = 0.5 * 0.2 = 0.1
    assert f.calc_geopolrisk(0.5, 30.0, 100.0, 50.0) == approx(0.1)
    # no domestic production: HHI * weighted / F; all imports from g = 1: HHI itself
    assert f.calc_geopolrisk(0.3, 80.0, 80.0, 0.0) == approx(0.3)
    # CF = score * average import price: 0.1 * 11 USD/kg = 1.1
    assert f.calc_geopolrisk_cf(0.1, 11.0) == approx(1.1)


def test_geopolrisk_undefined_without_supply() -> None:
    assert f.calc_geopolrisk(0.5, 0.0, 0.0, 0.0) is None


# --- trend ---------------------------------------------------------------------------------------


def test_trend_hand_checked() -> None:
    # a straight line 1, 2, 3, 4, 5: slope 1 per year
    assert f.calc_trend([2019, 2020, 2021, 2022, 2023], [1, 2, 3, 4, 5]) == approx(1.0)
    # x - mean = -1, 0, 1; y - mean (7/3) = -4/3, -1/3, 5/3: slope (4/3 + 5/3) / 2 = 1.5
    assert f.calc_trend([2020, 2021, 2022], [1, 2, 4]) == approx(1.5)
    # constant: 0
    assert f.calc_trend([2020, 2021, 2022], [7, 7, 7]) == approx(0.0)
    # missing values are skipped: 2020, 2022, 2023 on the line y = 2 (x - 2020)
    assert f.calc_trend([2020, 2021, 2022, 2023], [0, math.nan, 4, 6]) == approx(2.0)


def test_trend_needs_three_points() -> None:
    assert f.calc_trend([2022, 2023], [1, 2]) is None
    assert f.calc_trend([2021, 2022, 2023], [1, math.nan, 2]) is None
    assert f.calc_trend([], []) is None


# --- dependency screen ---------------------------------------------------------------------------


def test_dependency_screen_all_criteria() -> None:
    flags = f.calc_dependency_screen(0.42, 0.8, 2.857)
    assert flags == {
        "concentrated_suppliers": True,
        "outside_bloc_reliance": True,
        "net_importer": True,
        "dependent": True,
    }


def test_dependency_screen_thresholds_are_strict() -> None:
    # exactly at the thresholds (HHI 0.4, share 0.5, ratio 1) nothing fires
    flags = f.calc_dependency_screen(0.4, 0.5, 1.0)
    assert not any(flags.values())


def test_dependency_screen_missing_inputs() -> None:
    flags = f.calc_dependency_screen(None, None, None)
    assert not any(flags.values())
    flags = f.calc_dependency_screen(0.9, 0.9, None)
    assert flags["concentrated_suppliers"] and flags["outside_bloc_reliance"]
    assert not flags["net_importer"] and not flags["dependent"]


def test_dependency_screen_infinite_ratio_is_net_importer() -> None:
    # imports and no exports: the service passes inf
    assert f.calc_dependency_screen(0.1, 0.1, math.inf)["net_importer"]


# --- invariants ----------------------------------------------------------------------------------

quantity = st.floats(0, 1e9, allow_nan=False, allow_infinity=False, allow_subnormal=False)
positive = st.floats(1e-3, 1e9, allow_nan=False, allow_infinity=False)


@given(st.lists(quantity, min_size=1, max_size=30).filter(lambda q: sum(q) > 0))
@settings(max_examples=200, deadline=None)
def test_shares_sum_to_one(quantities: list[float]) -> None:
    shares = f.calc_shares(quantities)
    assert len(shares) == len(quantities)
    assert shares.sum() == approx(1.0)
    assert (shares >= 0).all()


@given(st.lists(positive, min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_hhi_between_one_over_n_and_one(quantities: list[float]) -> None:
    shares = f.calc_shares(quantities)
    n = len(shares)
    hhi = f.calc_hhi(shares)
    assert 1 / n - 1e-12 <= hhi <= 1 + 1e-12


@given(st.lists(positive, min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_top_k_share_monotone_and_bounded(quantities: list[float]) -> None:
    shares = f.calc_shares(quantities)
    tops = [f.calc_top_k_share(shares, k) for k in range(0, len(shares) + 2)]
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(tops))
    assert all(t <= 1 + 1e-12 for t in tops)
    assert tops[len(shares)] == approx(1.0)
    # the top-1 share is the largest share, and HHI <= top-1 share (sum s^2 <= max s * sum s)
    assert tops[1] == approx(shares.max())
    assert f.calc_hhi(shares) <= tops[1] + 1e-12


@given(
    st.lists(positive, min_size=1, max_size=30),
    st.floats(0, 15, allow_nan=False),
)
@settings(max_examples=200, deadline=None)
def test_weighted_hhi_linear_in_constant_weight(quantities: list[float], weight: float) -> None:
    shares = f.calc_shares(quantities)
    weighted = f.calc_weighted_hhi(shares, np.full(len(shares), weight))
    assert weighted == approx(weight * f.calc_hhi(shares), rel=1e-9, abs=1e-12)
    # and doubling every weight doubles it
    doubled = f.calc_weighted_hhi(shares, np.full(len(shares), 2 * weight))
    assert doubled == approx(2 * weighted, rel=1e-9, abs=1e-12)


@given(
    st.floats(0, 15, allow_nan=False),
    st.floats(0, 15, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
)
@settings(max_examples=200, deadline=None)
def test_eu_supply_risk_between_its_two_hhis(
    global_hhi: float, sourcing_hhi: float, reliance: float, recycling: float
) -> None:
    value = f.calc_eu_supply_risk(global_hhi, sourcing_hhi, reliance, recycling)
    low, high = sorted((global_hhi, sourcing_hhi))
    scale = 1 - recycling
    assert low * scale - 1e-9 <= value <= high * scale + 1e-9
