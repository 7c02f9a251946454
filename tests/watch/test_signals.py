"""Signals on SYNTHETIC series with injected breaks: detected where injected, silent elsewhere."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainwatch.watch import signals as s
from chainwatch.watch.alerts import calc_condition_mask
from chainwatch.watch.rules import load_rules
from tests.watch.synthetic import DROP_YEAR, SPIKE_MONTH, YEARS, noisy, synthetic_inputs

RULES = {rule.rule_id: rule for rule in load_rules()}


def annual(values: list[float] | np.ndarray, start: int = 2000) -> pd.Series:
    """A SYNTHETIC annual series indexed by year."""
    return pd.Series(list(values), index=range(start, start + len(values)), dtype=float)


def test_robust_z_uses_median_and_mad() -> None:
    # SYNTHETIC: median 10, absolute deviations 0,1,1,2,2 -> MAD 1, scale 1.4826
    assert s.calc_robust_z([8, 9, 10, 11, 12], 4.0, 0.0) == pytest.approx(-6 / 1.4826)
    assert math.isnan(s.calc_robust_z([1.0, 2.0], 1.0, 0.0))  # fewer than 3 points


def test_robust_z_of_a_step_series_uses_the_mean_deviation() -> None:
    # SYNTHETIC: a price that stands still but for one step: MAD 0, mean deviation 0.2 / 6
    history = [0, 0, 0, 0, 0, 0.2]
    z = s.calc_robust_z(history, 0.2, 0.0)
    assert z == pytest.approx(0.2 / (1.2533 * 0.2 / 6))
    assert s.calc_robust_z([5, 5, 5, 5], 5.5, 0.01) == pytest.approx(50)  # the floor


def test_a_collapse_is_a_break() -> None:
    # SYNTHETIC: flat at 100 +- 3 %, then 30 in the last year
    values = [*noisy(100, 10, 0.03, seed=1), 30.0]
    row = s.calc_series_break(annual(values), 2010)
    assert row["change_vs_median"] == pytest.approx(30 / np.median(values[5:10]) - 1)
    assert row["change_z"] < -10
    assert row["robust_z"] < -10
    assert [p for p, _ in row["series"]] == [str(y) for y in range(2004, 2011)]


def test_a_break_in_a_growing_series_is_found_by_the_change_z() -> None:
    # SYNTHETIC: +25 % a year (a boom, as Indonesia's ore exports before 2014), then -85 %
    values = [100 * 1.25**k for k in range(10)]
    values.append(values[-1] * 0.15)
    row = s.calc_series_break(annual(values), 2010)
    assert row["change_z"] < -10
    assert row["robust_z"] > -3  # the level z, blinded by the trend, would miss it
    steady = s.calc_series_break(annual([100 * 1.25**k for k in range(11)]), 2010)
    assert abs(steady["change_z"]) < 1


def test_a_fall_to_zero_is_finite() -> None:
    row = s.calc_series_break(annual([*noisy(50, 10, 0.05, seed=2), 0.0]), 2010)
    assert row["change_vs_median"] == -1.0
    assert math.isfinite(row["change_z"]) and row["change_z"] < -10


def test_too_little_history_gives_no_z() -> None:
    row = s.calc_series_break(annual([100.0, 100.0, 10.0], start=2008), 2010)
    assert math.isnan(row["change_z"]) and math.isnan(row["robust_z"])


@settings(max_examples=60, deadline=None)
@given(
    level=st.floats(min_value=10, max_value=1e9),
    noise=st.floats(min_value=0, max_value=0.15),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_no_drop_alert_on_noisy_flat_series(level: float, noise: float, seed: int) -> None:
    """SYNTHETIC: series that only wobble (up to +-15 %) never satisfy the drop rule."""
    values = noisy(level, 12, noise, seed)
    breaks = s.calc_breaks(pd.DataFrame([values], columns=range(2000, 2012)), 2011)
    breaks = breaks.assign(baseline_share=0.5, baseline_value_usd=1e9,
                           share_change_vs_median=-0.5)  # fmt: skip
    assert not calc_condition_mask(breaks, RULES["supplier-export-drop"].conditions).any()


def test_supplier_drop_fires_for_the_collapsing_exporter_only() -> None:
    inputs = synthetic_inputs()
    panel = s.calc_scope_panel(inputs.exports, inputs.scopes, ["exporter_iso3"])
    frame = s.calc_supplier_export_drops(panel, DROP_YEAR)
    hits = frame[calc_condition_mask(frame, RULES["supplier-export-drop"].conditions)]
    assert list(zip(hits["exporter_iso3"], hits["scope_key"], strict=True)) == [
        ("BBB", "alpha|mine")
    ]
    row = hits.iloc[0]
    assert row["change_vs_median"] == pytest.approx(-0.7, abs=0.06)
    assert row["baseline_share"] == pytest.approx(800 / 1850, abs=0.03)
    assert row["share_change_vs_median"] < -0.5
    quiet = s.calc_supplier_export_drops(panel, DROP_YEAR - 1)
    assert not calc_condition_mask(quiet, RULES["supplier-export-drop"].conditions).any()


def test_supplier_drop_reads_nothing_after_its_year() -> None:
    inputs = synthetic_inputs()
    panel = s.calc_scope_panel(inputs.exports, inputs.scopes, ["exporter_iso3"])
    full = s.calc_supplier_export_drops(panel, 2008)
    cut = s.calc_supplier_export_drops(panel[panel["year"] <= 2008], 2008)
    pd.testing.assert_frame_equal(full, cut)


def test_missing_tonnage_is_missing_not_zero() -> None:
    # SYNTHETIC: the 2012 flows of BBB report a value but no quantity
    inputs = synthetic_inputs(drop=0.0)
    flows = inputs.exports.copy()
    gap = (flows["exporter_iso3"] == "BBB") & (flows["year"] == DROP_YEAR)
    flows.loc[gap, "quantity_t"] = np.nan
    flows.loc[gap, "value_without_quantity_usd"] = flows.loc[gap, "value_usd"]
    panel = s.calc_scope_panel(flows, inputs.scopes, ["exporter_iso3"])
    frame = s.calc_supplier_export_drops(panel, DROP_YEAR)
    row = frame[(frame["exporter_iso3"] == "BBB") & (frame["scope_key"] == "alpha|mine")]
    assert math.isnan(float(row["change_vs_median"].iloc[0]))


def _structure() -> pd.DataFrame:
    inputs = synthetic_inputs()
    partners = s.calc_scope_panel(inputs.imports, inputs.scopes, ["perspective", "exporter_iso3"])
    partners["in_bloc"] = s.calc_in_bloc(partners, inputs.bloc)
    return s.calc_import_structure(partners)


def test_partner_drop_concentration_and_outside_share() -> None:
    inputs = synthetic_inputs()
    partners = s.calc_scope_panel(inputs.imports, inputs.scopes, ["perspective", "exporter_iso3"])
    drops = s.calc_partner_export_drops(partners, DROP_YEAR)
    bbb = drops[(drops["exporter_iso3"] == "BBB") & (drops["scope_key"] == "alpha|mine")].iloc[0]
    assert bbb["perspective"] == "PPP" and bbb["change_z"] < -3
    structure = _structure()
    alpha = structure[(structure["scope_key"] == "alpha|mine")].set_index("year")
    # SYNTHETIC shares: AAA 1000, BBB 800 (240 after the drop), CCC 50
    assert alpha.loc[DROP_YEAR, "hhi"] > alpha.loc[DROP_YEAR - 1, "hhi"] + 0.1
    assert alpha.loc[DROP_YEAR, "top_partner_iso3"] == "AAA"
    jump = s.calc_concentration_jumps(structure, DROP_YEAR)
    row = jump[jump["scope_key"] == "alpha|mine"].iloc[0]
    assert row["hhi_change"] == pytest.approx(
        alpha.loc[DROP_YEAR, "hhi"] - alpha.loc[DROP_YEAR - 1, "hhi"]
    )
    outside = s.calc_outside_bloc_rises(structure, DROP_YEAR)
    row = outside[outside["scope_key"] == "alpha|mine"].iloc[0]
    assert row["outside_share_change"] < -0.15  # BBB is outside the bloc: the share falls


def test_new_dominant_supplier() -> None:
    # SYNTHETIC: BBB overtakes AAA for 'alpha' in 2014 and was never top before
    structure = pd.DataFrame([
        {"perspective": "PPP", "scope_key": "alpha|mine", "year": year, "imports_value_usd": 1e9,
         "hhi": 0.5, "top_partner_iso3": top, "top_share": share, "outside_share": 0.5}
        for year, top, share in ((2009, "AAA", 0.6), (2010, "AAA", 0.6), (2011, "AAA", 0.55),
                                 (2012, "AAA", 0.6), (2013, "AAA", 0.5), (2014, "BBB", 0.7),
                                 (2015, "BBB", 0.7))
    ])  # fmt: skip
    found = s.calc_new_dominant_suppliers(structure, 2014)
    assert found[["top_partner_iso3", "previous_top_iso3"]].values.tolist() == [["BBB", "AAA"]]
    assert s.calc_new_dominant_suppliers(structure, 2015).empty  # top in 2014 already
    assert s.calc_new_dominant_suppliers(structure, 2013).empty


def test_production_shift_within_one_edition() -> None:
    shifts = s.calc_production_shifts(synthetic_inputs().production, 2014).set_index(
        "exporter_iso3"
    )
    assert shifts.loc["AAA", "share_change"] == pytest.approx(-0.10)
    assert shifts.loc["BBB", "share"] == pytest.approx(0.45)
    assert s.calc_production_shifts(synthetic_inputs().production, 2013).empty  # one year only


def test_price_spike_found_in_its_month_and_nowhere_else() -> None:
    prices = synthetic_inputs().prices
    by_year = {year: s.calc_price_moves(prices, year).iloc[0] for year in range(2000, 2016)}
    spike = by_year[2013]
    assert spike["spike_month"] == SPIKE_MONTH
    assert spike["spike_change"] == pytest.approx(0.3, abs=0.03)
    assert spike["spike_z"] > 10
    assert all(row["spike_z"] < 4 for year, row in by_year.items() if year != 2013)
    assert by_year[2013]["volatility_ratio"] > 2
    assert by_year[2005]["volatility_ratio"] < 2


def test_price_moves_read_no_later_month() -> None:
    prices = synthetic_inputs().prices
    full = s.calc_price_moves(prices, 2012)
    cut = s.calc_price_moves(prices[prices["month"] <= "2012-12-01"], 2012)
    pd.testing.assert_frame_equal(full, cut)


def test_restriction_event_phases_by_year() -> None:
    events = synthetic_inputs().events
    phases = {year: s.calc_restriction_events(events, year) for year in (2010, 2011, 2012, 2014)}
    assert phases[2010].empty
    assert phases[2011]["phase"].tolist() == ["announced"]
    assert phases[2012]["phase"].tolist() == ["effective"]
    assert phases[2014]["phase"].tolist() == ["lifted"]
    assert all(frame.empty or frame["exporter_iso3"].eq("BBB").all() for frame in phases.values())


def test_years_of_the_synthetic_world() -> None:
    assert YEARS[0] < DROP_YEAR - 6  # enough history for the baseline window
