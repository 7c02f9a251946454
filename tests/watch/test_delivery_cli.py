"""``watch subscribe | subscriptions | unsubscribe | ack | feed | deliver | rotate-secrets |
new-key`` through the Typer app (CliRunner); ``deliver`` runs the monitor on the bundled real
data and POSTs to a local webhook server (reached through ``--allow-host 127.0.0.1``)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from chainwatch.cli.watch import watch_app
from chainwatch.errors import QueryError, StoreError
from chainwatch.store import Store
from chainwatch.store.app_database import APP_DB_VARIABLE
from chainwatch.store.app_state import AppState
from chainwatch.store.delivery_store import read_deliveries
from chainwatch.watch.feed import ATOM
from chainwatch.watch.secrets import KEY_FILE_VARIABLE, KEY_VARIABLE
from tests.watch.test_state import make_alert
from tests.watch.webhook_receiver import SECRET, Behaviour, webhook_server

runner = CliRunner()
NS = {"atom": ATOM}


@pytest.fixture(autouse=True)
def _no_app_db_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in (APP_DB_VARIABLE, KEY_VARIABLE, KEY_FILE_VARIABLE):
        monkeypatch.delenv(variable, raising=False)


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
        watch_app, ["subscribe", *material, "--webhook", url, "--secret", SECRET, *store]
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
    database, key_file = tmp_path / "chainwatch.app.sqlite", tmp_path / "chainwatch.app.key"
    for private in (database, key_file):  # owner-only files, the key made on first use
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    with sqlite3.connect(database) as raw:
        stored = raw.execute("SELECT secret, secret_encrypted FROM subscription").fetchall()
    assert stored[0][0] is None and stored[0][1].startswith("gAAAA")  # a Fernet token
    assert SECRET.encode() not in database.read_bytes()
    removed = runner.invoke(watch_app, ["unsubscribe", "1", *store])
    assert removed.exit_code == 0, removed.output
    assert removed.stdout == (
        "removed subscription 1: material graphite -> webhook https://example.org/hook "
        "(0 delivery records)\n"
    )
    again = runner.invoke(watch_app, ["unsubscribe", "1", *store])
    assert isinstance(again.exception, QueryError) and "unknown subscription 1" in str(
        again.exception
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--material", "graphite", "--partner", "CHN", "--feed"], "exactly one of --material"),
        (["--material", "graphite"], "exactly one of --webhook"),
        (["--material", "graphite", "--feed", "--webhook", "http://x/"], "exactly one of"),
        (["--material", "graphite", "--webhook", "ftp://x/", "--secret", "s"], "http"),
        (["--material", "graphite", "--webhook", "http://x/"], "needs --secret"),
        (["--material", "graphite", "--webhook", "http://127.0.0.1/", "--secret", "s"],
         "--allow-host"),
        (["--material", "graphite", "--webhook", "http://169.254.169.254/", "--secret", "s",
          "--allow-host", "169.254.169.254"], "metadata"),
    ],
)  # fmt: skip
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
                                              "--allow-host", "127.0.0.1",
                                              "--app-db", app_db])  # fmt: skip
        assert subscribe.exit_code == 0, subscribe.output
        command = ["deliver", "--year", "2014", "--as", "CAN", "--store", str(real_store.path),
                   "--app-db", app_db, "--allow-host", "127.0.0.1"]  # fmt: skip
        receiver.script = [Behaviour(status=503, headers=(("Retry-After", "0"),))]
        first = runner.invoke(watch_app, [*command, "--backoff", "0"])
        assert first.exit_code == 0, first.output
        assert first.stdout.startswith("2014: ") and "1 failed" in first.stdout
        assert "HTTP 503" in first.stderr and "retried by a later run" in first.stderr
        sent = [got["body"] for got in receiver.accepted]
        assert sent and receiver.refused == 0
        second = runner.invoke(watch_app, command)  # retries the 503, skips the others
        assert second.exit_code == 0, second.output
        assert f"1 delivered, {len(sent)} already delivered, 0 failed" in second.stdout
        assert len(receiver.accepted) == len(sent) + 1 and receiver.duplicates == 0
        alerts = [got["body"]["alert"] for got in receiver.accepted]  # type: ignore[index]
        assert all("nickel" in a["scope"]["material"].split(";") for a in alerts)
        assert any(a["scope"]["exporter_iso3"] == "IDN" and a["rule_id"] == "supplier-export-drop"
                   for a in alerts)  # fmt: skip
    with AppState(app_db) as state:
        stored = state.alerts()
        assert len(stored) >= len(sent) and all(a.last_year == 2014 for a in stored)
        assert {d.status for d in read_deliveries(state)} == {"delivered"}


def test_rotate_secrets_and_a_missing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app_db = ["--app-db", f"sqlite:///{tmp_path / 'app.sqlite'}"]
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_VARIABLE, old)
    subscribe = ["subscribe", "--partner", "IDN", "--webhook", "https://example.org/h"]
    added = runner.invoke(watch_app, [*subscribe, "--secret", SECRET, *app_db])
    assert added.exit_code == 0, added.output
    monkeypatch.setenv(KEY_VARIABLE, f"{new},{old}")  # the new key first, the old one after
    rotated = runner.invoke(watch_app, ["rotate-secrets", *app_db])
    assert rotated.stdout == "1 webhook secrets re-encrypted with the first key\n"
    monkeypatch.setenv(KEY_VARIABLE, new)  # the old key dropped: still readable
    with AppState(app_db[1]) as state:
        assert state.webhook_secret(1) == SECRET
    monkeypatch.setenv(KEY_VARIABLE, old)  # only the retired key: a one-line refusal
    with AppState(app_db[1]) as state, pytest.raises(StoreError, match="decrypts") as caught:
        state.webhook_secret(1)
    assert "\n" not in str(caught.value)
    key = runner.invoke(watch_app, ["new-key"]).stdout.strip()
    assert Fernet(key.encode()) and len(key) == 44


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "app.key"
    key_file.write_text(Fernet.generate_key().decode() + "\n", encoding="ascii")
    os.chmod(key_file, 0o644)
    app_db = f"sqlite:///{tmp_path / 'app.sqlite'}"
    result = runner.invoke(watch_app, ["subscribe", "--partner", "IDN", "--webhook",
                                       "https://example.org/h", "--secret", SECRET,
                                       "--app-db", app_db])  # fmt: skip
    assert isinstance(result.exception, StoreError)
    assert "readable by others (mode 644): run `chmod 600" in str(result.exception)
