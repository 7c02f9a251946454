"""Scale benchmark: the full import-concentration table on a SYNTHETIC BACI-shaped lake.

For each size (flows) this script

1. generates a SYNTHETIC lake shaped like a full BACI release (``chainwatch export lake``
   layout: ``trade_flow/year=.../hs_chapter=../*.parquet`` plus ``_chainwatch_lake.json``),
   with DuckDB SQL only (``range``/``unnest`` + ``hash``-based pseudo-random numbers):
   230 countries (200 export, 220 import), Zipf-like country sizes (exponents 0.95 export,
   0.9 import), 5,000 HS6 codes over chapters 01-97, years 1995-2023 with trade growing
   3 %/year, a product count per
   (year, exporter, importer) pair proportional to the two countries' sizes (capped at all
   5,000 codes, so the big pairs trade nearly everything and most small pairs a handful),
   lognormal values, ~7 % null quantities. No (year, exporter, importer, hs6) key repeats;
2. runs the full import-concentration table (every importer x HS6 x year, the
   ``IMPORT_CONCENTRATION`` definition with every country its own perspective, scope = every
   HS6 code, bloc = the bundled ALLIED group) and writes it to Parquet, on
   (a) ``DuckDBEngine(lake=...)`` through the definition, (b) ``SparkEngine(lake, "local[2]")``
   through the definition (translated by ``chainwatch.store.dialects.for_engine``), and
   (c) a hand-written DuckDB query on the Parquet files (the limit);
3. runs each measurement in a fresh subprocess and samples, every 0.2 s, the resident set
   size summed over the subprocess and all its descendants (for Spark: the Python driver plus
   its ``java`` JVM), read from ``/proc`` (psutil is not installed); also the peak size of
   the spill directories (DuckDB ``temp_directory``, Spark ``spark.local.dir``);
4. checks the three results agree (rows, sums of value, HHI, partner counts), fits
   log(time) ~ log(flows) per engine, and writes JSON (``--out``) and a table.

Run: ``.venv/bin/python bench/scale.py --sizes 10e6,30e6,100e6 --out bench/scale.json``
(temporary data under ``--work``, default /tmp/chainwatch-scale, removed unless ``--keep``).
All data is SYNTHETIC; figures say nothing about real trade.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "src" / "chainwatch" / "data"
SYNTHETIC_SOURCE = "SYNTHETIC BACI-shaped trade flows (chainwatch bench/scale.py; not real data)"
SYNTHETIC_VINTAGE = "SYNTHETIC-seed1"
YEARS = (1995, 2023)
N_COUNTRIES, N_EXPORTERS, N_IMPORTERS, N_CODES = 230, 200, 220, 5000
EXPORTER_ZIPF, IMPORTER_ZIPF, GROWTH = 0.95, 0.9, 1.03
NULL_QUANTITY = 0.07
ENGINES = ("duckdb", "spark", "hand")
LABELS = {
    "duckdb": "DuckDB, definition",
    "spark": "Spark local[2], definition",
    "hand": "DuckDB, hand-written",
}
GIB = 1024**3
MACHINE_RAM = 24 * GIB

HAND_WRITTEN = """
WITH flows AS (
    SELECT * FROM read_parquet('{pattern}', hive_partitioning = true,
                               hive_types = {{'year': 'SMALLINT', 'hs_chapter': 'VARCHAR'}})
),
partner AS (
    SELECT importer_iso3, year, hs6, exporter_iso3, sum(value_usd) AS value_usd,
           sum(quantity_t) AS quantity_t
    FROM flows WHERE exporter_iso3 <> importer_iso3
    GROUP BY importer_iso3, year, hs6, exporter_iso3
),
shares AS (
    SELECT *, value_usd / sum(value_usd) OVER (PARTITION BY importer_iso3, year, hs6) AS share,
           row_number() OVER (PARTITION BY importer_iso3, year, hs6
                              ORDER BY value_usd DESC, exporter_iso3) AS partner_rank,
           exporter_iso3 NOT IN ({bloc}) AS outside
    FROM partner
)
SELECT importer_iso3, year, hs6, sum(value_usd) AS imports_value_usd,
       sum(quantity_t) AS imports_quantity_t,
       sum(share * share) AS import_partner_hhi,
       sum(CASE WHEN partner_rank <= 3 THEN share ELSE 0 END) AS import_top3_share,
       sum(CASE WHEN outside THEN share ELSE 0 END) AS outside_bloc_share,
       sum(CASE WHEN outside THEN value_usd ELSE 0 END) AS outside_bloc_value_usd,
       max(CASE WHEN partner_rank = 1 THEN exporter_iso3 END) AS top_partner_iso3,
       count(*) AS partner_count
