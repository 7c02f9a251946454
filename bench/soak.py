"""Soak: ingest, serve and deliver for ``--minutes`` while delivering processes are killed.

1. **Ingest**: builds the store from the bundled real data in a temporary directory, then
   ingests the curated export-restriction list from shared/data (real file). During the soak
   the same file is ingested again every 45-90 s, half of the time killed with SIGKILL midway.
2. **Serve**: ``chainwatch serve`` (uvicorn) on 127.0.0.1, polled every 5 s
   (``/api/v1/health``, ``/sources``, ``/materials``).
3. **Deliver**: 15 webhook subscriptions (the five default perspectives, eight materials, two
   partners) to a local **flaky receiver** that answers 500 or 429 + Retry-After, answers too
   late (after taking the alert), drops connections (before or after taking the alert), and
   sometimes has the sending process SIGKILLed while the POST is open (it finds the sender's
   pid from the socket in /proc). ``--deliverers`` ``chainwatch watch deliver`` processes run
   at once, each for the next year of 2000-2024, and a killer SIGKILLs one every 4-20 s.
4. **Drain and check**: killing stops, the receiver turns healthy, ``watch deliver`` runs until
   nothing is left to send. Then: every (subscription, alert) that should be delivered (the
   stored alerts in state new/confirmed that a subscription matches) has exactly one delivery
   id, taken as new by the receiver exactly once (repeats are counted as duplicates, answered
   200 and dropped); no delivery row is left unfinished; every alert has one creation event;
   the store has the same rows as after the first ingest and no stale load copies; the server
   still answers.

Prints the figures as JSON (``--json FILE`` also writes them) and exits 1 when a check fails.
Run: ``.venv/bin/python bench/soak.py [--minutes 10] [--app-db URL] [--seed 12]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from chainwatch import schema
from chainwatch.store import Store
from chainwatch.store.app_state import AppState
from chainwatch.store.delivery_store import read_deliveries
from chainwatch.watch.delivery import DELIVERED_STATES, DELIVERY_HEADER, verify_signature
from chainwatch.watch.subscriptions import add_subscription, matches
from chainwatch.watch.targets import TargetPolicy

HOST = "127.0.0.1"
SECRET = "SYNTHETIC-soak-secret"
RESTRICTIONS = (Path(__file__).resolve().parents[2] / "shared" / "data"
                / "curated_reference_lists" / "export_restriction_events.csv")  # fmt: skip
SUBSCRIPTIONS = [("perspective", value) for value in ("ALLIED", "CAN", "EU27", "GBR", "USA")]
SUBSCRIPTIONS += [
    ("material", value)
    for value in ("nickel", "graphite", "cobalt", "copper", "lithium", "rare earths", "tin", "zinc")
]
SUBSCRIPTIONS += [("partner", "CHN"), ("partner", "IDN")]
YEARS = list(range(2000, 2025))
TIMEOUT_S, LEASE_S, BACKOFF_S = 1.0, 10.0, 1.0


def chainwatch(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "chainwatch", *arguments]


@dataclass
class Receiver:
    """What the flaky receiver saw. ``flaky`` off: every request answered 200 at once."""

    rng: random.Random
    flaky: bool = True
    requests: int = 0
    refused_signatures: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    pairs: dict[str, tuple[int, str]] = field(default_factory=dict)
    """delivery id -> (subscription id, alert id) of the first body taken under it"""
    conflicting_ids: int = 0
    kill_sender: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, delivery_id: str, body: dict[str, Any]) -> None:
        pair = (int(body["subscription_id"]), str(body["alert"]["id"]))
        with self.lock:
            self.seen[delivery_id] += 1
            if self.pairs.setdefault(delivery_id, pair) != pair:
                self.conflicting_ids += 1

    def choose(self) -> str:
        """The behaviour for one request (counted in ``answers``)."""
        with self.lock:
            self.requests += 1
            behaviour = self._draw() if self.flaky else "ok"
            self.answers[behaviour] += 1
            return behaviour

    def _draw(self) -> str:
        roll = self.rng.random()
        for name, share in (
            ("error500", 0.12),
            ("retry429", 0.05),
            ("slow", 0.08),
            ("drop_before", 0.05),
            ("drop_after", 0.04),
            ("kill", 0.03),
        ):
            if roll < share:
                return name
            roll -= share
        return "ok"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = dict(self.headers.items())
        behaviour = receiver.choose()
        if not verify_signature(body, headers, SECRET):
            with receiver.lock:
                receiver.refused_signatures += 1
            return self._answer(401)
        if behaviour in ("drop_before", "error500", "retry429"):
            if behaviour == "drop_before":
                self.connection.close()
                return
            return self._answer(
                500 if behaviour == "error500" else 429,
                (("Retry-After", "1"),) if behaviour == "retry429" else (),
            )
        receiver.take(headers[DELIVERY_HEADER], json.loads(body))
        if behaviour in ("drop_after", "kill"):
            if behaviour == "kill" and receiver.kill_sender is not None:
                receiver.kill_sender(self.client_address[1])
            self.connection.close()
            return
        if behaviour == "slow":
            time.sleep(TIMEOUT_S + 0.5)
        return self._answer(200)

    def _answer(self, status: int, headers: Iterable[tuple[str, str]] = ()) -> None:
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    receiver: Receiver


@contextmanager
def receiving(receiver: Receiver) -> Iterator[int]:
    server = _Server((HOST, 0), _Handler)
    server.receiver = receiver
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def socket_owner(port: int, pids: Iterable[int]) -> int | None:
    """Which of ``pids`` holds the TCP socket with local port ``port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(f"/proc/{pid}/fd/{descriptor}") in inodes:
                    return pid
            except OSError:
                continue
    return None


