"""Benchmark: the JSON API under load, over loopback.

Builds the bundled store in a temporary directory, starts ``uvicorn`` on 127.0.0.1 (a free port)
in a subprocess, warms every URL once (the result caches then hold them, as on a server that
has been up a while), then runs ``--clients`` concurrent clients for ``--duration`` seconds over
the metric endpoints (/metrics, /risk, /series/imports for a few perspectives and materials).
Each client is a thread with its own keep-alive ``httpx.Client`` sending one request at a time
until the deadline; the clients are spread over ``--processes`` processes so that the load
generator's own CPU (about 0.4 ms per request for httpx) does not queue behind one GIL.

Prints JSON: requests, errors, throughput, latency percentiles (ms) and the server's CPU time
per request, against the target p95 < 50 ms with no error. The client shares the machine with
the server, so on a small machine the numbers include waiting for the client's own CPU.
Run: ``.venv/bin/python bench/api.py [--clients 50 --duration 30 --processes 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
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
from pathlib import Path

import httpx

from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle

HOST = "127.0.0.1"
TARGET_P95_MS = 50.0
PERSPECTIVES = ("ALLIED", "CAN", "EU27", "USA")
MATERIALS = ("cobalt", "lithium", "nickel", "rare earths")


def urls() -> list[str]:
    """The request mix: metrics, imports by supplier and the risk ranking."""
    mix = []
    for perspective in PERSPECTIVES:
        mix.append(f"/api/v1/risk?perspective={perspective}&year=2023")
        for material in MATERIALS:
            mix.append(f"/api/v1/metrics?perspective={perspective}&material={material}&year=2023")
            mix.append(f"/api/v1/series/imports?perspective={perspective}&material={material}")
    return mix


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def server(store: Path, port: int) -> Iterator[tuple[str, int]]:
    """uvicorn serving create_app over ``store``; yields (base URL, pid) once /health answers."""
    command = [
        sys.executable, "-m", "uvicorn", "chainwatch.api.app:create_app", "--factory",
        "--host", HOST, "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    environment = {**os.environ, "CHAINWATCH_STORE": str(store)}
    process = subprocess.Popen(command, env=environment)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with status {process.returncode}")
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer within 60 s")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def warm(base: str, mix: list[str]) -> float:
    """Request every URL once; returns the seconds it took."""
    started = time.perf_counter()
    with httpx.Client(base_url=base, timeout=300) as client:
        failed = [url for url in mix if client.get(url).status_code != 200]
    if failed:
        raise RuntimeError(f"warm-up failed for {failed}")
    return time.perf_counter() - started


def run_clients(
    base: str, mix: list[str], clients: int, first: int, start_at: float, stop_at: float
) -> tuple[list[float], dict[str, int]]:
    """One process's share of the clients: (latencies in seconds, errors by kind)."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def client_loop(number: int) -> None:
        mine: list[float] = []
        failed: Counter[str] = Counter()
        with httpx.Client(base_url=base, timeout=30) as client:
            time.sleep(max(0.0, start_at - time.time()))
            sent = number
            while time.time() < stop_at:
                url = mix[sent % len(mix)]
                sent += 1
                started = time.perf_counter()
                try:
                    status = client.get(url).status_code
                    if status != 200:
                        failed[str(status)] += 1
                except httpx.HTTPError as error:
                    failed[type(error).__name__] += 1
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors.update(failed)

    threads = [threading.Thread(target=client_loop, args=(first + offset,))
               for offset in range(clients)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, dict(errors)


def load(
    base: str, mix: list[str], clients: int, duration: float, processes: int
) -> dict[str, object]:
    shares = [clients // processes + (1 if index < clients % processes else 0)
              for index in range(processes)]  # fmt: skip
    start_at = time.time() + 2.0  # every process has its clients connected by then
    stop_at = start_at + duration
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    with ProcessPoolExecutor(processes) as pool:
        futures = [pool.submit(run_clients, base, mix, share, sum(shares[:index]), start_at,
                               stop_at) for index, share in enumerate(shares)]  # fmt: skip
        for future in futures:
            found, failed = future.result()
            latencies.extend(found)
            errors.update(failed)
    ordered = sorted(latencies)

    def percentile(share: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)

    p95 = percentile(0.95)
    return {
        "requests": len(ordered),
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "requests_per_second": round(len(ordered) / duration, 1),
        "latency_ms": {
            "p50": percentile(0.50),
            "p95": p95,
            "p99": percentile(0.99),
            "max": round(1000 * ordered[-1], 2),
        },
        "target": f"p95 < {TARGET_P95_MS:g} ms and 0 errors",
        "target_met": p95 < TARGET_P95_MS and not errors,
    }


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc), or None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    args = parser.parse_args()
    mix = urls()
    with tempfile.TemporaryDirectory(prefix="chainwatch-bench-") as scratch:
        store = Store(Path(scratch) / "store.duckdb")
        load_bundle(store)
        with server(store.path, free_port()) as (base, pid):
            warm_s = warm(base, mix)
            cpu_before = cpu_seconds(pid)
            result = load(base, mix, args.clients, args.duration, max(1, args.processes))
            cpu_after = cpu_seconds(pid)
    server_cpu = None
    if cpu_before is not None and cpu_after is not None and result["requests"]:
        server_cpu = round(1000 * (cpu_after - cpu_before) / int(str(result["requests"])), 3)
    report = {
        "clients": args.clients, "client_processes": args.processes, "seconds": args.duration,
        "urls": len(mix), "cpus": os.cpu_count(), "warm_up_s": round(warm_s, 1), **result,
        "server_cpu_ms_per_request": server_cpu,
    }  # fmt: skip
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
