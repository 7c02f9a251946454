"""Precomputed alerts and backtest: written next to the store once per version, equal to what
the monitor computes, and read back by a second app on the same store (as after a restart)
without computing anything."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import anyio.from_thread
import pandas as pd
import pytest

from chainwatch.api.app import create_app
from chainwatch.errors import QueryError
from chainwatch.services import alerts, defaults, precompute
from chainwatch.services.cache import ResultCache, store_version
from chainwatch.store import Store
from chainwatch.ui.perspectives import DEFAULT_PERSPECTIVE
from chainwatch.watch.alerts import Alert
from chainwatch.watch.monitor import calc_alerts
from tests.api.conftest import API, ApiClient
from tests.api.support import TEST_HOSTS, bundled_store

DEFAULT_REQUESTS = ["/alerts", "/alerts?year=2014&severity=critical", "/alerts?year=2003",
                    "/alerts/backtest", "/alerts/backtest?page=2&page_size=5",
                    "/alerts?year=2014&format=csv", "/alerts/feed.atom?year=2014"]  # fmt: skip


@cache
def alerts_of_2014() -> tuple[Alert, ...]:
    """The monitor's alerts of 2014 computed as ``chainwatch watch run --year 2014`` does."""
    return tuple(calc_alerts(bundled_store(), 2014))


def test_the_first_screen_is_precomputed() -> None:
    assert alerts.PAGE_PERSPECTIVE == DEFAULT_PERSPECTIVE == defaults.DEFAULT_PERSPECTIVE
    page = (DEFAULT_PERSPECTIVE, defaults.choose_bloc(DEFAULT_PERSPECTIVE).code)
    assert set(alerts.PRECOMPUTED) == {(None, alerts.DEFAULT_BLOC), page}


def test_stored_alerts_are_the_monitors(client: ApiClient) -> None:
    client.get(API + "/alerts")  # the default documents exist from here on
    store = bundled_store()
    stored = alerts.stored_alerts(ResultCache(store), store, None, alerts.DEFAULT_BLOC)
    assert stored is not None and stored.backtest is not None
    assert stored.years[2014] == alerts_of_2014(), "every field, every float"
    assert stored.scope.perspectives == ("ALLIED", "CAN", "EU27", "GBR", "USA")
    assert (stored.backtest.year_from, stored.backtest.year_to) == (2000, 2024)


def test_a_second_app_answers_from_disk(client: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    first = {path: client.get(API + path) for path in DEFAULT_REQUESTS}
    store = bundled_store()
    directory = precompute.version_directory(store, store_version(store))
    assert (directory / "alerts-default-ALLIED.json").is_file()

    def no_monitor(*args: object, **options: object) -> None:
        raise AssertionError("the second app computed a monitor")

    monkeypatch.setattr(alerts, "Monitor", no_monitor)
    monkeypatch.setattr(alerts, "read_watch_inputs", no_monitor)
    restarted = create_app(store.path, hosts=TEST_HOSTS)
    with anyio.from_thread.start_blocking_portal() as portal:
        second = ApiClient(portal, restarted)
        for path, response in first.items():
            again = second.get(API + path)
            assert again.status_code == 200, (path, again.text)
            assert again.content == response.content, path
            assert again.headers["etag"] == response.headers["etag"], path
        second.close()


def test_documents_belong_to_one_store_and_method_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "store.duckdb")
    store.path.write_bytes(b"SYNTHETIC store file")
    version = store_version(store)
    assert precompute.write_document(store, version, "doc", {"value": 1})
    assert precompute.read_document(store, version, "doc") == {"value": 1}
    assert precompute.read_document(store, "another-version", "doc") is None
    (precompute.version_directory(store, version) / "doc.json").write_text("{not json")
    assert precompute.read_document(store, version, "doc") is None, "unreadable: computed again"
    monkeypatch.setattr(precompute, "method_version", lambda: "changed")
    assert precompute.read_document(store, version, "doc") is None, "a changed method"
    assert precompute.write_document(store, version, "doc", {"value": 2})
    kept = [path.name for path in precompute.results_root(store).iterdir() if path.is_dir()]
    assert kept == [f"{version}-mchanged"], "other versions are removed"


def test_frames_and_alerts_round_trip_exactly() -> None:
    frame = pd.DataFrame({  # SYNTHETIC cells of every kind the backtest frames hold
        "text": ["a", None, "c"], "whole": [1, 2, 3], "real": [0.1, math.nan, 1e-300],
        "flag": [True, False, True], "mixed": [None, 2, "x"], "matched": [math.nan, "E1", 0.5],
    })  # fmt: skip
    document = json.loads(json.dumps(precompute.write_frame(frame)))
    pd.testing.assert_frame_equal(precompute.read_frame(document), frame)
    with pytest.raises(TypeError, match="column 'bad' holds a tuple"):
        precompute.write_frame(pd.DataFrame({"bad": [(1, 2)]}))
    (alert, *_) = alerts_of_2014()
    record = json.loads(json.dumps(precompute.write_alert(alert)))
    assert precompute.read_alert(record) == alert


def test_persisted_frames_are_read_back_by_another_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.duckdb")
    store.path.write_bytes(b"SYNTHETIC store file")
    frame = pd.DataFrame({"material": ["alpha", "beta"], "score": [0.5, math.nan]})  # SYNTHETIC
    frame.attrs["provenance"] = {"method_ids": ["a.b"], "year": 2023}
    first = ResultCache(store, persisted={"heavy.table"})
    assert first.get("heavy.table", {"year": 2023}, lambda: frame) is frame

    def recompute() -> pd.DataFrame:
        raise AssertionError("computed again")

    restarted = ResultCache(store, persisted={"heavy.table"})
    again = restarted.get("heavy.table", {"year": 2023}, recompute)
    pd.testing.assert_frame_equal(again, frame)
    assert again.attrs == frame.attrs
    with pytest.raises(AssertionError, match="computed again"):
        restarted.get("heavy.table", {"year": 2024}, recompute)  # other parameters
    odd = pd.DataFrame({"x": [1]})
    odd.attrs["kept"] = (1, 2)  # a tuple JSON would turn into a list: not persisted
    first.get("heavy.table", {"odd": True}, lambda: odd)
    with pytest.raises(AssertionError, match="computed again"):
        ResultCache(store, persisted={"heavy.table"}).get("heavy.table", {"odd": True}, recompute)


def test_a_backtest_off_the_default_years_is_scored_from_stored_alerts(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.get(API + "/alerts")  # the default documents exist from here on
    store = bundled_store()

    def no_monitor(*args: object, **options: object) -> None:
        raise AssertionError("a monitor was built")

    monkeypatch.setattr(alerts, "Monitor", no_monitor)
    cache = ResultCache(store)
    report = alerts.backtest(cache, store, 2010, 2030)
    assert (report.year_from, report.year_to) == (2010, 2024), "cut to the last trade year"
    assert set(report.alerts["year"]) <= set(range(2010, 2025))
    with pytest.raises(QueryError, match="needs a year of history: start at 1996 or later"):
        alerts.backtest(cache, store, 1995, 2000)
