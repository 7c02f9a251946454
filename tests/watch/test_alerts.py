"""Alerts from rules over SYNTHETIC inputs: ids, continuity, sentences, filters and states."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from chainwatch.errors import QueryError
from chainwatch.watch.alerts import (
    AlertState,
    InMemoryStateStore,
    alerts_frame,
    calc_alert_id,
    check_transition,
)
from chainwatch.watch.inputs import WatchInputs
from chainwatch.watch.monitor import Monitor
from chainwatch.watch.rules import Condition, RuleSpec, load_rules
from tests.watch.synthetic import DROP_YEAR, synthetic_inputs


def _two_step_inputs() -> WatchInputs:
    """SYNTHETIC: BBB falls 70 % in DROP_YEAR and another 60 % the year after."""
    inputs = synthetic_inputs()
    exports = inputs.exports.copy()
    later = (exports["exporter_iso3"] == "BBB") & (exports["year"] > DROP_YEAR)
    later &= exports["hs6"] != "333333"
    exports.loc[later, ["quantity_t", "value_usd"]] *= 0.4
    return replace(inputs, exports=exports)


def test_the_injected_collapse_raises_one_explained_alert() -> None:
    monitor = Monitor(synthetic_inputs())
    alerts = [a for a in monitor.alerts(DROP_YEAR) if a.rule_id == "supplier-export-drop"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.exporter_iso3, alert.material, alert.stage) == ("BBB", "alpha", "mine")
    assert alert.hs6 == "111111;222222" and alert.severity == "critical"
    assert alert.first_year == DROP_YEAR and not alert.continuing
    assert alert.state is AlertState.new
    assert alert.sentence.startswith(
        "Bbland's exports of alpha (mine: 111111, 222222) fell 7"
    )  # fmt: skip
    assert f"below their 5-year median in {DROP_YEAR}" in alert.sentence
    assert "export ban announced 2011-11-15, effective 2012-01-01 (BBB-2012-BAN)" in (
        alert.sentence
    )
    assert alert.related_events == ("BBB-2012-BAN",)
    assert alert.threshold.startswith("change_z<=-3")
    assert "median" in alert.baseline and alert.series[-1][0] == str(DROP_YEAR)
    assert "SYNTHETIC" in alert.sources and "export_restriction_event" in alert.sources
    assert alert.value == pytest.approx(-0.7, abs=0.06)


def test_nothing_fires_in_a_quiet_year() -> None:
    assert Monitor(synthetic_inputs()).alerts(2008) == []


def test_other_signals_fire_where_injected() -> None:
    monitor = Monitor(synthetic_inputs())
    fired = {year: {a.rule_id for a in monitor.alerts(year)} for year in range(2009, 2016)}
    assert fired[2011] == {"restriction-new"}
    assert "restriction-new" in fired[2012]
    assert "price-spike" in fired[2013]
    assert {"production-share-drop", "production-share-rise", "restriction-lifted"} <= fired[2014]
    spike = next(a for a in monitor.alerts(2013) if a.rule_id == "price-spike")
    assert re.search(r"Alpha \(SYNTHETIC\) \(ALPHA, alpha\) price rose (2[5-9]|3[0-5]) % in "
                     r"2013-06", spike.sentence)  # fmt: skip


def test_consecutive_years_make_one_continuing_alert() -> None:
    monitor = Monitor(_two_step_inputs())
    first = next(a for a in monitor.alerts(DROP_YEAR) if a.rule_id == "supplier-export-drop")
    second = next(a for a in monitor.alerts(DROP_YEAR + 1)
                  if a.rule_id == "supplier-export-drop")  # fmt: skip
    assert second.alert_id == first.alert_id
    assert second.continuing and second.first_year == DROP_YEAR
    assert second.year == DROP_YEAR + 1
    ended = monitor.resolved(DROP_YEAR + 2)
    assert [(a.alert_id, a.state) for a in ended if a.rule_id == "supplier-export-drop"] == [
        (first.alert_id, AlertState.resolved)
    ]


def test_alert_ids_are_stable_hashes() -> None:
    assert calc_alert_id("r", "BBB|alpha|mine", 2012) == calc_alert_id("r", "BBB|alpha|mine", 2012)
    assert calc_alert_id("r", "BBB|alpha|mine", 2012) != calc_alert_id("r", "BBB|alpha|mine", 2013)
    again = Monitor(synthetic_inputs()).alerts(DROP_YEAR)
    assert [a.alert_id for a in again] == [a.alert_id for a in Monitor(synthetic_inputs()).alerts(
        DROP_YEAR)]  # fmt: skip


def test_filters_of_rules_and_material() -> None:
    inputs = synthetic_inputs()
    only_ccc = RuleSpec("ccc", "supplier_export_drop", "warning",
                        (Condition("change_z", "<=", -3.0),), exporters=("CCC",))  # fmt: skip
    assert Monitor(inputs, [only_ccc]).alerts(DROP_YEAR) == []
    beta = Monitor(inputs, load_rules(), material="beta")
    assert all(a.material == "beta" for a in beta.alerts(DROP_YEAR))
    assert not beta.alerts(2011)  # the event touches alpha only
    with pytest.raises(QueryError, match="unknown material 'gamma'"):
        Monitor(inputs, material="gamma")


def test_states_move_as_the_workflow_allows() -> None:
    states = InMemoryStateStore()
    monitor = Monitor(synthetic_inputs(), states=states)
    alert = next(a for a in monitor.alerts(DROP_YEAR) if a.rule_id == "supplier-export-drop")
    states.set(alert.alert_id, AlertState.confirmed)
    fresh = Monitor(synthetic_inputs(), states=states)
    again = next(a for a in fresh.alerts(DROP_YEAR) if a.alert_id == alert.alert_id)
    assert again.state is AlertState.confirmed
    with pytest.raises(ValueError, match="cannot go from confirmed to new"):
        states.set(alert.alert_id, AlertState.new)
    states.set(alert.alert_id, AlertState.resolved)
    assert check_transition(AlertState.new, AlertState.dismissed) is AlertState.dismissed
    with pytest.raises(ValueError, match="allowed: none"):
        check_transition(AlertState.resolved, AlertState.confirmed)


def test_alert_table_columns() -> None:
    frame = alerts_frame(Monitor(synthetic_inputs()).alerts(DROP_YEAR))
    assert {"alert_id", "severity", "sentence", "series", "baseline", "threshold",
            "sources"} <= set(frame.columns)  # fmt: skip
    trade = frame[frame["signal"] == "supplier_export_drop"]
    assert trade["series"].str.contains(f"{DROP_YEAR}=").all()
    events = frame[frame["signal"] == "restriction_event"]
    assert (events["series"] == "").all()  # an event has dates, not a series
