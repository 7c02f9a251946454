"""Backtest scoring on a SYNTHETIC case worked out by hand, and a replay of SYNTHETIC inputs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import pandas as pd
import pytest

from chainwatch.errors import QueryError
from chainwatch.watch.backtest import backtest_inputs, calc_backtest_scores, calc_event_coverage
from chainwatch.watch.chart import render_backtest_svg
from tests.watch.synthetic import DROP_YEAR, synthetic_inputs

# SYNTHETIC events: what each one is meant to exercise is in its id
EVENTS = pd.DataFrame([
    {"event_id": "E1-caught", "country_iso3": "BBB", "effective_date": pd.Timestamp("2012-01-01"),
     "measure_type": "export_ban", "hs6_codes": "111111", "scope_materials": "alpha"},
    {"event_id": "E2-missed", "country_iso3": "AAA", "effective_date": pd.Timestamp("2010-05-01"),
     "measure_type": "export_quota", "hs6_codes": "222222", "scope_materials": "alpha"},
    {"event_id": "E3-technology", "country_iso3": "CCC",
     "effective_date": pd.Timestamp("2011-01-01"), "measure_type": "technology_export_ban",
     "hs6_codes": None, "scope_materials": ""},
    {"event_id": "E4-later", "country_iso3": "AAA", "effective_date": pd.Timestamp("2030-01-01"),
     "measure_type": "export_ban", "hs6_codes": "111111", "scope_materials": "alpha"},
    {"event_id": "E5-no-flows", "country_iso3": "DDD",
     "effective_date": pd.Timestamp("2011-01-01"), "measure_type": "export_ban",
     "hs6_codes": "999999", "scope_materials": ""},
    {"event_id": "E6-easing", "country_iso3": "BBB", "effective_date": pd.Timestamp("2011-01-01"),
     "measure_type": "export_quota_relaxation", "hs6_codes": "111111", "scope_materials": "alpha"},
])  # fmt: skip
TRADED = pd.DataFrame({"exporter_iso3": ["AAA", "AAA", "BBB", "CCC"],
                       "hs6": ["111111", "222222", "111111", "111111"]})  # fmt: skip


def _alert(alert_id: str, year: int, first_year: int, signal: str, exporter: str | None,
           material: str | None, hs6: str) -> dict[str, object]:  # fmt: skip
    return {"alert_id": alert_id, "year": year, "first_year": first_year, "rule_id": signal,
            "signal": signal, "exporter_iso3": exporter, "material": material, "hs6": hs6,
            "severity": "warning"}  # fmt: skip


ALERTS = pd.DataFrame([
    _alert("a1", 2011, 2011, "supplier_export_drop", "BBB", "alpha", "111111;222222"),
    _alert("a1", 2012, 2011, "supplier_export_drop", "BBB", "alpha", "111111;222222"),
    _alert("a2", 2012, 2012, "supplier_export_drop", "CCC", "alpha", "111111;222222"),
    _alert("a3", 2010, 2010, "partner_export_drop", "AAA", "beta", "333333"),
    _alert("a4", 2012, 2012, "price_spike", None, "alpha", ""),
    _alert("a5", 2009, 2009, "supplier_export_drop", "BBB", "alpha", "111111;222222"),
])  # fmt: skip


def test_event_coverage_says_why_an_event_cannot_be_scored() -> None:
    coverage = calc_event_coverage(EVENTS, TRADED, 2009, 2012, last_data_year=2015)
    reasons = dict(zip(coverage["event_id"], coverage["reason"], strict=True))
    assert coverage.loc[coverage["scoreable"], "event_id"].tolist() == ["E1-caught", "E2-missed"]
    assert "technology" in reasons["E3-technology"]
    assert "after the last trade year (2015)" in reasons["E4-later"]
    assert "no HS92 flows from DDD for 999999" in reasons["E5-no-flows"]
    assert "eases an earlier restriction" in reasons["E6-easing"]


def test_scores_of_the_hand_worked_case() -> None:
    coverage = calc_event_coverage(EVENTS, TRADED, 2009, 2012, last_data_year=2015)
    scores = calc_backtest_scores(ALERTS, coverage, 2009, 2012)
    events = scores.events.set_index("event_id")
    # E1: a1 is active in 2011 and 2012, inside 2011..2013: caught one year ahead
    assert events.loc["E1-caught", "caught"] and events.loc["E1-caught", "lead_lag"] == -1
    assert events.loc["E1-caught", "alerts"] == "a1"
    # E2: AAA's only alert is about beta (333333), not alpha: missed
    assert not events.loc["E2-missed", "caught"]
    summary = scores.summary
    assert summary["events_scoreable"] == 2 and summary["events_caught"] == 1
    assert summary["recall"] == pytest.approx(1 / 2)
    # scored episodes a1, a2, a3, a5 (a4 is a price alert); only a1 matches an event
    assert summary["scored_alerts"] == 4
    assert summary["precision"] == pytest.approx(1 / 4)
    assert summary["false_alarms"] == 3
    assert summary["false_alarms_per_year"] == pytest.approx(3 / 4)
    assert summary["mean_lead_lag_years"] == pytest.approx(-1)
    matched = dict(zip(scores.episodes["alert_id"], scores.episodes["matched_event"],
                       strict=True))  # fmt: skip
    assert matched["a1"] == "E1-caught" and pd.isna(matched["a5"])


def test_replay_of_synthetic_inputs() -> None:
    report = backtest_inputs(synthetic_inputs(), 2008, 2015)
    events = report.scores.events.set_index("event_id")
    assert events.loc["BBB-2012-BAN", "caught"]
    assert events.loc["BBB-2012-BAN", "lead_lag"] == 0
    assert report.summary["recall"] == 1.0
    per_year = report.per_year.set_index("year")
    assert per_year.loc[DROP_YEAR, "scored_matching_event"] == 1
    assert per_year.loc[2008, "new_alerts"] == 0
    assert int(per_year["new_alerts"].sum()) == int((report.alerts["first_year"]
                                                     == report.alerts["year"]).sum())  # fmt: skip
    document = json.loads(report.to_json())
    assert document["summary"]["events_caught"] == 1
    assert {"summary", "settings", "events", "per_year", "alerts"} <= set(document)
    svg = render_backtest_svg(report)
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg") and "BBB-2012-BAN (caught)" in svg


def test_the_backtest_needs_history() -> None:
    with pytest.raises(QueryError, match="needs a year of history"):
        backtest_inputs(synthetic_inputs(), 1996, 2000)