@dataclass
class Soak:
    """The processes of the soak and what happened to them."""

    store: Path
    app_db: str | None
    rng: random.Random
    deliverers: int
    figures: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    running: dict[int, subprocess.Popen[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    year_index: int = 0

    def app_options(self) -> list[str]:
        return ["--store", str(self.store)] + (["--app-db", self.app_db] if self.app_db else [])

    def deliver_command(self) -> list[str]:
        year = YEARS[self.year_index % len(YEARS)]
        self.year_index += 1
        return chainwatch("watch", "deliver", "--year", str(year), *self.app_options(),
                          "--timeout", str(TIMEOUT_S), "--lease", str(LEASE_S), "--backoff",
                          str(BACKOFF_S), "--workers", "4", "--allow-host", HOST)  # fmt: skip

    def kill(self, pid: int, reason: str) -> None:
        with self.lock:
            if pid in self.running:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    return
                self.figures[f"kills_{reason}"] += 1

    def kill_sender(self, client_port: int) -> None:
        with self.lock:
            pids = list(self.running)
        owner = socket_owner(client_port, pids)
        if owner is not None:
            self.kill(owner, "mid_post")

    def reap(self, process: subprocess.Popen[str]) -> None:
        stdout, stderr = process.communicate()
        with self.lock:
            self.running.pop(process.pid, None)
        if process.returncode == -signal.SIGKILL:
            return
        self.figures["deliver_runs_completed"] += 1
        if process.returncode != 0 or "Traceback" in stderr:
            self.failures.append(f"watch deliver exit {process.returncode}: "
                                 f"{(stderr.strip().splitlines() or [''])[-1][:300]}")  # fmt: skip
        for word in ("delivered", "already delivered", "failed", "waiting to be retried"):
            part = stdout.split(f" {word}")[0].split()
            if part and part[-1].isdigit():
                self.figures[f"run_outcomes_{word.split()[0]}"] += int(part[-1])

    def deliver_loop(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                missing = self.deliverers - len(self.running)
            for _ in range(missing):
                process = subprocess.Popen(self.deliver_command(), stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True)  # fmt: skip
                with self.lock:
                    self.running[process.pid] = process
                self.figures["deliver_runs_started"] += 1
                threading.Thread(target=self.reap, args=(process,), daemon=True).start()
            time.sleep(0.2)

    def killer_loop(self) -> None:
        while not self.stop.wait(self.rng.uniform(4, 20)):
            with self.lock:
                pids = list(self.running)
            if pids:
                self.kill(self.rng.choice(pids), "random")

    def ingest(self, kill_after_s: float | None = None) -> None:
        process = subprocess.Popen(
            chainwatch(
                "ingest",
                "export-restrictions",
                str(RESTRICTIONS),
                "--store",
                str(self.store),
                "--quiet",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            process.wait(timeout=kill_after_s)
        except subprocess.TimeoutExpired:
            process.kill()
            self.figures["ingests_killed"] += 1
        _, stderr = process.communicate()
        if process.returncode == 0:
            self.figures["ingests_completed"] += 1
        elif process.returncode != -signal.SIGKILL:
            self.failures.append(f"ingest exit {process.returncode}: {stderr.strip()[-300:]}")

    def ingest_loop(self) -> None:
        while not self.stop.wait(self.rng.uniform(45, 90)):
            self.ingest(self.rng.uniform(0.3, 2.5) if self.rng.random() < 0.5 else None)

    def poll_loop(self, base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not self.stop.wait(5):
                for path in ("/api/v1/health", "/api/v1/sources", "/api/v1/materials"):
                    self.figures["server_requests"] += 1
                    try:
                        if client.get(path).status_code != 200:
                            self.figures["server_errors"] += 1
                    except httpx.HTTPError:
                        self.figures["server_errors"] += 1


def table_counts(store: Path) -> dict[str, int]:
    with Store(store).connect() as con:
        return {name: int(con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
                for name in schema.tables()}  # fmt: skip


def setup(work: Path, soak: Soak, port: int) -> dict[str, int]:
    subprocess.run(chainwatch("init", "--store", str(soak.store)), check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    soak.ingest()
    with AppState(soak.app_db, soak.store) as app:  # the key file is created here (0600)
        for number, (kind, value) in enumerate(SUBSCRIPTIONS, start=1):
            add_subscription(app, kind, value, "webhook", f"http://{HOST}:{port}/hook/{number}",
                             SECRET, TargetPolicy.parse([HOST]))  # fmt: skip
    return table_counts(soak.store)


def drain(soak: Soak, limit_s: float = 600) -> int:
    """Sequential deliver runs until no delivery is left unfinished; how many runs."""
    deadline, runs = time.monotonic() + limit_s, 0
    while time.monotonic() < deadline:
        with AppState(soak.app_db, soak.store) as app:
            open_rows = [d for d in read_deliveries(app) if d.status != "delivered"]
        if not open_rows and runs:
            return runs
        time.sleep(BACKOFF_S * 2)
        process = subprocess.Popen(soak.deliver_command(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        soak.running[process.pid] = process
        soak.reap(process)
        runs += 1
    soak.failures.append(f"deliveries still open after {limit_s:.0f} s of draining")
    return runs


def check(soak: Soak, receiver: Receiver, before: dict[str, int], base: str) -> dict[str, Any]:
    with AppState(soak.app_db, soak.store) as app:
        alerts, subscriptions = app.alerts(), app.subscriptions()
        deliveries, counts = read_deliveries(app), app.counts()
        events = {alert.alert_id: app.events(alert.alert_id) for alert in alerts}
    expected = {(s.subscription_id, a.alert_id) for s in subscriptions for a in alerts
                if a.state in DELIVERED_STATES and matches(s, a.scope)}  # fmt: skip
    by_pair = {(d.subscription_id, d.alert_id): d for d in deliveries}
    taken = set(receiver.pairs.values())
    results = {
        "expected_deliveries": len(expected),
        "delivery_rows": len(deliveries),
        "delivered_rows": sum(d.status == "delivered" for d in deliveries),
        "distinct_delivery_ids_received": len(receiver.seen),
        "duplicates_received_and_deduped": sum(n - 1 for n in receiver.seen.values()),
        "missing": len(expected - taken),
        "unexpected": len(taken - expected),
        "pairs_taken_under_two_ids": len(receiver.pairs) - len(taken),
        "ids_naming_two_pairs": receiver.conflicting_ids,
        "refused_signatures": receiver.refused_signatures,
        "attempts_per_delivery": dict(sorted(Counter(d.attempts for d in deliveries).items())),
        "receiver_requests": receiver.requests,
        "receiver_answers": dict(receiver.answers),
        "app_rows": counts,
    }
    problems = [
        key
        for key in (
            "missing",
            "unexpected",
            "pairs_taken_under_two_ids",
            "ids_naming_two_pairs",
            "refused_signatures",
        )
        if results[key]
    ]
    if set(by_pair) != expected or results["delivered_rows"] != len(expected):
        problems.append("delivery rows differ from the expected deliveries")
    if {d.delivery_id for d in deliveries} != set(receiver.seen):
        problems.append("delivery ids in the app database differ from those received")
    if any(len(trail) < 1 or trail[0].from_state is not None for trail in events.values()):
        problems.append("an alert without its creation event")
    if counts["alert_event"] < len(alerts) or sum(
        1 for trail in events.values() for event in trail if event.from_state is None
    ) != len(alerts):
        problems.append("alert creation events differ from the alerts")
    after = table_counts(soak.store)
    if after != before:
        problems.append(f"store rows changed: {before} -> {after}")
    leftovers = sorted(p.name for p in soak.store.parent.glob(soak.store.name + ".loading-*"))
    if leftovers:
        problems.append(f"stale load copies left: {leftovers}")
    if httpx.get(base + "/api/v1/health", timeout=30).status_code != 200:
        problems.append("the server does not answer /health")
    results["store_rows_unchanged"] = after == before
    results["problems"] = problems + soak.failures
    return results


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(store: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        chainwatch("serve", "--store", str(store), "--host", HOST, "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/api/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(
    minutes: float, app_db: str | None, seed: int, deliverers: int, work: Path
) -> dict[str, Any]:
    rng = random.Random(seed)
    receiver = Receiver(random.Random(seed + 1))
    soak = Soak(work / "chainwatch.duckdb", app_db, rng, deliverers)
    for name in ("kills_random", "kills_mid_post", "ingests_killed", "server_errors"):
        soak.figures[name] = 0
    receiver.kill_sender = soak.kill_sender
    started = time.monotonic()
    with receiving(receiver) as port:
        before = setup(work, soak, port)
        with serving(soak.store) as base:
            loops = [soak.deliver_loop, soak.killer_loop, soak.ingest_loop]
            threads = [threading.Thread(target=loop, daemon=True) for loop in loops]
            threads.append(threading.Thread(target=soak.poll_loop, args=(base,), daemon=True))
            soak_started = time.monotonic()
            for thread in threads:
                thread.start()
            time.sleep(minutes * 60)
            soak.stop.set()
            for thread in threads:
                thread.join()
            while soak.running:  # the last runs finish on their own
                time.sleep(0.5)
            soaked = time.monotonic() - soak_started
            receiver.flaky = False
            soak.ingest()  # a clean last load: removes a killed load's copy, same rows
            drain_runs = drain(soak)
            results = check(soak, receiver, before, base)
    total = round(time.monotonic() - started)
    return {"minutes_asked": minutes, "minutes_soaked": round(soaked / 60, 2),
            "seconds_total": total, "seed": seed, "deliverers": deliverers,
            "app_db": app_db or "SQLite", "drain_runs": drain_runs,
            **dict(sorted(soak.figures.items())), **results}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--app-db", default=None, help="app database URL (default: SQLite)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--deliverers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the files here")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chainwatch-soak-") as temporary:
        work = arguments.workdir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        results = run(arguments.minutes, arguments.app_db, arguments.seed, arguments.deliverers,
                      work)  # fmt: skip
    text = json.dumps(results, indent=2)
    print(text)
    if arguments.json:
        arguments.json.write_text(text + "\n", encoding="utf-8")
    sys.exit(1 if results["problems"] else 0)


if __name__ == "__main__":
    main()
