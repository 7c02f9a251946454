"""``watch subscribe | subscriptions | ack | feed | deliver`` through the Typer app (CliRunner);
``deliver`` runs the monitor on the bundled real data and POSTs to a local webhook server."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainwatch.cli.watch import watch_app
from chainwatch.errors import QueryError
from chainwatch.store import Store
from chainwatch.store.app_state import APP_DB_VARIABLE, AppState
from chainwatch.watch.feed import ATOM
from tests.watch.test_delivery import SECRET, webhook_server
from tests.watch.test_state import make_alert

runner = CliRunner()
NS = {"atom": ATOM}


@pytest.fixture(autouse=True)
def _no_app_db_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(APP_DB_VARIABLE, raising=False)


@pytest.fixture
def app_db(tmp_path: Path) -> str:
    """A SQLite app database holding two SYNTHETIC alerts."""
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    with AppState(url) as state:
        state.record_alerts([make_alert("g1"), make_alert("n1", material="nickel")])
    return url


def test_subscribe_and_list(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "chainwatch.duckdb")]
    url, material = "https://example.org/hook", ["--material", "graphite"]
    hook = runner.invoke(
        watch_app, ["subscribe", *material, "--webhook", url, "--secret", "s", *store]
    )
    assert hook.exit_code == 0, hook.output
    assert hook.stdout == (
        "subscription 1: material graphite -> webhook https://example.org/hook\n"
    )
    feed = runner.invoke(watch_app, ["subscribe", "--partner", "chn", "--feed", *store])
    assert feed.stdout == "subscription 2: partner CHN -> feed Atom feed\n"
    assert (tmp_path / "chainwatch.app.sqlite").is_file()  # beside the store
    listed = runner.invoke(watch_app, ["subscriptions", "--format", "json", *store])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["kind"], r["value"], r["channel"]) for r in rows] == [
        (1, "material", "graphite", "webhook"), (2, "partner", "CHN", "feed")
    ]  # fmt: skip
    assert "secret" not in rows[0]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--material", "graphite", "--partner", "CHN", "--feed"], "exactly one of --material"),
        (["--material", "graphite"], "exactly one of --webhook"),
        (["--material", "graphite", "--feed", "--webhook", "http://x/"], "exactly one of"),
        (["--material", "graphite", "--webhook", "ftp://x/", "--secret", "s"], "http"),
        (["--material", "graphite", "--webhook", "http://x/"], "needs --secret"),
    ],
)
def test_subscribe_refuses_bad_options(tmp_path: Path, arguments: list[str], message: str) -> None:
    result = runner.invoke(watch_app, ["subscribe", *arguments, "--app-db",
                                       f"sqlite:///{tmp_path / 'a.sqlite'}"])  # fmt: skip
    assert result.exit_code != 0 and isinstance(result.exception, QueryError)
    assert message in str(result.exception) and "\n" not in str(result.exception)


def test_ack_moves_an_alert_and_refuses_a_bad_move(app_db: str) -> None:
    result = runner.invoke(watch_app, ["ack", "g1", "--state", "confirmed", "--note",
                                       "seen in customs data", "--actor", "ana",
                                       "--app-db", app_db])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "alert g1: new -> confirmed\n"
    with AppState(app_db) as state:
        event = state.events("g1")[-1]
    assert (event.actor, event.note) == ("ana", "seen in customs data")
    refused = runner.invoke(watch_app, ["ack", "g1", "--state", "dismissed", "--app-db", app_db])
    assert refused.exit_code != 0 and isinstance(refused.exception, QueryError)
    assert "cannot go from confirmed to dismissed" in str(refused.exception)
    unknown = runner.invoke(watch_app, ["ack", "zz", "--state", "resolved", "--app-db", app_db])
    assert isinstance(unknown.exception, QueryError)


def test_feed_to_stdout_and_to_a_file(app_db: str, tmp_path: Path) -> None:
    result = runner.invoke(watch_app, ["feed", "--app-db", app_db])
    assert result.exit_code == 0, result.output
    feed = ElementTree.fromstring(result.stdout.encode("utf-8"))
    assert len(feed.findall("atom:entry", NS)) == 2
    with AppState(app_db) as state:
        nickel = state.subscribe("material", "nickel", "feed")
    out = tmp_path / "alerts.atom"
    written = runner.invoke(watch_app, ["feed", "--subscription", str(nickel.subscription_id),
                                        "--app-db", app_db, "-o", str(out)])  # fmt: skip
    assert written.exit_code == 0, written.output
    entries = ElementTree.parse(out).getroot().findall("atom:entry", NS)
    assert [e.findtext("atom:id", namespaces=NS) for e in entries] == ["urn:chainwatch:alert:n1"]
    missing = runner.invoke(watch_app, ["feed", "--subscription", "9", "--app-db", app_db])
    assert isinstance(missing.exception, QueryError)


def test_deliver_runs_the_monitor_and_posts_once(real_store: Store, tmp_path: Path) -> None:
    app_db = f"sqlite:///{tmp_path / 'app.sqlite'}"
    with webhook_server() as receiver:
        subscribe = runner.invoke(watch_app, ["subscribe", "--material", "nickel", "--webhook",
                                              receiver.url, "--secret", SECRET,
                                              "--app-db", app_db])  # fmt: skip
        assert subscribe.exit_code == 0, subscribe.output
        command = ["deliver", "--year", "2014", "--as", "CAN", "--store", str(real_store.path),
                   "--app-db", app_db]  # fmt: skip
        first = runner.invoke(watch_app, command)
        assert first.exit_code == 0, first.output
        assert first.stdout.startswith("2014: ") and "0 failed" in first.stdout
        sent = [got["body"] for got in receiver.received]
        assert sent and receiver.refused == 0
        alerts = [body["alert"] for body in sent if isinstance(body, dict)]
        assert all("nickel" in a["scope"]["material"].split(";") for a in alerts)
        assert any(a["scope"]["exporter_iso3"] == "IDN" and a["rule_id"] == "supplier-export-drop"
                   for a in alerts)  # fmt: skip
        second = runner.invoke(watch_app, command)
        assert second.exit_code == 0, second.output
        assert f"0 delivered, {len(sent)} already delivered" in second.stdout
        assert len(receiver.received) == len(sent)
    with AppState(app_db) as state:
        stored = state.alerts()
        assert len(stored) >= len(sent) and all(a.last_year == 2014 for a in stored)
        assert {d.status for d in state.deliveries()} == {"delivered"}
