"""Benchmark: the server under load, over loopback, as ``chainwatch serve`` runs it.

Builds the bundled store in a temporary directory and starts ``chainwatch serve --workers W``
on 127.0.0.1 (a free port); that first start precomputes the alerts and the backtest, and is
timed. Then the server is stopped and started again, and the first requests after the restart
are timed ("cold": /api/v1/alerts, /api/v1/alerts/backtest, the Alerts and overview pages).
The cached URLs are warmed (each several times, over new connections, so that every worker
holds them), and ``--clients`` clients send requests for ``--duration`` seconds, one at a time
each, with no pause:

* ``cached``: the warmed API URLs (metrics, imports, risk, reference lists, the default alerts
  and backtest);
* ``uncached`` (``--uncached`` of the clients): every request a query nobody asked before
  (metrics, concentration series, country profiles for random perspectives, materials, years;
  backtests of random years, scored from the precomputed alerts);
* ``heavy`` (``--heavy``): every request a new heavy computation (a risk table, a monitor of a
  perspective and bloc that is not precomputed).

A ``503`` with ``Retry-After`` is the server shedding load as designed: it is counted as
``shed`` (not an error) and the client waits the seconds it names before its next request.
A ``404`` to a random uncached or heavy query is a correct answer (the store holds no such
data: a perspective that imports none of a material, say) and is counted as ``not_found``.
Errors are everything else that is not a 200: other statuses, connection errors, timeouts
(``--timeout``). The clients are asyncio coroutines speaking HTTP/1.1 over keep-alive
connections (about 0.05 ms of client CPU per request, so the load generator takes little of
the machine it shares with the server), in one process per class.

Prints JSON: per class requests, req/s, p50/p95/p99/max latency (ms), shed and errors; peak
RSS of the server's process tree (the serve command, its workers and the precompute process,
sampled every 0.2 s), the machine's load average before and after, and the targets (0 errors,
p95 < 100 ms on cached requests, peak RSS < 3 GB).
Run: ``.venv/bin/python bench/api.py [--clients 200 --uncached 50 --heavy 10 --duration 60
--workers 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
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
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle

HOST = "127.0.0.1"
TARGET_CACHED_P95_MS = 100.0
TARGET_PEAK_RSS_BYTES = 3 * 1024**3
PERSPECTIVES = ("ALLIED", "CAN", "EU27", "USA")
MATERIALS = ("cobalt", "lithium", "nickel", "rare earths")
COLD = ("/api/v1/alerts", "/api/v1/alerts/backtest", "/alerts", "/")


def cached_urls() -> list[str]:
    """The warmed mix: metrics, imports by supplier, risk, reference lists, default alerts.
    No page: a page is rendered on every request (10-60 ms of CPU, not an API answer); pages
    are timed cold after the restart."""
    mix = ["/api/v1/materials", "/api/v1/countries", "/api/v1/perspectives", "/api/v1/sources",
           "/api/v1/alerts", "/api/v1/alerts?year=2014", "/api/v1/alerts/backtest",
           "/api/v1/health"]  # fmt: skip
    for perspective in PERSPECTIVES:
        mix.append(f"/api/v1/risk?perspective={perspective}&year=2023")
        for material in (quote(name) for name in MATERIALS):
            mix.append(f"/api/v1/metrics?perspective={perspective}&material={material}&year=2023")
            mix.append(f"/api/v1/series/imports?perspective={perspective}&material={material}")
    return mix


@dataclass(frozen=True)
class Universe:
    """What random queries are drawn from (read from the server's own lists)."""

    perspectives: list[str]
    materials: list[str]
    countries: list[str]
    years: list[int]


def uncached_urls(universe: Universe, count: int, seed: int) -> list[str]:
    """``count`` distinct queries no warm-up asked for."""
    chooser = random.Random(seed)
    found: set[str] = set()
    while len(found) < count:
        perspective = chooser.choice(universe.perspectives)
        material = quote(chooser.choice(universe.materials))
        year = chooser.choice(universe.years[1:])
        kind = chooser.randrange(4)
        if kind == 0:
            found.add(f"/api/v1/metrics?perspective={perspective}&material={material}&year={year}")
        elif kind == 1:
            found.add(f"/api/v1/series/concentration?perspective={perspective}"
                      f"&material={material}&from_year={year}")  # fmt: skip
        elif kind == 2:
            found.add(f"/api/v1/countries/{chooser.choice(universe.countries)}?year={year}")
        else:  # scored from the precomputed alerts
            last = chooser.choice([later for later in universe.years if later >= year])
            found.add(f"/api/v1/alerts/backtest?from_year={year}&to_year={last}")
    return chooser.sample(sorted(found), len(found))


def heavy_urls(universe: Universe, count: int, seed: int) -> list[str]:
    """``count`` distinct heavy computations (risk tables, monitors of a perspective and bloc
    that are not precomputed)."""
    chooser = random.Random(seed)
    found: set[str] = set()
    years = [year for year in universe.years if year >= 2000]
    while len(found) < count:
        perspective = chooser.choice(universe.perspectives)
        year = chooser.choice(years)
        if chooser.randrange(2):
            found.add(f"/api/v1/risk?perspective={perspective}&year={year}")
        else:
            bloc = chooser.choice(("EU27", "NATO", "G7", "OECD"))
            found.add(f"/api/v1/alerts?perspective={perspective}&bloc={bloc}&year={year}")
    return chooser.sample(sorted(found), len(found))


class Connection:
    """One keep-alive HTTP/1.1 connection: GET and read the whole response."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str]]:
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
            assert self.reader is not None
            request = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                       "User-Agent: chainwatch-bench\r\n\r\n")  # fmt: skip
            try:
                self.writer.write(request.encode("ascii"))
                await self.writer.drain()
                return await self._response(self.reader)
            except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle connection: once more on a new one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        return status, headers

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    shed: int = 0
    not_found: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    shed_examples: list[str] = field(default_factory=list)

    def error(self, kind: str, url: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 5:
            self.examples.append(f"{kind} {url}")


async def client_loop(
    port: int, urls: list[str], offset: int, stride: int, start_at: float, stop_at: float,
    timeout: float, tally: Tally,
) -> None:  # fmt: skip
    """One client: requests without pause until ``stop_at``; sheds wait their Retry-After."""
    connection = Connection(port)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    sent = offset
    while time.time() < stop_at:
        url = urls[sent % len(urls)]
        sent += stride
        started = time.perf_counter()
        try:
            status, headers = await asyncio.wait_for(connection.get(url), timeout)
        except TimeoutError:
            tally.error("timeout", url)
            connection.close()
            continue
        except OSError as error:
            tally.error(type(error).__name__, url)
            connection.close()
            await asyncio.sleep(0.1)
            continue
        elapsed = time.perf_counter() - started
        if status == 503 and "retry-after" in headers:
            tally.shed += 1
            if len(tally.shed_examples) < 5:
                tally.shed_examples.append(url)
            pause = min(float(headers["retry-after"]), max(0.0, stop_at - time.time()))
            if pause > 4:
                connection.close()  # longer than the server keeps an idle connection
            await asyncio.sleep(pause)
            continue
        tally.latencies.append(elapsed)
        if status == 404 and stride > 1:
            tally.not_found += 1  # a random query for data the store does not hold
        elif status != 200:
            tally.error(str(status), url)
    connection.close()


def run_class(
    port: int, urls: list[str], clients: int, start_at: float, stop_at: float, timeout: float,
    distinct: bool,
) -> dict[str, Any]:  # fmt: skip
    """One class of clients in this process; ``distinct``: no two requests share a URL."""
    tally = Tally()

    async def everyone() -> None:
        stride = clients if distinct else 1
        loops = [client_loop(port, urls, index, stride, start_at, stop_at, timeout, tally)
                 for index in range(clients)]  # fmt: skip
        await asyncio.gather(*loops)

    asyncio.run(everyone())
    return {"latencies": tally.latencies, "shed": tally.shed, "errors": dict(tally.errors),
            "examples": tally.examples, "not_found": tally.not_found,
            "shed_examples": tally.shed_examples}  # fmt: skip


def summary(result: dict[str, Any], duration: float) -> dict[str, Any]:
    ordered = sorted(result["latencies"])

    def percentile(share: float) -> float | None:
        if not ordered:
            return None
        return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {
        "requests": len(ordered), "requests_per_second": round(len(ordered) / duration, 1),
        "latency_ms": {"p50": percentile(0.50), "p95": percentile(0.95),
                       "p99": percentile(0.99), "max": percentile(1.0)},
        "shed_503_retry_after": result["shed"], "not_found_404": result["not_found"],
        "errors": sum(result["errors"].values()),
        "errors_by_kind": result["errors"], "error_examples": result["examples"],
        "shed_examples": result["shed_examples"],
    }  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


def get(port: int, path: str, timeout: float = 300) -> tuple[int, float]:
    """One request on a new connection: (status, seconds)."""

    async def once() -> tuple[int, float]:
        connection = Connection(port)
        started = time.perf_counter()
        status, _ = await asyncio.wait_for(connection.get(path), timeout)
        connection.close()
        return status, time.perf_counter() - started

    return asyncio.run(once())


class RssSampler:
    """Peak resident memory of a process tree (Linux /proc), sampled in a thread."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        self.root = root
        self.interval = interval
        self.peak_total = 0
        self.peak_process = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = [rss_bytes(pid) for pid in tree(self.root)]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_process = max(self.peak_process, max(sizes, default=0))
            self._stop.wait(self.interval)


def tree(root: int) -> list[int]:
    """``root`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def server(store: Path, port: int, workers: int) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """``chainwatch serve`` over ``store``; yields (process, seconds until /health answered)."""
    command = [sys.executable, "-m", "chainwatch", "serve", "--store", str(store), "--host", HOST,
               "--port", str(port), "--workers", str(workers)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"chainwatch serve exited with status {process.returncode}")
            try:
                if get(port, "/api/v1/health", timeout=2)[0] == 200:
                    break
            except (OSError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chainwatch serve did not answer within 900 s")
            time.sleep(0.1)
        yield process, time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def universe(port: int) -> Universe:
    import httpx

    with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=60) as client:

        def items(path: str, **params: str) -> list[dict[str, Any]]:
            response = client.get(path, params={**params, "page_size": "5000"})
            response.raise_for_status()
            found: list[dict[str, Any]] = response.json()["items"]
            return found

        perspectives = [row["code"] for row in items("/api/v1/perspectives")]
        materials = [row["material"] for row in items("/api/v1/materials")]
        countries = [row["iso3"] for row in items("/api/v1/countries") if row["kind"] == "country"]
        series = items("/api/v1/series/concentration", perspective="ALLIED", material="cobalt")
    return Universe(perspectives, materials, countries, sorted({int(r["year"]) for r in series}))


def load(port: int, args: argparse.Namespace, world: Universe) -> dict[str, Any]:
    cached_clients = args.clients - args.uncached - args.heavy
    if cached_clients < 0:
        raise SystemExit("--uncached plus --heavy exceed --clients")
    plan = [("cached", cached_urls(), cached_clients, False),
            ("uncached", uncached_urls(world, 200 * max(1, args.uncached), 1), args.uncached, True),
            ("heavy", heavy_urls(world, 20 * max(1, args.heavy), 2), args.heavy, True)]  # fmt: skip
    plan = [item for item in plan if item[2] > 0]
    start_at = time.time() + 2.0
    stop_at = start_at + args.duration
    with ProcessPoolExecutor(len(plan)) as pool:
        futures = {name: pool.submit(run_class, port, urls, clients, start_at, stop_at,
                                     args.timeout, distinct)
                   for name, urls, clients, distinct in plan}  # fmt: skip
        results = {name: future.result() for name, future in futures.items()}
    return {name: {"clients": clients, **summary(results[name], args.duration)}
            for name, _, clients, _ in plan}  # fmt: skip


def warm(port: int, urls: list[str], workers: int) -> float:
    """Every URL on each of 8 connections per worker, opened together (so that every worker
    holds some of them) and kept open: every worker computes and caches every URL. A 503 is
    retried after its Retry-After, the connection kept alive meanwhile (a reconnection could
    reach another worker)."""

    async def until_answered(connection: Connection, url: str) -> None:
        while True:
            status, headers = await asyncio.wait_for(connection.get(url), 600)
            if status == 200:
                return
            if status != 503 or "retry-after" not in headers:
                raise RuntimeError(f"warm-up: {url} answered {status}")
            resume = time.monotonic() + float(headers["retry-after"])
            while time.monotonic() < resume:  # shorter than the server's keep-alive (5 s)
                await asyncio.sleep(2)
                await connection.get("/api/v1/health")

    async def everything() -> None:
        connections = [Connection(port) for _ in range(8 * workers)]
        await asyncio.gather(*(until_answered(c, "/api/v1/health") for c in connections))
        for url in urls:
            await asyncio.gather(*(until_answered(c, url) for c in connections))
        for connection in connections:
            connection.close()

    started = time.perf_counter()
    asyncio.run(everything())
    return time.perf_counter() - started


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--uncached", type=int, default=50, help="clients sending new queries")
    parser.add_argument("--heavy", type=int, default=10, help="clients asking heavy ones")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=2, help="chainwatch serve --workers")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before an error")
    args = parser.parse_args()
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg(),
                              "workers": args.workers}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="chainwatch-bench-") as scratch:
        store = Store(Path(scratch) / "store.duckdb")
        load_bundle(store)
        port = free_port()
        progress("first start (precomputes) ...")
        with (
            server(store.path, port, args.workers) as (process, seconds),
            RssSampler(process.pid) as first_memory,
        ):
            report["first_start_s"] = round(seconds, 1)  # builds the precomputed results
            progress(f"first start: {seconds:.1f} s; restarting ...")
        with (
            server(store.path, port, args.workers) as (process, seconds),
            RssSampler(process.pid) as memory,
        ):
            report["restart_s"] = round(seconds, 1)
            report["cold_after_restart_s"] = {
                path: round(get(port, path)[1], 2) for path in COLD
            }  # fmt: skip
            progress(f"cold after restart: {report['cold_after_restart_s']}; warming ...")
            mix = cached_urls()
            report["warm_up_s"] = round(warm(port, mix, args.workers), 1)
            world = universe(port)
            progress(f"load: {args.clients} clients for {args.duration:g} s ...")
            report["load"] = load(port, args, world)
        report["load_average_after"] = os.getloadavg()
    peak = max(memory.peak_total, first_memory.peak_total)
    cached = report["load"].get("cached", {})
    errors = sum(part["errors"] for part in report["load"].values())
    report["peak_rss_mb"] = {"first_start_tree": round(first_memory.peak_total / 2**20),
                             "serving_tree": round(memory.peak_total / 2**20),
                             "largest_process": round(memory.peak_process / 2**20)}  # fmt: skip
    report["targets"] = {
        "errors": f"{errors} (target 0)",
        "cached_p95_ms": f"{cached.get('latency_ms', {}).get('p95')} (target < "
                         f"{TARGET_CACHED_P95_MS:g})",
        "peak_rss_mb": f"{round(peak / 2**20)} (target < {TARGET_PEAK_RSS_BYTES // 2**20})",
        "met": errors == 0 and peak < TARGET_PEAK_RSS_BYTES
        and (cached.get("latency_ms", {}).get("p95") or 1e9) < TARGET_CACHED_P95_MS,
    }  # fmt: skip
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
