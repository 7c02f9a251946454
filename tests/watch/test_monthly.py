"""Monthly supplier-drop signal on SYNTHETIC monthly series with an injected break.

Every series here is invented for the test (a steady supplier with noise, a second supplier,
and a break injected at a known month); none of it is trade data.
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from chainwatch.cli.watch import watch_app
from chainwatch.errors import QueryError
from chainwatch.ingest.pipeline import ingest_file
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from chainwatch.store.relations import open_relations
from chainwatch.watch.alerts import calc_alert_id, calc_rule_hits
from chainwatch.watch.monthly import (
    SIGNAL,
    calc_monthly_alerts,
    calc_monthly_partner_drops,
    month_index,
    month_label,
    read_monthly_flows,
)
from chainwatch.watch.rules import MONTHLY_SIGNALS, SIGNALS, RuleSpec, load_rules, rule_from_record
from tests.conftest import FIXTURES

BREAK = date(2023, 7, 1)


def _synthetic_flows(break_month: date = BREAK, fall: float = 0.9) -> pd.DataFrame:
    """SYNTHETIC: CAN imports 282200 from CHN (about 100 t a month) and from USA (about 20 t),
    January 2021 to December 2023; CHN's tonnage falls by ``fall`` from ``break_month`` on."""
    generator = np.random.default_rng(7)
    rows = []
    for period in pd.date_range("2021-01-01", "2023-12-01", freq="MS"):
        for partner, level in (("CHN", 100.0), ("USA", 20.0)):
            tonnes = level * (1 + 0.05 * generator.standard_normal())
            if partner == "CHN" and period.date() >= break_month:
                tonnes *= 1 - fall
            rows.append({
                "period": period.date(), "reporter_iso3": "CAN", "partner_iso3": partner,
                "flow": "import", "hs6": "282200", "hs_revision": "HS17",
                "value_usd": tonnes * 40_000.0, "quantity_t": tonnes,
            })  # fmt: skip
    # exports are not imports: a synthetic export row that must be ignored
    rows.append({"period": date(2023, 7, 1), "reporter_iso3": "CAN", "partner_iso3": "CHN",
                 "flow": "export", "hs6": "282200", "hs_revision": "HS17",
                 "value_usd": 1.0, "quantity_t": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def _row(frame: pd.DataFrame, partner: str) -> pd.Series:
    selected = frame[frame["exporter_iso3"] == partner]
    assert len(selected) == 1
    return selected.iloc[0]


def test_injected_break_is_flagged_in_its_month_only() -> None:
    flows = _synthetic_flows()
    before = calc_monthly_partner_drops(flows, date(2023, 6, 1))
    at = calc_monthly_partner_drops(flows, BREAK)
    china_before, china = _row(before, "CHN"), _row(at, "CHN")
    assert china_before["change_z"] > -3
    assert china["change_z"] < -10
    assert china["robust_z"] < -10
    assert china["change_vs_median"] == pytest.approx(-0.9, abs=0.05)
    assert china["yoy_change"] == pytest.approx(-0.9, abs=0.05)
    assert china["baseline_share"] == pytest.approx(100 / 120, abs=0.03)
    assert china["month"] == "2023-07"
    assert china["signal"] == SIGNAL
    assert china["scope"] == "CAN|CHN|hs6:282200"
    assert china["series"][-1][0] == "2023-07"
    assert len(china["series"]) == 14  # M-13 .. M
    usa = _row(at, "USA")
    assert abs(usa["change_z"]) < 4
    # the share of the unaffected supplier rises: it is not a supplier-specific drop
    assert usa["share_change_vs_median"] > 0


def test_no_look_ahead() -> None:
    flows = _synthetic_flows()
    tested = date(2023, 5, 1)
    known = flows[pd.to_datetime(flows["period"]) <= pd.Timestamp(tested)]
    full = calc_monthly_partner_drops(flows, tested)
    cut = calc_monthly_partner_drops(known, tested)
    pd.testing.assert_frame_equal(full.reset_index(drop=True), cut.reset_index(drop=True))
    # a break after the tested month changes nothing for it
    later_break = calc_monthly_partner_drops(_synthetic_flows(date(2023, 6, 1)), tested)
    pd.testing.assert_frame_equal(full.reset_index(drop=True),
                                  later_break.reset_index(drop=True))  # fmt: skip


def test_short_history_gives_no_z() -> None:
    flows = _synthetic_flows()
    first = calc_monthly_partner_drops(flows, date(2021, 2, 1))
    assert all(math.isnan(z) for z in first["robust_z"])


def test_material_scopes_and_rule_hits() -> None:
    flows = _synthetic_flows()
    scopes = pd.DataFrame({"hs6": ["282200"], "hs_revision": ["HS17"],
                           "scope_key": ["cobalt|refinery"]})  # fmt: skip
    at = calc_monthly_partner_drops(flows, BREAK, scopes)
    assert set(at["scope_key"]) == {"cobalt|refinery"}
    rule: RuleSpec = rule_from_record({
        "rule_id": "monthly-partner-drop", "signal": "partner_export_drop",
        "severity": "warning", "conditions": "change_z<=-3;change_vs_median<=-0.5",
        "critical_when": "", "materials": "", "exporters": "", "perspectives": "",
        "description": "synthetic test rule",
    })  # fmt: skip
    hits = calc_rule_hits(at, rule)
    assert [hit["exporter_iso3"] for hit in hits] == ["CHN"]
    assert hits[0]["identity"] == "monthly-partner-drop|CAN|CHN|cobalt|refinery"


def test_month_index_round_trip() -> None:
    index = month_index(date(2024, 12, 1))
    assert month_label(index) == "2024-12"
    assert month_label(index + 1) == "2025-01"


def test_reads_flows_loaded_from_a_comtrade_file(tmp_path: Path) -> None:
    """The SYNTHETIC Comtrade fixture through ingest, then the store reader and the signal."""
    store = Store(tmp_path / "chainwatch.duckdb")
    load_bundle(store)
    fixture = FIXTURES / "comtrade" / "comtrade_final_CAN_202301-202302_H5_SYNTHETIC.csv"
    ingest_file(store, "comtrade", fixture)
    with open_relations(store) as relations:
        january = read_monthly_flows(relations, date(2023, 1, 1))
        everything = read_monthly_flows(relations, date(2023, 12, 1))
    assert set(pd.to_datetime(january["period"]).dt.month) == {1}
    assert len(everything) == 7
    rows = calc_monthly_partner_drops(everything, date(2023, 2, 1))
    # JPN first supplies in February: no baseline value, so no row (as the annual signal)
    assert set(rows["exporter_iso3"]) == {"CHN", "USA", "TWN"}
    assert rows["robust_z"].isna().all()  # two months of history: no z-score


# --- monthly alerts through the CLI (`watch run --month`) on a SYNTHETIC monthly store --------


@pytest.fixture(scope="module")
def bundled_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled store (no monthly data), built once for these tests."""
    path = tmp_path_factory.mktemp("monthly") / "bundled.duckdb"
    load_bundle(Store(path))
    return path


@pytest.fixture
def synthetic_monthly_store(bundled_copy: Path, tmp_path: Path) -> Path:
    """SYNTHETIC: the bundled store plus the invented monthly flows of ``_synthetic_flows``
    (CAN's imports of 282200 from CHN and USA, 2021-01 .. 2023-12, CHN falling 90 % from
    2023-07), scaled to USD 10 m a month from CHN; none of it is trade data."""
    path = tmp_path / "chainwatch.duckdb"
    shutil.copy(bundled_copy, path)
    flows = _synthetic_flows()
    flows = flows.assign(
        value_usd=flows["quantity_t"] * 100_000.0, source="SYNTHETIC", vintage="test"
    )
    with Store(path).writing() as con:
        con.register("synthetic", flows)
        con.execute(
            "INSERT INTO trade_flow_monthly (period, reporter_iso3, partner_iso3, flow, hs6, "
            "hs_revision, value_usd, quantity_t, source, vintage) SELECT period, "
            "reporter_iso3, partner_iso3, flow, hs6, hs_revision, value_usd, quantity_t, "
            "source, vintage FROM synthetic"
        )
    return path


def _run_month(store: Path, month: str, *extra: str) -> Result:
    return CliRunner().invoke(
        watch_app, ["run", "--month", month, "--store", str(store), "--format", "json", *extra]
    )


def test_month_flags_the_synthetic_break_in_its_month(synthetic_monthly_store: Path) -> None:
    result = _run_month(synthetic_monthly_store, "2023-07", "--as", "CAN")
    assert result.exit_code == 0, result.output
    (alert,) = json.loads(result.stdout)
    assert alert["rule_id"] == "monthly-partner-drop"
    assert alert["signal"] == "monthly_partner_drop"
    assert alert["severity"] == "critical"  # 83 % of imports, a 90 % fall
    # issue 11: 282200 maps to cobalt (refinery) in every HS revision now, so the monthly
    # (HS2017) flows are the material's scope, not a bare HS6 code
    assert alert["scope"] == "CAN|CHN|cobalt|refinery"
    assert (alert["year"], alert["first_year"], alert["continuing"]) == (2023, 2023, False)
    opening = "Canada's imports of cobalt (refinery: 282200) from China fell 9"
    assert alert["sentence"].startswith(opening)
    assert "12-month median in 2023-07" in alert["sentence"]
    assert alert["baseline"].startswith("median 10") and "2022-07 to 2023-06" in alert["baseline"]
    assert alert["series"].endswith(f"2023-07={alert['series'].split('=')[-1]}")
    assert alert["sources"] == "trade_flow_monthly: SYNTHETIC test"
    assert alert["alert_id"] == calc_alert_id("monthly-partner-drop", alert["scope"], "2023-07")
    again = json.loads(_run_month(synthetic_monthly_store, "2023-07").stdout)
    assert [a["alert_id"] for a in again] == [alert["alert_id"]], "stable id, all reporters"


def test_month_flags_nothing_before_the_break(synthetic_monthly_store: Path) -> None:
    for month in ("2022-01", "2022-12", "2023-05", "2023-06"):
        result = _run_month(synthetic_monthly_store, month)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == [], month


def test_month_uses_no_later_data(synthetic_monthly_store: Path) -> None:
    """A month after the break: the fall is now the baseline's last point, not a new break;
    and the alert of 2023-07 is the same whether or not later months are loaded."""
    with Store(synthetic_monthly_store).writing() as con:
        con.execute("DELETE FROM trade_flow_monthly WHERE period > DATE '2023-07-01'")
    cut = json.loads(_run_month(synthetic_monthly_store, "2023-07").stdout)
    assert [a["alert_id"] for a in cut] == [
        calc_alert_id("monthly-partner-drop", "CAN|CHN|cobalt|refinery", "2023-07")
    ]


def test_month_without_monthly_data_is_a_query_error(bundled_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "chainwatch.duckdb"
    shutil.copy(bundled_copy, path)
    result = _run_month(path, "2023-07")
    assert result.exit_code != 0 and isinstance(result.exception, QueryError)
    assert str(result.exception) == "no monthly trade data loaded; see chainwatch ingest comtrade"
    bad = _run_month(path, "2023-13")
    assert isinstance(bad.exception, QueryError) and "YYYY-MM" in str(bad.exception)


def test_annual_monitor_ignores_the_monthly_rule() -> None:
    rules = load_rules()
    assert "monthly-partner-drop" in {rule.rule_id for rule in rules}
    assert SIGNALS["monthly_partner_drop"].table == "trade_flow_monthly"
    assert {"monthly_partner_drop"} == MONTHLY_SIGNALS


def test_monthly_alerts_read_the_comtrade_fixture(tmp_path: Path, bundled_copy: Path) -> None:
    """The SYNTHETIC Comtrade fixture through ingest: two months, no baseline, no alert."""
    path = tmp_path / "chainwatch.duckdb"
    shutil.copy(bundled_copy, path)
    store = Store(path)
    fixture = FIXTURES / "comtrade" / "comtrade_final_CAN_202301-202302_H5_SYNTHETIC.csv"
    ingest_file(store, "comtrade", fixture)
    assert calc_monthly_alerts(store, date(2023, 2, 1), perspective="CAN") == []
    with pytest.raises(QueryError, match="reported by USA"):
        calc_monthly_alerts(store, date(2023, 2, 1), perspective="USA")
