"""App state (store/app_state.py): workflow transitions with their audit, the StateStore seam,
subscriptions and the Alembic migration - on SQLite and on PostgreSQL.

PostgreSQL runs at ``$CHAINWATCH_TEST_POSTGRES`` (default 127.0.0.1:5432, database ``test``);
each test gets its own schema, dropped afterwards. The PostgreSQL cases are skipped only when
the server cannot be reached and ``$CI`` is unset; under CI they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from chainwatch.errors import QueryError, StoreError
from chainwatch.store.app_database import APP_DB_VARIABLE, app_database_url, downgrade, upgrade
from chainwatch.store.app_state import AppState
from chainwatch.store.delivery_store import (
    claim_delivery,
    finish_delivery,
    read_deliveries,
    write_delivery_rows,
)
from chainwatch.watch.alerts import Alert, AlertState, StateStore
from chainwatch.watch.monitor import Monitor
from chainwatch.watch.rules import Severity
from chainwatch.watch.secrets import KeyRing, generate_key
from tests.watch.synthetic import DROP_YEAR, synthetic_inputs

POSTGRES_URL = os.environ.get(
    "CHAINWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]
APP_TABLES = {"alert", "alert_event", "subscription", "delivery", "partnership_text"}


@contextmanager
def app_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty app database: a SQLite file, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite'}"
        return
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        reason = f"PostgreSQL at {POSTGRES_URL} unreachable: {str(error.orig).splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"cw_test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def make_alert(
    alert_id: str = "a1",
    year: int = 2023,
    material: str | None = "graphite",
    exporter: str | None = "CHN",
    perspective: str | None = "CAN",
    severity: Severity = "warning",
    sentence: str = "SYNTHETIC: China's exports of graphite fell 60 % below their median.",
) -> Alert:
    """A SYNTHETIC alert (invented values) with the scope fields subscriptions match."""
    return Alert(
        alert_id=alert_id, rule_id="partner-export-drop", signal="partner_export_drop",
        severity=severity, year=year, first_year=2023, continuing=year > 2023,
        state=AlertState.new, sentence=sentence, perspective=perspective, exporter_iso3=exporter,
        material=material, stage="mine", hs6="250410",
        scope=f"{perspective}|{exporter}|{material}|mine", field="change_vs_median",
        value=-0.6, threshold="change_z<=-3", baseline="median 2018-2022",
        series=(("2022", 10.0), ("2023", 4.0)), sources="SYNTHETIC",
    )  # fmt: skip


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppState]:
    keys = KeyRing(keys=[generate_key()])
    with app_database(request.param, tmp_path) as url, AppState(url, secrets=keys) as state:
        yield state


def test_a_recorded_alert_is_new_and_audited(app: AppState) -> None:
    [record] = app.record_alerts([make_alert()])
    assert record.state is AlertState.new and record.last_year == 2023
    assert record.scope["material"] == "graphite" and record.scope["exporter_iso3"] == "CHN"
    assert record.updated_at.tzinfo is not None
    [event] = app.events("a1")
    assert (event.from_state, event.to_state, event.actor) == (None, AlertState.new, "monitor")
    assert app.get("a1") is AlertState.new and app.get("unknown") is None


def test_confirm_then_resolve_is_audited(app: AppState) -> None:
    app.record_alerts([make_alert()])
    app.transition("a1", "confirmed", actor="ana", note="checked with the supplier")
    record = app.transition("a1", AlertState.resolved, actor="ana")
    assert record.state is AlertState.resolved and app.get("a1") is AlertState.resolved
    moves = [(e.from_state, e.to_state, e.actor, e.note) for e in app.events("a1")]
    assert moves[1:] == [
        (AlertState.new, AlertState.confirmed, "ana", "checked with the supplier"),
        (AlertState.confirmed, AlertState.resolved, "ana", None),
    ]
    assert [e.at for e in app.events("a1")] == sorted(e.at for e in app.events("a1"))


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["confirmed"], "dismissed"),
        (["confirmed"], "new"),
        (["dismissed"], "new"),
        (["dismissed"], "confirmed"),
        (["resolved"], "confirmed"),
        (["dismissed", "resolved"], "new"),
    ],
)
def test_refused_moves_change_nothing(app: AppState, path: list[str], refused: str) -> None:
    app.record_alerts([make_alert()])
    for state in path:
        app.transition("a1", state, actor="ana")
    before = app.events("a1")
    with pytest.raises(QueryError, match=f"cannot go from {path[-1]} to {refused}"):
        app.transition("a1", refused, actor="ana")
    assert app.get("a1") == AlertState(path[-1]) and app.events("a1") == before


def test_same_state_is_a_no_op_and_unknowns_are_refused(app: AppState) -> None:
    app.record_alerts([make_alert()])
    app.transition("a1", "new", actor="ana")
    assert len(app.events("a1")) == 1
    with pytest.raises(QueryError, match="unknown alert 'nope'"):
        app.transition("nope", "confirmed", actor="ana")
    with pytest.raises(QueryError, match="unknown state 'acked'"):
        app.transition("a1", "acked", actor="ana")
    with pytest.raises(QueryError, match="unknown alert"):
        app.alert("nope")


def test_a_continuing_alert_keeps_its_state(app: AppState) -> None:
    app.record_alerts([make_alert()])
    app.transition("a1", "confirmed", actor="ana")
    [record] = app.record_alerts([make_alert(year=2024, severity="critical", sentence="later")])
    assert (record.state, record.first_year, record.last_year) == (AlertState.confirmed, 2023, 2024)
    assert (record.severity, record.sentence) == ("critical", "later")
    [again] = app.record_alerts([make_alert(year=2023, sentence="older")])
    assert again.last_year == 2024 and again.sentence == "later"
    assert len(app.events("a1")) == 2


def test_the_monitor_reads_states_through_the_seam(app: AppState) -> None:
    states: StateStore = app
    monitor = Monitor(synthetic_inputs(), states=states)
    alerts = monitor.alerts(DROP_YEAR)
    assert alerts and all(alert.state is AlertState.new for alert in alerts)
    app.record_alerts(alerts)
    app.set(alerts[0].alert_id, AlertState.dismissed)
    again = Monitor(synthetic_inputs(), states=app).alerts(DROP_YEAR)
    assert {a.alert_id: a.state for a in again}[alerts[0].alert_id] is AlertState.dismissed
    assert app.events(alerts[0].alert_id)[-1].actor == "monitor"


def test_subscriptions_and_single_deliveries(app: AppState) -> None:
    app.record_alerts([make_alert()])
    hook = app.subscribe("material", "graphite", "webhook", "http://127.0.0.1:9/x", "s3cret")
    feed = app.subscribe("partner", "CHN", "feed")
    assert [s.subscription_id for s in app.subscriptions()] == [hook.subscription_id,
                                                                 feed.subscription_id]  # fmt: skip
    assert app.subscription(hook.subscription_id).has_secret
    assert app.webhook_secret(hook.subscription_id) == "s3cret"
    assert app.webhook_secret(feed.subscription_id) is None
    with pytest.raises(QueryError, match="unknown subscription"):
        app.subscription(999)
    pair = (hook.subscription_id, "a1")
    assert write_delivery_rows(app, [pair, pair]) == 1 and write_delivery_rows(app, [pair]) == 0
    claim = claim_delivery(app, *pair, lease_s=30)
    assert claim is not None and claim.attempt == 1
    assert claim_delivery(app, *pair, lease_s=30) is None  # being sent
    assert finish_delivery(app, claim)
    assert claim_delivery(app, *pair, lease_s=30) is None  # delivered
    [delivery] = read_deliveries(app)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 1, None)
    assert delivery.delivered_at is not None and delivery.delivery_id == claim.delivery_id


@pytest.mark.parametrize("backend", BACKENDS)
def test_alembic_upgrades_an_empty_database(backend: str, tmp_path: Path) -> None:
    with app_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            assert not set(inspect(engine).get_table_names()) & APP_TABLES
            upgrade(engine)
            assert APP_TABLES | {"alembic_version"} <= set(inspect(engine).get_table_names())
            with engine.connect() as connection:
                version = connection.execute(text("SELECT version_num FROM alembic_version"))
                assert version.scalar_one() == "0003"
            downgrade(engine)
            assert not set(inspect(engine).get_table_names()) & APP_TABLES
            with AppState(url) as state:  # first use upgrades again
                assert state.subscriptions() == []
            with AppState(url) as state:  # and later uses find it current
                assert state.alerts() == []
        finally:
            engine.dispose()


def test_default_location_is_beside_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(APP_DB_VARIABLE, raising=False)
    url = app_database_url(tmp_path / "data" / "chainwatch.duckdb")
    assert url == f"sqlite:///{tmp_path / 'data' / 'chainwatch.app.sqlite'}"
    with AppState(store_path=tmp_path / "data" / "chainwatch.duckdb") as state:
        assert state.alerts() == []
    assert (tmp_path / "data" / "chainwatch.app.sqlite").is_file()
    monkeypatch.setenv(APP_DB_VARIABLE, "postgresql+psycopg://someone@db.example/app")
    assert app_database_url(tmp_path / "x.duckdb") == "postgresql+psycopg://someone@db.example/app"


def test_an_unusable_database_is_a_one_line_store_error() -> None:
    with pytest.raises(StoreError, match="not a SQLAlchemy URL"):
        AppState("not a url")
    with pytest.raises(StoreError, match=r"cannot open the app database .*:\*\*\*@") as caught:
        AppState("postgresql+psycopg://someone:pw@127.0.0.1:1/none?connect_timeout=2")
    assert "\n" not in str(caught.value) and ":pw@" not in str(caught.value)
