"""``watch run`` and ``watch backtest`` through the Typer app (CliRunner), on the real data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from chainwatch.cli.watch import watch_app
from chainwatch.errors import QueryError
from chainwatch.store import Store

runner = CliRunner()


def test_run_as_json(real_store: Store) -> None:
    result = runner.invoke(watch_app, ["run", "--year", "2014", "--as", "CAN", "--format",
                                       "json", "--store", str(real_store.path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    alerts = json.loads(result.stdout)
    drop = next(a for a in alerts
                if a["rule_id"] == "supplier-export-drop" and a["exporter_iso3"] == "IDN"
                and a["material"] == "nickel")  # fmt: skip
    assert drop["year"] == 2014 and drop["severity"] == "critical"
    assert drop["sentence"].startswith("Indonesia's exports of nickel")
    assert "2013=5.82" in drop["series"] and drop["threshold"].startswith("change_z<=-3")


def test_run_table_and_csv_with_a_material(real_store: Store, tmp_path: Path) -> None:
    table = runner.invoke(watch_app, ["run", "-y", "2014", "--as", "CAN", "-m", "nickel",
                                      "--store", str(real_store.path)])  # fmt: skip
    assert table.exit_code == 0, table.output
    assert "Alerts 2014 for CAN" in table.stdout and "supplier-export-drop" in table.stdout
    out = tmp_path / "alerts.csv"
    written = runner.invoke(watch_app, ["run", "-y", "2014", "--as", "CAN", "-m", "nickel",
                                        "-f", "csv", "-o", str(out),
                                        "--store", str(real_store.path)])  # fmt: skip
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8").startswith("alert_id,year,severity,rule_id")
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 2
    assert all("nickel" in row["material"].split(";") for row in rows)


def test_run_refuses_an_unknown_material(real_store: Store) -> None:
    result = runner.invoke(watch_app, ["run", "-y", "2014", "--as", "CAN", "-m", "unobtainium",
                                       "--store", str(real_store.path)])  # fmt: skip
    assert result.exit_code != 0 and isinstance(result.exception, QueryError)


def test_backtest_json_and_chart(real_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "backtest.json"
    result = runner.invoke(watch_app, ["backtest", "--from", "2013", "--to", "2015", "--as",
                                       "CAN", "--format", "json", "--out", str(out),
                                       "--store", str(real_store.path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    events = {event["event_id"]: event for event in report["events"]}
    assert events["IDN-2014-ORE"]["caught"] and events["IDN-2014-ORE"]["lead_lag"] == 0
    assert "outside the years replayed" in events["CHN-2010-REE"]["reason"]
    assert "outside the years replayed" in events["CHN-2023-GAGE"]["reason"]
    assert "after the last trade year (2024)" in events["COD-2025-CO"]["reason"]
    assert report["summary"]["events_scoreable"] == 1 and report["summary"]["recall"] == 1.0
    assert [row["year"] for row in report["per_year"]] == [2013, 2014, 2015]
    assert out.with_suffix(".svg").read_text(encoding="utf-8").startswith("<svg")


def test_backtest_table(real_store: Store) -> None:
    result = runner.invoke(watch_app, ["backtest", "--from", "2014", "--to", "2014", "--as",
                                       "CAN", "--store", str(real_store.path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Backtest 2014-2014" in result.stdout and "IDN-2014-ORE" in result.stdout
