"""Several processes on one app database, on SQLite and on PostgreSQL: concurrent first opens
of a fresh database (migrations under a lock), concurrent ``record_alerts`` of the same alerts
(upserts, no check-then-insert race), and two ``chainwatch watch deliver`` processes at once
on the bundled real data (each alert delivered once, no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from chainwatch.store import Store
from chainwatch.store.app_state import AppState
from chainwatch.store.delivery_store import read_deliveries
from chainwatch.watch.secrets import KEY_VARIABLE, KeyRing
from chainwatch.watch.subscriptions import add_subscription
from tests.watch.test_state import BACKENDS, app_database, make_alert
from tests.watch.webhook_receiver import LOOPBACK, SECRET, Behaviour, webhook_server

PROCESSES = 3
DRIVER = """
import json, sys
from chainwatch.store.app_state import AppState
from chainwatch.watch.alerts import Alert
url, alerts_file = sys.argv[1], sys.argv[2]
alerts = [Alert(**fields) for fields in json.load(open(alerts_file))]
print("ready", flush=True)
sys.stdin.readline()
try:
    state = AppState(url)
except Exception as error:
    print("error", type(error).__name__, str(error).splitlines()[0], flush=True)
    sys.exit()
print("opened", flush=True)
sys.stdin.readline()
try:
    print("ok", len(state.record_alerts(alerts)))
except Exception as error:
    print("error", type(error).__name__, str(error).splitlines()[0])
finally:
    state.close()
"""
"""A process that imports the app state and says so, then at a first go opens the database
(a first open: the migrations), at a second go records the alerts of a JSON file."""


def run_together(url: str, alerts_file: Path) -> tuple[list[str], list[str]]:
    """PROCESSES drivers released together twice: what each said after opening the database,
    then after recording the alerts."""
    drivers = [subprocess.Popen([sys.executable, "-c", DRIVER, url, str(alerts_file)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for _ in range(PROCESSES)]  # fmt: skip
    said = []
    for expected in ("ready", "opened"):
        said = [driver.stdout.readline().strip() for driver in drivers]  # type: ignore[union-attr]
        if expected == "ready":
            assert said == ["ready"] * PROCESSES
        for driver in drivers:
            if driver.poll() is None:
                driver.stdin.write("go\n")  # type: ignore[union-attr]
                driver.stdin.flush()  # type: ignore[union-attr]
    recorded = [driver.communicate(timeout=120)[0].strip() for driver in drivers]
    return said, recorded


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_first_opens_and_records_of_the_same_alerts(
    backend: str, tmp_path: Path
) -> None:
    """Before: 2 of 3 first opens failed ('table alert already exists', a pg_type unique
    violation), and with the schema in place 2 of 3 records failed (IntegrityError)."""
    alerts = [make_alert(f"race{number:03d}", year=2023 + number % 2) for number in range(120)]
    alerts_file = tmp_path / "alerts.json"
    alerts_file.write_text(json.dumps([asdict(alert) for alert in alerts]), encoding="utf-8")
    with app_database(backend, tmp_path) as url:  # a fresh database: nothing migrated yet
        opened, recorded = run_together(url, alerts_file)
        assert opened == ["opened"] * PROCESSES
        assert recorded == ["ok 120"] * PROCESSES
        engine = create_engine(url)
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert versions.scalars().all() == ["0003"]
        engine.dispose()
        with AppState(url) as state:
            assert len(state.alerts()) == 120
            assert state.counts()["alert_event"] == 120  # each raised once, audited once
            assert {len(state.events(a.alert_id)) for a in state.alerts()} == {1}


def chainwatch_deliver(store: Store, url: str, key: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "chainwatch", "watch", "deliver", "--year", "2014",
               "--as", "CAN", "--store", str(store.path), "--app-db", url,
               "--allow-host", "127.0.0.1", "--timeout", "5", "--backoff", "0"]  # fmt: skip
    environment = os.environ | {KEY_VARIABLE: key}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment)  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_concurrent_watch_deliver_processes(
    backend: str, tmp_path: Path, real_store: Store
) -> None:
    key = Fernet.generate_key().decode()
    with app_database(backend, tmp_path) as url, webhook_server() as receiver:
        with AppState(url, secrets=KeyRing(keys=[key])) as state:
            for value in ("CAN", "CAN", "CAN"):
                add_subscription(state, "perspective", value, "webhook", receiver.url, SECRET,
                                 LOOPBACK)  # fmt: skip
            for value in ("nickel", "nickel", "nickel"):
                add_subscription(state, "material", value, "webhook", receiver.url, SECRET,
                                 LOOPBACK)  # fmt: skip
        receiver.script = [Behaviour(delay_s=0.05) for _ in range(200)]  # overlap the senders
        started = time.monotonic()
        runs = [chainwatch_deliver(real_store, url, key) for _ in range(2)]
        outputs = [run.communicate(timeout=180) for run in runs]
        for run, (stdout, stderr) in zip(runs, outputs, strict=True):
            assert run.returncode == 0, stderr
            assert "Traceback" not in stderr and stdout.startswith("2014: "), stdout + stderr
        with AppState(url, secrets=KeyRing(keys=[key])) as state:
            deliveries = read_deliveries(state)
        assert deliveries and {d.status for d in deliveries} == {"delivered"}
        assert {d.attempts for d in deliveries} == {1}
        assert receiver.duplicates == 0 and len(receiver.accepted) == len(deliveries)
        assert set(receiver.seen) == {d.delivery_id for d in deliveries}
        delivered = sum(int(out.split(" delivered")[0].split()[-1]) for out, _ in outputs)
        assert delivered == len(deliveries)
        assert time.monotonic() - started < 150
