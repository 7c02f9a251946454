"""Peer side of the GeoPolRisk benchmark: run geopolrisk-py over its full case set.

This script is run by the *peer* virtualenv's interpreter, never by chainwatch's:
geopolrisk-py is GPL-3.0, so it is installed in its own venv (``bench/geopolrisk.py`` creates
one) and only called from here, as a separate process. Nothing of it is imported by chainwatch.

The case set is every importer geopolrisk-py knows (the 238 countries of its ``Country_ISO``
table plus its built-in ``EU`` region) x every year given (default: 2018-2024, the years its
bundled World Mining Data covers) x every raw material of ``default_rmlist()`` (53). All cases
go through one call of the library's own entry point, ``gprs_calc``, which also writes its usual
Excel and SQLite outputs under ``$HOME/Documents/geopolrisk/output`` (HOME is pointed at a
scratch folder here).

Run::

    /tmp/gpr-venv/bin/python bench/geopolrisk_peer.py --out /tmp/gpr/peer.csv [--limit 10]

The last line of stdout is one JSON object with the timings (seconds) and case counts.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_YEARS = list(range(2018, 2025))
EU_ISO3 = "EU27"  # geopolrisk-py's "EU" region: the 27 member states


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, type=Path, help="CSV file for the per-case results")
    p.add_argument("--years", type=int, nargs="+", default=DEFAULT_YEARS)
    p.add_argument(
        "--limit",
        type=int,
        default=None,
        help="only the first N importers (in the library's order, EU first): a quick subset",
    )
    p.add_argument("--materials", nargs="+", default=None, help="geopolrisk-py material names")
    p.add_argument(
        "--home",
        type=Path,
        default=None,
        help="scratch HOME for the library's Documents/geopolrisk folder (default: a new tempdir)",
    )
    p.add_argument(
        "--with-inputs",
        action="store_true",
        help="after the timed run, an untimed pass recording each case's import-risk numerator, "
        "total imports and domestic production through the library's aggregateTrade and HHI",
    )
    return p.parse_args(argv)


def timed(fn: Callable[..., Any], bucket: dict[str, float], key: str) -> Callable[..., Any]:
    """Wrap a library function so the seconds spent in it are added to ``bucket[key]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            bucket[key] = bucket.get(key, 0.0) + time.perf_counter() - t0

    return wrapper


def iso3_by_code(lib_dir: Path) -> dict[int, str]:
    """BACI numeric country code -> ISO3, from the library's own bundled BACI country table."""
    con = sqlite3.connect(lib_dir / "baci.db")
    try:
        rows = con.execute(
            "SELECT country_code, country_iso3 FROM country_codes_V202401b"
        ).fetchall()
    finally:
        con.close()
    return {int(code): str(iso3) for code, iso3 in rows}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="gpr-home-"))
    home.mkdir(parents=True, exist_ok=True)
    # The library writes results.xlsx / Datarecords.db (upserted row by row) here: start empty
    # so that every run does the same work.
    for stale in ("results.xlsx", "Datarecords.db"):
        (home / "Documents" / "geopolrisk" / "output" / stale).unlink(missing_ok=True)
    os.environ["HOME"] = str(home)  # read by the library at import time (Path.home())

    # bench/ holds geopolrisk.py (chainwatch's side), which would shadow the geopolrisk package
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    load_before = os.getloadavg()[0]
    t_start, cpu_start = time.perf_counter(), time.process_time()
    # Importing loads the bundled SQLite databases (BACI with WGI joined, WMD, WGI).
    from geopolrisk.assessment import main as gpr
    from geopolrisk.assessment.database import databases

    t_loaded = time.perf_counter()

    phases: dict[str, float] = {}
    captured: dict[str, Any] = {}

    def mapped_baci_capture() -> Any:
        captured["trade"] = original_mapped_baci()
        return captured["trade"]

    original_mapped_baci = gpr.mapped_baci
    gpr.mapped_baci = timed(mapped_baci_capture, phases, "prepare_trade_s")
    gpr.writetodb = timed(gpr.writetodb, phases, "write_sqlite_s")

    importers = list(databases.regionslist)  # "EU" + the 238 Country_ISO names
    if args.limit is not None:
        importers = importers[: args.limit]
    materials = args.materials or gpr.default_rmlist()
    years = [int(y) for y in args.years]

    t_calc = time.perf_counter()
    result = gpr.gprs_calc(years, importers, materials)
    t_done, cpu_done = time.perf_counter(), time.process_time()

    codes = dict(
        zip(*(databases.production["Country_ISO"][c] for c in ("Country", "ISO")), strict=True)
    )
    iso3 = iso3_by_code(Path(databases.directory_databases))
    out = result.rename(
        columns={
            "Country [Economic Entity]": "importer",
            "Raw Material": "material",
            "Year": "year",
            "GeoPolRisk Score": "score",
            "GeoPolRisk Characterization Factor [eq. Kg-Cu/Kg]": "cf",
            "HHI": "hhi",
            "Import Risk": "import_risk",
            "Price": "price",
            "DBID": "dbid",
        }
    )
    out["importer_code"] = [codes.get(n) for n in out["importer"]]  # BACI numeric code
    out["importer_code"] = out["importer_code"].astype("Int64")
    out["importer_iso3"] = [
        EU_ISO3 if n == "EU" else iso3.get(int(codes[n])) for n in out["importer"]
    ]

    inputs_s = None
    if args.with_inputs:
        t_in = time.perf_counter()
        trade = captured["trade"]
        num, tot, prod = [], [], []
        for name, year, rm in zip(out["importer"], out["year"], out["material"], strict=True):
            members = databases.regionslist[name]
            n, t, _price = gpr.aggregateTrade(int(year), members, rm, data=trade)
            num.append(n)
            tot.append(t)
            prod.append(sum(gpr.HHI(rm, int(year), m)[0] for m in members))
        out["import_risk_numerator"] = num
        out["imports_total_t"] = tot
        out["domestic_production_t"] = prod
        inputs_s = time.perf_counter() - t_in

    cols = [
        "importer_iso3",
        "importer_code",
        "importer",
        "year",
        "material",
        "score",
        "cf",
        "hhi",
        "import_risk",
        "price",
    ]
    cols += [
        c
        for c in ("import_risk_numerator", "imports_total_t", "domestic_production_t")
        if c in out.columns
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out[[*cols, "dbid"]].to_csv(args.out, index=False)

    requested = len(years) * len(importers) * len(materials)
    report = {
        "tool": "geopolrisk-py",
        "version": _version(),
        "python": sys.version.split()[0],
        "load_s": round(t_loaded - t_start, 3),
        "calc_s": round(t_done - t_calc, 3),
        "wall_s": round(t_done - t_start, 3),
        # CPU seconds of this (single-threaded) process: less sensitive to a busy machine
        "cpu_s": round(cpu_done - cpu_start, 3),
        "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        **{k: round(v, 3) for k, v in phases.items()},
        "inputs_pass_s": None if inputs_s is None else round(inputs_s, 3),
        "importers": len(importers),
        "years": len(years),
        "materials": len(materials),
        "cases_requested": requested,
        "cases_returned": len(out),
        # gprs_calc stops its whole loop ("break") at the first case that raises
        "complete": len(out) == requested,
        "out": str(args.out),
        "library_output": str(home / "Documents" / "geopolrisk" / "output"),
    }
    print(json.dumps(report))
    return 0 if report["complete"] else 1


def _version() -> str:
    from importlib.metadata import version

    return version("geopolrisk-py")


if __name__ == "__main__":
    raise SystemExit(main())