FROM shares GROUP BY importer_iso3, year, hs6
"""


# --- generation -------------------------------------------------------------------------------

# uniform in (0, 1) from a hash of the arguments (53 random bits)
_U = "((hash({args}) >> 11)::DOUBLE + 0.5) / 9007199254740992.0"


def _u(*args: str | int) -> str:
    return _U.format(args=", ".join(str(a) for a in args))


def _normal(*args: str | int) -> str:
    """A standard normal (Box-Muller) from two hashes of the arguments."""
    return f"(sqrt(-2 * ln({_u(*args, 101)})) * cos(2 * pi() * {_u(*args, 202)}))"


def generate_lake(lake: Path, relations: Path, flows: int, memory_limit: str, temp: Path) -> int:
    """Write a SYNTHETIC lake of about ``flows`` trade flows; rows written."""
    import duckdb

    from chainwatch.store.duckdb_store import SCHEMA_VERSION
    from chainwatch.store.lake import MANIFEST, TRADE_TABLE, partition_columns, spark_ddl

    lake.mkdir(parents=True)
    relations.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{temp}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    allied = f"SELECT iso3 FROM '{DATA / 'group_membership.parquet'}' WHERE group_id = 'ALLIED'"
    # 230 real ISO3 codes (all ALLIED members among them), in a pseudo-random size order
    con.execute(f"""
        CREATE TEMP TABLE country AS
        WITH picked AS (
            SELECT iso3 FROM '{DATA / "country.parquet"}' WHERE kind <> 'aggregate'
            ORDER BY iso3 IN ({allied}) DESC, hash(iso3, 7) LIMIT {N_COUNTRIES}
        )
        SELECT iso3, row_number() OVER (ORDER BY hash(iso3, 11)) AS export_rank,
               row_number() OVER (ORDER BY hash(iso3, 13)) AS import_rank
        FROM picked
    """)
    con.execute(f"""
        CREATE TEMP TABLE code AS
        WITH chapters AS (
            SELECT c AS chapter, row_number() OVER (ORDER BY c) - 1 AS pos
            FROM range(1, 98) t(c) WHERE c <> 77
        ),
        codes AS (SELECT i AS idx, i * 96 // {N_CODES} AS pos FROM range({N_CODES}) t(i))
        SELECT idx,
               lpad(chapter::VARCHAR, 2, '0')
               || lpad(((idx - min(idx) OVER (PARTITION BY pos)) // 6 + 1)::VARCHAR, 2, '0')
               || lpad((((idx - min(idx) OVER (PARTITION BY pos)) % 6 + 1) * 10)::VARCHAR,
                       2, '0') AS hs6,
               {_normal("idx", 3)} AS product_mu,
               {_normal("idx", 5)} AS price_mu
        FROM codes JOIN chapters USING (pos)
    """)
    con.execute(f"""
        CREATE TEMP TABLE pair AS
        SELECT y AS year, e.iso3 AS exporter_iso3, i.iso3 AS importer_iso3,
               e.export_rank AS e_rank, i.import_rank AS i_rank,
               pow({GROWTH}, y - {YEARS[0]}) * pow(e.export_rank, -{EXPORTER_ZIPF})
                   * pow(i.import_rank, -{IMPORTER_ZIPF}) AS weight
        FROM range({YEARS[0]}, {YEARS[1] + 1}) t(y), country e, country i
        WHERE e.export_rank <= {N_EXPORTERS} AND i.import_rank <= {N_IMPORTERS}
          AND e.iso3 <> i.iso3
    """)
    scale = _calibrate(con, flows)
    # k products per pair (random rounding of the expected count); product j of a pair is
    # code (offset + j * stride) mod 5000: all distinct, stride 1 = a run of neighbouring codes
    # (a specialised exporter), else spread over chapters; offsets favour low code indices
    con.execute(f"""
        CREATE TEMP VIEW expanded AS
        WITH counted AS (
            SELECT *, least({N_CODES}, floor({scale} * weight
                        + {_u("year", "e_rank", "i_rank", 17)}))::INTEGER AS k,
                   floor(pow({_u("year", "e_rank", "i_rank", 19)}, 1.5) * {N_CODES})::INTEGER
                       AS offset_,
                   CASE WHEN {_u("e_rank", "i_rank", 23)} < 0.5 THEN 1
                        ELSE [3, 7, 9, 11, 13, 17, 19, 21, 23, 27, 29, 31]
                             [1 + floor({_u("e_rank", "i_rank", 29)} * 12)::INTEGER] END
                       AS stride
            FROM pair
        )
        SELECT year, exporter_iso3, importer_iso3, e_rank, i_rank, k,
               (offset_ + j * stride) % {N_CODES} AS idx
        FROM (SELECT *, unnest(range(k)) AS j FROM counted WHERE k > 0)
    """)
    sigma = 1.9
    value = (
        f"round(1000 * exp(2.0 + 0.3 * ln(1 + x.k) + 0.8 * c.product_mu "
        f"+ {sigma} * {_normal('x.year', 'x.e_rank', 'x.i_rank', 'x.idx')}), 3)"
    )
    select = f"""
        SELECT year::SMALLINT AS year, exporter_iso3, importer_iso3, hs6,
               'HS92' AS hs_revision, value_usd,
               CASE WHEN {_u("x.year", "x.e_rank", "x.i_rank", "x.idx", 31)} < {NULL_QUANTITY}
                    THEN NULL
                    ELSE round(value_usd / 1000 / exp(0.2 + x.price_mu
                               + 0.7 * {_normal("x.year", "x.e_rank", "x.i_rank", "x.idx", 37)}),
                               3) END AS quantity_t,
               '{SYNTHETIC_SOURCE}' AS source, '{SYNTHETIC_VINTAGE}' AS vintage,
               substr(hs6, 1, 2) AS hs_chapter
        FROM (SELECT x.*, c.hs6, c.price_mu, {value} AS value_usd
              FROM expanded x JOIN code c USING (idx)) AS x
    """
    target = lake / TRADE_TABLE
    con.execute(
        f"COPY ({select}) TO '{target}' (FORMAT parquet, COMPRESSION zstd, "
        "PARTITION_BY (year, hs_chapter))"
    )
    pattern = f"{target}/**/*.parquet"
    rows = int(con.execute(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchone()[0])
    manifest = {
        "format": "chainwatch-lake",
        "schema_version": SCHEMA_VERSION,
        "tables": {TRADE_TABLE: rows},
        "partitions": {TRADE_TABLE: partition_columns(TRADE_TABLE)},
        "spark_schema": {TRADE_TABLE: spark_ddl(TRADE_TABLE)},
        "sources": [f"{SYNTHETIC_SOURCE} {SYNTHETIC_VINTAGE}"],
    }
    (lake / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    # the relations the definition reads besides flows
    con.execute(f"""COPY (SELECT iso3 AS perspective, iso3, 0 AS from_year, 9999 AS to_year
                          FROM country ORDER BY iso3) TO '{relations / "members.parquet"}'""")
    con.execute(f"""COPY (SELECT iso3, 0 AS from_year, 9999 AS to_year FROM ({allied})
                          ORDER BY iso3) TO '{relations / "bloc.parquet"}'""")
    con.execute(f"""COPY (SELECT hs6, 'HS92' AS hs_revision, hs6 AS scope_key FROM code
                          ORDER BY hs6) TO '{relations / "scope.parquet"}'""")
    con.close()
    return rows


def _calibrate(con: Any, flows: int) -> float:
    """The scale s with sum(min(5000, s * weight)) = flows (bisection on the log scale)."""

    def expected(scale: float) -> float:
        return float(
            con.execute(f"SELECT sum(least({N_CODES}, {scale} * weight)) FROM pair").fetchone()[0]
        )

    low, high = 1.0, 1e12
    for _ in range(80):
        middle = math.sqrt(low * high)
        if expected(middle) < flows:
            low = middle
        else:
            high = middle
    return math.sqrt(low * high)


# --- one measurement (runs in a fresh subprocess) -----------------------------------------------


def _relations(relations: Path) -> dict[str, pa.Table]:
    return {
        name: pq.read_table(relations / f"{name}.parquet") for name in ("members", "bloc", "scope")
    }


def measure(engine: str, lake: Path, relations: Path, out: Path, args: argparse.Namespace) -> None:
    """Run one engine on one lake, write the table to ``out``, print a JSON line of timings."""
    started = time.perf_counter()
    from chainwatch.metrics.sql import IMPORT_CONCENTRATION
    from chainwatch.store.dialects import for_engine

    timings: dict[str, Any] = {}
    if engine == "duckdb":
        from chainwatch.store.engine import DuckDBEngine

        duck = DuckDBEngine(lake=lake)
        _duckdb_settings(duck.connection, args)
        for name, table in _relations(relations).items():
            duck.register(name, table)
        duck.connection.execute("CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM trade_flow")
        text = for_engine(IMPORT_CONCENTRATION, duck.dialect)
        timings["setup_s"] = time.perf_counter() - started
        query = time.perf_counter()
        duck.connection.execute(f"COPY ({text}) TO '{out}' (FORMAT parquet)")
        timings["query_s"] = time.perf_counter() - query
        duck.close()
    elif engine == "hand":
        import duckdb

        con = duckdb.connect()
        _duckdb_settings(con, args)
        bloc = ", ".join(f"'{code}'" for code in _relations(relations)["bloc"]["iso3"].to_pylist())
        text = HAND_WRITTEN.format(pattern=f"{lake}/trade_flow/**/*.parquet", bloc=bloc)
        timings["setup_s"] = time.perf_counter() - started
        query = time.perf_counter()
        con.execute(f"COPY ({text}) TO '{out}' (FORMAT parquet)")
        timings["query_s"] = time.perf_counter() - query
        con.close()
    elif engine == "spark":
        _start_spark(args)
        from chainwatch.store.engine import SparkEngine

        spark = SparkEngine(lake, args.spark_master)
        for name, table in _relations(relations).items():
            spark.register(name, table)
        spark.session.sql("CREATE OR REPLACE TEMP VIEW flows AS SELECT * FROM trade_flow")
        text = for_engine(IMPORT_CONCENTRATION, spark.dialect)
        timings["setup_s"] = time.perf_counter() - started
        query = time.perf_counter()
        spark.session.sql(text).write.mode("overwrite").parquet(str(out))
        timings["query_s"] = time.perf_counter() - query
        spark.session.stop()
    else:
        raise SystemExit(f"unknown engine {engine}")
    print("RESULT " + json.dumps(timings), flush=True)


def _duckdb_settings(con: Any, args: argparse.Namespace) -> None:
    con.execute(f"SET memory_limit = '{args.duckdb_memory}'")
    con.execute(f"SET threads = {args.threads}")
    con.execute(f"SET temp_directory = '{args.spill_dir}'")
    con.execute("SET enable_progress_bar = false")


def _start_spark(args: argparse.Namespace) -> None:
    """Start the process's Spark session with chainwatch's settings (engine.spark_session) but
    ``spark.driver.memory`` = ``--spark-driver-memory`` (the engine sets 4g for local masters;
    it must be set before the JVM starts); spark_session's getOrCreate then returns this one."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(args.spark_master)
        .appName("chainwatch-scale")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", str(args.spark_shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.driver.memory", args.spark_driver_memory)
        .config("spark.local.dir", str(args.spill_dir))
    )
    builder.getOrCreate().sparkContext.setLogLevel("ERROR")


# --- the parent: subprocesses, memory sampling ------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (from /proc)."""
    tree, total, stack = _children(), 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        current = stack.pop()
        stack.extend(tree.get(current, []))
        try:
            with open(f"/proc/{current}/statm", encoding="ascii") as handle:
                total += int(handle.read().split()[1]) * page
        except OSError:
            continue
    return total


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def run_measurement(
    engine: str, lake: Path, relations: Path, out: Path, args: argparse.Namespace
) -> dict[str, Any]:
    spill = args.work / f"spill-{engine}"
    shutil.rmtree(spill, ignore_errors=True)
    spill.mkdir(parents=True)
    command = [
        sys.executable,
        __file__,
        "--measure",
        engine,
        "--lake",
        str(lake),
        "--relations",
        str(relations),
        "--result",
        str(out),
        "--spill-dir",
        str(spill),
        "--duckdb-memory",
        args.duckdb_memory,
        "--threads",
        str(args.threads),
        "--spark-master",
        args.spark_master,
        "--spark-driver-memory",
        args.spark_driver_memory,
        "--spark-shuffle-partitions",
        str(args.spark_shuffle_partitions),
    ]
    log = args.work / f"{engine}-{lake.name}.log"
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as handle:
        child = subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        peak_rss = peak_spill = 0
        ticks, status = 0, "ok"
        while child.poll() is None:
            peak_rss = max(peak_rss, tree_rss(child.pid))
            if ticks % 5 == 0:
                peak_spill = max(peak_spill, dir_bytes(spill))
            ticks += 1
            if time.perf_counter() - started > args.run_timeout:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                status = "timeout"
                break
            time.sleep(0.2)
    wall = time.perf_counter() - started
    shutil.rmtree(spill, ignore_errors=True)
    text = log.read_text(encoding="utf-8", errors="replace")
    result: dict[str, Any] = {
        "engine": engine,
        "status": status,
        "process_wall_s": wall,
        "peak_rss_bytes": peak_rss,
        "peak_spill_bytes": peak_spill,
    }
    lines = [line for line in text.splitlines() if line.startswith("RESULT ")]
    if child.returncode != 0 or not lines:
        result["status"] = status if status == "timeout" else f"failed (rc {child.returncode})"
        result["log_tail"] = text[-3000:]
        return result
    result.update(json.loads(lines[-1][len("RESULT ") :]))
    return result


def summarise(out: Path) -> dict[str, float]:
    import duckdb

    pattern = f"{out}/*.parquet" if out.is_dir() else str(out)
    con = duckdb.connect()
    row = con.execute(f"""
        SELECT count(*), sum(imports_value_usd), sum(import_partner_hhi), sum(partner_count),
               sum(outside_bloc_share), sum(import_top3_share)
        FROM read_parquet('{pattern}')""").fetchone()
    con.close()
    keys = ("rows", "value", "hhi", "partners", "outside", "top3")
    return {key: float(value) for key, value in zip(keys, row, strict=True)}


def agree(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(math.isclose(a[key], b[key], rel_tol=1e-6) for key in a)


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(y) against log(x)."""
    points = [(x, y) for x, y in points if x > 0 and y > 0]
    if len(points) < 2:
        return None
    xs, ys = [math.log(x) for x, _ in points], [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else None


def fmt_size(flows: float) -> str:
    return f"{flows / 1e6:g}M"


def print_table(report: dict[str, Any]) -> None:
    print(
        "\nSYNTHETIC BACI-shaped lake: full import-concentration table (every importer x HS6 x "
        "year)"
    )
    header = f"{'size':>6} {'flows':>11} {'engine':<27} {'query s':>8} {'Mrows/s':>8} "
    print(header + f"{'peak GiB':>8} {'spill GiB':>9} {'out rows':>10} status")
    for size in report["sizes"]:
        for engine, run in size["runs"].items():
            query = run.get("query_s")
            rate = f"{size['flows'] / query / 1e6:8.2f}" if query else f"{'-':>8}"
            print(
                f"{fmt_size(size['target']):>6} {size['flows']:>11,} {LABELS[engine]:<27} "
                f"{query or float('nan'):8.1f} {rate} {run['peak_rss_bytes'] / GIB:8.2f} "
                f"{run['peak_spill_bytes'] / GIB:9.2f} {int(run.get('rows', 0)):>10,} "
                f"{run['status']}"
            )
        if size.get("spark_over_duckdb"):
            print(
                f"{'':>6} Spark/DuckDB {size['spark_over_duckdb']:.1f}x, "
                f"definition/hand-written {size.get('duckdb_over_hand', float('nan')):.2f}x, "
                f"results agree: {size['agree']}"
            )
    print("slopes of log(time) ~ log(flows):", report["slopes_time"])
    print("slopes of log(peak RSS) ~ log(flows):", report["slopes_memory"])
    print("DuckDB in 24 GiB:", report["duckdb_24gib"])


def finish(report: dict[str, Any]) -> None:
    sizes = report["sizes"]
    for key, field in (("slopes_time", "query_s"), ("slopes_memory", "peak_rss_bytes")):
        report[key] = {}
        for engine in report["engines"]:
            points = [
                (s["flows"], s["runs"][engine].get(field, 0))
                for s in sizes
                if engine in s["runs"] and s["runs"][engine]["status"] == "ok"
            ]
            fitted = slope(points)
            report[key][engine] = round(fitted, 2) if fitted is not None else None
    found: dict[str, Any] = {}
    for engine in ("duckdb", "hand"):
        runs = [(s["flows"], s["runs"][engine]) for s in sizes if engine in s["runs"]]
        ok = [(flows, run) for flows, run in runs if run["status"] == "ok"]
        failed = [flows for flows, run in runs if run["status"] != "ok"]
        entry: dict[str, Any] = {"memory_limit": report["settings"]["duckdb_memory"]}
        if ok:
            flows, run = ok[-1]
            entry["largest_ok_flows"] = flows
            entry["peak_rss_gib"] = round(run["peak_rss_bytes"] / GIB, 2)
            entry["spilled"] = any(r["peak_spill_bytes"] > 0 for _, r in ok)
            mem_slope = report["slopes_memory"].get(engine)
            if mem_slope and mem_slope > 0:
                ratio = MACHINE_RAM / run["peak_rss_bytes"]
                entry["memory_slope"] = mem_slope
                entry["extrapolated_flows_at_24gib_rss"] = int(flows * ratio ** (1 / mem_slope))
        if failed:
            entry["first_failed_flows"] = failed[0]
        found[engine] = entry
    report["duckdb_24gib"] = found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10e6,30e6,100e6", help="flows, comma-separated")
    parser.add_argument("--engines", default=",".join(ENGINES), help="duckdb,spark,hand")
    parser.add_argument("--work", type=Path, default=Path("/tmp/chainwatch-scale"))
    parser.add_argument("--out", type=Path, default=None, help="JSON results")
    parser.add_argument("--keep", action="store_true", help="keep the generated lakes")
    parser.add_argument("--duckdb-memory", default="16GB", help="DuckDB memory_limit")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--spark-driver-memory", default="8g")
    parser.add_argument(
        "--spark-shuffle-partitions",
        type=int,
        default=8,
        help="the engine's setting (engine.spark_session) is 8",
    )
    parser.add_argument("--run-timeout", type=float, default=3600, help="seconds per run")
    parser.add_argument(
        "--skip-spark-above",
        type=float,
        default=float("inf"),
        help="do not run Spark on lakes larger than this many flows",
    )
    # internal: one measurement in a subprocess
    parser.add_argument("--measure", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--lake", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--relations", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spill-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.lake, args.relations, args.result, args)
        return
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    report: dict[str, Any] = {
        "data": "SYNTHETIC BACI-shaped lake generated by bench/scale.py (not real trade data)",
        "machine": {
            "cpus": os.cpu_count(),
            "ram_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1),
        },
        "settings": {
            "duckdb_memory": args.duckdb_memory,
            "threads": args.threads,
            "spark_master": args.spark_master,
            "spark_driver_memory": args.spark_driver_memory,
            "spark_shuffle_partitions": args.spark_shuffle_partitions,
            "memory": "RSS summed over the subprocess and its descendants (Python + "
            "JVM for Spark), sampled every 0.2 s from /proc",
        },
        "engines": engines,
        "sizes": [],
    }
    args.work.mkdir(parents=True, exist_ok=True)
    for target in [float(s) for s in args.sizes.split(",") if s.strip()]:
        name = f"synthetic-baci-{fmt_size(target)}"
        lake, relations = args.work / name, args.work / f"{name}-relations"
        if not (lake / "_chainwatch_lake.json").exists():
            shutil.rmtree(lake, ignore_errors=True)
            shutil.rmtree(relations, ignore_errors=True)
            print(f"generating {name} ...", flush=True)
            started = time.perf_counter()
            generate_lake(lake, relations, int(target), args.duckdb_memory, args.work)
            print(f"  {time.perf_counter() - started:.0f} s", flush=True)
        flows = int(
            json.loads((lake / "_chainwatch_lake.json").read_text())["tables"]["trade_flow"]
        )
        size: dict[str, Any] = {
            "target": target,
            "flows": flows,
            "lake": str(lake),
            "lake_bytes": dir_bytes(lake),
            "runs": {},
        }
        summaries: dict[str, dict[str, float]] = {}
        for engine in engines:
            if engine == "spark" and flows > args.skip_spark_above:
                continue
            out = args.work / f"result-{engine}-{name}"
            shutil.rmtree(out, ignore_errors=True)
            out_path = out if engine == "spark" else out.with_suffix(".parquet")
            print(f"  {LABELS[engine]} on {flows:,} flows ...", flush=True)
            run = run_measurement(engine, lake, relations, out_path, args)
            if run["status"] == "ok":
                summaries[engine] = summarise(out_path)
                run["rows"] = summaries[engine]["rows"]
                run["rows_per_s"] = flows / run["query_s"]
            print(
                f"    {run['status']} query {run.get('query_s', float('nan')):.1f} s, "
                f"peak {run['peak_rss_bytes'] / GIB:.2f} GiB",
                flush=True,
            )
            size["runs"][engine] = run
            shutil.rmtree(out_path, ignore_errors=True) if out_path.is_dir() else out_path.unlink(
                missing_ok=True
            )
            if args.out:  # partial results as they come
                report["sizes_partial"] = [*report["sizes"], size]
                args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
        first = next(iter(summaries.values()), None)
        size["agree"] = bool(first) and all(agree(first, s) for s in summaries.values())
        size["summaries"] = summaries
        runs = size["runs"]
        if runs.get("spark", {}).get("query_s") and runs.get("duckdb", {}).get("query_s"):
            size["spark_over_duckdb"] = runs["spark"]["query_s"] / runs["duckdb"]["query_s"]
        if runs.get("hand", {}).get("query_s") and runs.get("duckdb", {}).get("query_s"):
            size["duckdb_over_hand"] = runs["duckdb"]["query_s"] / runs["hand"]["query_s"]
        report["sizes"].append(size)
        report.pop("sizes_partial", None)
        if not args.keep:
            shutil.rmtree(lake, ignore_errors=True)
            shutil.rmtree(relations, ignore_errors=True)
        finish(report)
        if args.out:
            args.out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print_table(report)


if __name__ == "__main__":
    main()
