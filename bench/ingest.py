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
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from chainwatch.ingest.pipeline import ingest_file
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "baci" / "release"


def generate(directory: Path, rows: int) -> Path:
    """Write BACI_HS92_Y2030_V209901synthetic.csv with real code tables beside it."""
    con = duckdb.connect()
    countries = [r[0] for r in con.execute(
        "SELECT country_code FROM read_csv(?) WHERE country_iso3 NOT IN ('R20')",
        [str(next(REFERENCE.glob("country_codes_*.csv")))],
    ).fetchall()]  # fmt: skip
    products = [r[0] for r in con.execute(
        "SELECT code FROM read_csv(?, all_varchar = true) WHERE code NOT LIKE '9999%'",
        [str(next(REFERENCE.glob("product_codes_*.csv")))],
    ).fetchall()]  # fmt: skip
    for table in REFERENCE.glob("*_codes_*.csv"):
        shutil.copy(table, directory / table.name.replace("V202401b", "V209901synthetic"))
    target = directory / "BACI_HS92_Y2030_V209901synthetic.csv"
    n_c, n_p = len(countries), len(products)
    con.execute(f"CREATE TABLE c AS SELECT unnest(?) AS code, range AS n FROM range({n_c})", [countries])
    con.execute(f"CREATE TABLE p AS SELECT unnest(?) AS code, range AS n FROM range({n_p})", [products])
    # one row per (exporter, importer, product) combination: keys are unique by construction
    con.execute(
        f"""COPY (
            SELECT 2030 AS t, e.code AS i, m.code AS j, p.code AS k,
                   round(random() * 10000, 3) AS v,
                   CASE WHEN random() < 0.05 THEN 'NA' ELSE CAST(round(random() * 500, 3) AS VARCHAR) END AS q
            FROM range({rows}) r(n)
            JOIN c e ON e.n = n % {n_c}
            JOIN c m ON m.n = (n // {n_c}) % {n_c}
            JOIN p ON p.n = n // ({n_c} * {n_c})
            WHERE e.code <> m.code OR true
        ) TO '{target}' (HEADER, DELIMITER ',')"""
    )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chainwatch-bench-") as scratch:
        work = Path(scratch)
        release = work / "release"
        release.mkdir()
        csv_path = generate(release, args.rows)
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
