"""Benchmark: BACI ingest throughput against DuckDB's bare ``read_csv`` of the same file.

Generates a SYNTHETIC BACI-format CSV (default 10 M rows; columns t,i,j,k,v,q with real BACI
country and product codes, random values, 5 % "NA" quantities), then times

* baseline: ``CREATE TABLE AS SELECT * FROM read_csv(file)`` in DuckDB (no checks, no mapping);
* chainwatch: ``chainwatch.ingest.pipeline.ingest_file(store, "baci", dir)`` into a store that
  holds the bundled reference tables (parse, map codes, every check, atomic swap).

Run: ``.venv/bin/python bench/ingest.py [--rows 10000000] [--threads 2]``. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from chainwatch.ingest.pipeline import ingest_file
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.synthetic import write_synthetic_baci_release


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chainwatch-bench-") as scratch:
        work = Path(scratch)
        release = work / "release"
        release.mkdir()
        csv_path = write_synthetic_baci_release(release, args.rows)
        baseline = duckdb.connect(str(work / "baseline.duckdb"))
        baseline.execute(f"SET threads = {args.threads}")
        started = time.perf_counter()
        baseline.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{csv_path}')")
        baseline_s = time.perf_counter() - started
        baseline.close()
        store = Store(work / "store.duckdb")
        load_bundle(store)
        started = time.perf_counter()
        result = ingest_file(store, "baci", release)
        ingest_s = time.perf_counter() - started
    rows = result.rows["trade_flow"]
    print(json.dumps({
        "rows": rows, "synthetic": True, "threads": args.threads,
        "baseline_duckdb_read_csv_s": round(baseline_s, 3),
        "chainwatch_ingest_s": round(ingest_s, 3),
        "chainwatch_rows_per_s": round(rows / ingest_s),
        "ratio_vs_read_csv": round(ingest_s / baseline_s, 2),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
