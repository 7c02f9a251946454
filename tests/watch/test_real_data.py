"""The monitor on the bundled real data: Indonesia's 2014 ore ban, and no look-ahead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from chainwatch.store import Store
from chainwatch.watch.alerts import alerts_frame
from chainwatch.watch.inputs import WatchInputs, read_watch_inputs
from chainwatch.watch.monitor import Monitor, calc_alerts

PERSPECTIVES = ["ALLIED", "CAN"]


def test_indonesia_2014_nickel_ore_ban_is_flagged_in_2014(real_store: Store) -> None:
    alerts = calc_alerts(real_store, 2014)
    nickel = [a for a in alerts
              if a.exporter_iso3 == "IDN" and "260400" in a.hs6.split(";")]  # fmt: skip
    drop = next(a for a in nickel if a.rule_id == "supplier-export-drop")
    assert drop.year == 2014 and drop.first_year == 2014 and not drop.continuing
    assert drop.severity == "critical"
    points = dict(drop.series)
    assert points["2013"] == pytest.approx(58.2e6, rel=0.01)
    assert points["2014"] == pytest.approx(7.7e6, rel=0.01)
    assert drop.sentence.startswith("Indonesia's exports of nickel (mine: 260400) fell 79 %")
    assert "IDN-2014-ORE" in drop.sentence and drop.related_events == ("IDN-2014-ORE",)
    assert "CEPII BACI V202401b" in drop.sources
    assert not [a for a in calc_alerts(real_store, 2013, "CAN")
                if a.exporter_iso3 == "IDN" and a.rule_id == "supplier-export-drop"]  # fmt: skip


@pytest.fixture(scope="module")
def replay_inputs(real_store: Store) -> WatchInputs:
    """Everything up to 2024 read once, as the backtest does."""
    return read_watch_inputs(real_store, 2024, PERSPECTIVES)


def _cut_store(source: Store, target: Path, year: int) -> Store:
    """A copy of the store with every row dated after ``year`` deleted (and end dates after
    ``year`` unknown), as the store stood at the end of ``year``."""
    shutil.copyfile(source.path, target)
    cut = Store(target)
    end = f"{year}-12-31"
    with cut.writing() as con:
        con.execute("DELETE FROM trade_flow WHERE year > ?", [year])
        con.execute("DELETE FROM production WHERE year > ?", [year])
        con.execute("DELETE FROM price WHERE month > ?", [end])
        con.execute("DELETE FROM export_restriction_event "
                    "WHERE coalesce(announced_date, effective_date) > ?", [end])  # fmt: skip
        con.execute("UPDATE export_restriction_event SET end_date = NULL WHERE end_date > ?",
                    [end])  # fmt: skip
    return cut


@pytest.mark.parametrize("year", [2009, 2014, 2022])
def test_alerts_for_a_year_are_the_same_without_later_data(
    real_store: Store, replay_inputs: WatchInputs, tmp_path: Path, year: int
) -> None:
    """No look-ahead: the alerts of ``year`` from the full store, from the replay of data read
    up to 2024, and from a store holding nothing dated after ``year`` are identical."""
    cut = _cut_store(real_store, tmp_path / "cut.duckdb", year)
    with real_store.connect() as full_con, cut.connect() as cut_con:
        counts = [con.execute("SELECT count(*) FROM trade_flow").fetchone()[0]
                  for con in (full_con, cut_con)]  # fmt: skip
    assert counts[1] < counts[0]  # later data really were there and are gone
    from_cut = alerts_frame(Monitor(read_watch_inputs(cut, year, PERSPECTIVES)).alerts(year))
    from_full = alerts_frame(Monitor(read_watch_inputs(real_store, year, PERSPECTIVES))
                             .alerts(year))  # fmt: skip
    replayed = alerts_frame(Monitor(replay_inputs).alerts(year))
    assert len(from_cut) > 0
    pd.testing.assert_frame_equal(from_full, from_cut)
    pd.testing.assert_frame_equal(replayed, from_cut)
