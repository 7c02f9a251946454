"""Benchmark: GeoPolRisk for every importer x year x raw material, chainwatch vs geopolrisk-py.

The peer, geopolrisk-py 2.0.1 (GPL-3.0), is never imported here: it is installed into its own
virtualenv under the bench's work directory and run as a separate process through
``bench/geopolrisk_peer.py``, which runs its full case set (239 importers: 238 countries plus
its EU region, x 7 years 2018-2024 x 53 raw materials = 88,669 cases) through one call of
``gprs_calc`` and writes a CSV. chainwatch is run through its CLI,
``chainwatch metrics --as ALL --year YEAR --metric geopolrisk_score``, once per year.

The report gives both wall times, their ratio (peer / chainwatch), the case counts and a
comparison of the scores on the cases both cover, matched on importer ISO3 (the peer's EU is
chainwatch's EU27), year and material (:data:`PEER_MATERIALS` maps the peer's names to
chainwatch material ids and the stage whose HS6 codes are the peer's).

Run: ``.venv/bin/python bench/geopolrisk.py [--years 2022] [--limit 5] [--peer-csv FILE]``.
The peer's full case set takes 35-45 min (2-core machine, 2026-12); ``--limit N`` runs only its
first N importers, ``--peer-csv`` reuses the results (and timings) of an earlier run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PEER_REQUIREMENT = "geopolrisk-py==2.0.1"
PEER_SCRIPT = Path(__file__).resolve().with_name("geopolrisk_peer.py")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_YEARS = list(range(2018, 2025))
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "chainwatch-bench-geopolrisk"

# geopolrisk-py raw material ("Reference ID" of its HS Code Map) -> chainwatch material id and
# the chainwatch stage whose HS6 codes equal the peer's, and the peer's HS92 codes.
# Two differ: for cobalt and germanium chainwatch's refinery scope has more codes (noted).
PEER_MATERIALS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Aluminium", "aluminium", "refinery", "760110", ""),
    ("Antimony", "antimony", "mine", "261710", ""),
    ("Arsenic", "arsenic", "refinery", "280480", ""),
    ("Asbestos", "asbestos", "mine", "252400", ""),
    ("Baryte", "barite", "mine", "251110", ""),
    ("Bauxite", "bauxite", "mine", "260600", ""),
    ("Bentonite", "bentonite", "mine", "250810", ""),
    ("Beryllium", "beryllium", "refinery", "811211", ""),
    ("Bismuth", "bismuth", "refinery", "810600", ""),
    ("Boron", "boron", "mine", "252890", ""),
    ("Cadmium", "cadmium", "refinery", "810710;283030", ""),
    ("Chromite", "chromium", "mine", "261000", ""),
    ("Cobalt", "cobalt", "refinery", "282200;810510", "chainwatch adds 810520"),
    ("Coking Coal", "coal coking", "mine", "270112", ""),
    ("Copper", "copper", "mine", "260300", ""),
    ("Diatomite", "diatomite", "refinery", "251200", ""),
    ("Feldspar", "feldspar", "mine", "252910", ""),
    ("Fluorspar", "fluorspar", "mine", "252922", ""),
    ("Germanium", "germanium", "refinery", "811230", "chainwatch adds 282560;811292;811299"),
    ("Gold", "gold", "refinery", "261690;710812", ""),
    ("Graphite", "graphite", "mine", "250410;250490", ""),
    ("Gypsum", "gypsum", "mine", "252010", ""),
    ("Iron", "iron ore", "mine", "260111;260112", ""),
    ("Kaolin", "kaolin", "refinery", "250700;250830;250840", ""),
    ("Lead", "lead", "mine", "260700", ""),
    ("Lignite", "lignite", "mine", "270210;270220", ""),
    ("Lithium", "lithium", "refinery", "282520;283691", ""),
    ("Magnesite", "magnesite", "mine", "251910", ""),
    ("Manganese", "manganese", "mine", "260200", ""),
    ("Mercury", "mercury", "mine", "280540", ""),
    ("Molybdenum", "molybdenum", "mine", "261390", ""),
    ("Natural gas", "natural gas", "mine", "271111;271121", ""),
    ("Nickel", "nickel", "mine", "260400", ""),
    ("Niobium", "niobium", "refinery", "720293", ""),
    ("Palladium", "palladium", "refinery", "711021;711029", ""),
    ("Crude oil", "crude oil", "mine", "270900", ""),
    ("Phosphate", "phosphate rock", "mine", "251020", ""),
    ("Platinum", "platinum", "refinery", "711011;711019;711510", ""),
    ("Rare earth", "rare earths", "refinery", "284690;284610;280530", ""),
    ("Rhodium", "rhodium", "refinery", "711031;711039", ""),
    ("Selenium", "selenium", "refinery", "280490", ""),
    ("Silver", "silver", "mine", "261610", ""),
    ("Steam Coal", "coal steam", "mine", "270119;270111;270112", ""),
    ("Sulfur", "sulfur", "refinery", "250310;250390", ""),
    ("Tantalum", "tantalum", "refinery", "810310", ""),
    ("Tellurium", "tellurium", "refinery", "280450", ""),
    ("Tin", "tin", "mine", "260900", ""),
    ("Titanium", "titanium", "mine", "261400", ""),
    ("Tungsten", "tungsten", "mine", "261100;810110", ""),
    ("Uranium", "uranium", "mine", "261210", ""),
    ("Vanadium", "vanadium", "refinery", "282530;720292", ""),
    ("Zinc", "zinc", "mine", "260800", ""),
    ("Zirconium", "zirconium", "mine", "261510", ""),
)
KEYS = ["importer_iso3", "year", "material", "stage"]
ISO3_FIXES = {"S19": "TWN"}  # BACI 490 "Other Asia, nes": chainwatch's concordance says TWN


def material_map() -> pd.DataFrame:
    return pd.DataFrame(
        PEER_MATERIALS, columns=["peer_material", "material", "stage", "peer_hs6", "note"]
    )


# --------------------------------------------------------------------------- peer


def ensure_peer_venv(venv: Path) -> Path:
    """The peer virtualenv's python, creating the venv and installing the peer if missing."""
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('geopolrisk-py'))"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating the peer virtualenv {venv} ({PEER_REQUIREMENT}) ...", file=sys.stderr)
    base = getattr(sys, "_base_executable", sys.executable)  # geopolrisk-py needs 3.10/3.11
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         PEER_REQUIREMENT],
        check=True,
    )  # fmt: skip
    return python


def run_peer(
    python: Path, out_csv: Path, years: list[int], limit: int | None, work_dir: Path
) -> tuple[float, dict[str, Any], pd.DataFrame]:
    """Run geopolrisk_peer.py in the peer venv: (wall seconds of the process, its JSON report,
    its results)."""
    # -P: bench/ (with this file, geopolrisk.py) must not shadow the geopolrisk package
    cmd = [
        str(python),
        "-P",
        str(PEER_SCRIPT),
        "--out",
        str(out_csv),
        "--home",
        str(work_dir / "home"),
    ]
    cmd += ["--years", *map(str, years)]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    log = work_dir / "peer.log"
    print(f"running the peer (progress in {log}): {' '.join(cmd)}", file=sys.stderr)
    t0 = time.perf_counter()
    with log.open("w") as stderr:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True)
    seconds = time.perf_counter() - t0
    report = _last_json(done.stdout)
    if done.returncode != 0 and not report:
        raise RuntimeError(f"the peer failed (exit {done.returncode}); see {log}")
    report["process_wall_s"] = round(seconds, 3)
    out_csv.with_suffix(".json").write_text(json.dumps(report, indent=2))
    return seconds, report, pd.read_csv(out_csv, keep_default_na=False, na_values=[""])


def reuse_peer(csv: Path) -> tuple[float, dict[str, Any], pd.DataFrame]:
    """Results and timings of an earlier peer run (its JSON report beside the CSV)."""
    sidecar = csv.with_suffix(".json")
    report = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    seconds = float(report.get("process_wall_s", report.get("wall_s", float("nan"))))
    return seconds, report, pd.read_csv(csv, keep_default_na=False, na_values=[""])


def _last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    return {}


# --------------------------------------------------------------------------- chainwatch


def use_peer_political_stability(store: Path, peer_pv: Path) -> int:
    """Overwrite the bench store's WGI political-stability estimates with the peer's own
    (``wgi.db`` of geopolrisk-py 2.0.1, another WGI revision; shared/data/wgi_worldbank),
    to test that the remaining differences are that data and not the code. Bench only:
    the store is the bench's private copy. Returns the rows replaced."""
    import duckdb

    peer = pd.read_csv(peer_pv)[["wb_code", "year", "estimate"]].dropna()
    con = duckdb.connect(str(store))
    try:
        con.register("peer_pv", peer)
        before = con.execute(
            "SELECT count(*) FROM governance g JOIN peer_pv p ON p.wb_code = g.country_iso3 "
            "AND p.year = g.year WHERE g.indicator = 'pv'"
        ).fetchone()
        con.execute(
            "UPDATE governance SET estimate = p.estimate FROM peer_pv p "
            "WHERE p.wb_code = governance.country_iso3 AND p.year = governance.year "
            "AND governance.indicator = 'pv'"
        )
    finally:
        con.close()
    return int(before[0]) if before else 0


def run_chainwatch(
    years: list[int], out_dir: Path, wmd: Path | None = None, peer_pv: Path | None = None
) -> tuple[float, pd.DataFrame]:
    """### chainwatch side ### GeoPolRisk score for every importer and year, one CLI call.

    Calls ``chainwatch metrics --as ALL --year Y1 --year Y2 ... --metric geopolrisk_score
    --format parquet -o FILE`` on a store in ``out_dir`` (built from the bundled data
    beforehand, untimed). Returns (seconds of the call, process start included, and its rows).
    Raises ``subprocess.CalledProcessError`` / ``FileNotFoundError`` when the command is
    unavailable.
    """
    cli = Path(sys.executable).with_name("chainwatch")
    if not cli.exists():
        cli = REPO / ".venv" / "bin" / "chainwatch"
    name = "store" + ("_wmd" if wmd else "") + ("_peer_pv" if peer_pv else "")
    store = out_dir / f"{name}.duckdb"
    if not store.exists():
        subprocess.run([str(cli), "init", "--store", str(store), "-q"], check=True)
        if wmd is not None:  # the peer's production source, for a like-for-like comparison
            subprocess.run([str(cli), "ingest", "wmd", str(wmd), "--store", str(store), "-q"],
                           check=True)  # fmt: skip
        if peer_pv is not None:
            use_peer_political_stability(store, peer_pv)
    out = out_dir / "chainwatch_geopolrisk.parquet"
    cmd = [str(cli), "metrics", "--as", "ALL", "--metric", "geopolrisk_score",
           "--store", str(store), "--format", "parquet", "-o", str(out)]  # fmt: skip
    for year in years:
        cmd += ["--year", str(year)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    frame = pd.read_parquet(out)
    if wmd is None:
        return seconds, frame
    # the peer's EU keeps flows between members (g = 0): chainwatch's definition of that
    eu = out_dir / "chainwatch_eu_peer_groups.parquet"
    cmd = [str(cli), "metrics", "--as", "EU27", "--metric", "geopolrisk_score_peer_groups",
           "--store", str(store), "--format", "parquet", "-o", str(eu)]  # fmt: skip
    for year in years:
        cmd += ["--year", str(year)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    groups = pd.read_parquet(eu).assign(metric="geopolrisk_score")
    frame = frame[frame["perspective"] != "EU27"]
    return seconds, pd.concat([frame, groups[frame.columns]], ignore_index=True)


# --------------------------------------------------------------------------- comparison


def peer_cases(peer: pd.DataFrame) -> pd.DataFrame:
    """Peer rows keyed like chainwatch's: ISO3 (EU -> EU27), year, material id, stage.

    BACI's historic entities among the peer's importers ("Sudan (...2011)", "USSR (...1990)",
    ...) share an ISO3 with a current one and have no trade in 2018-2024: dropped. BACI's
    "Other Asia, nes" (S19) is Taiwan, as in chainwatch's country concordance."""
    rows = peer[~peer["importer"].astype(str).str.contains(r"\(\.\.\.", regex=True)]
    rows = rows.dropna(subset=["importer_iso3"])
    rows = rows.assign(importer_iso3=rows["importer_iso3"].replace(ISO3_FIXES))
    mapped = rows.merge(
        material_map()[["peer_material", "material", "stage"]].rename(
            columns={"material": "cw_material"}
        ),
        left_on="material",
        right_on="peer_material",
        how="left",
    )
    mapped = mapped.drop(columns=["material"]).rename(columns={"cw_material": "material"})
    return mapped.drop_duplicates(KEYS)


def compare(peer: pd.DataFrame, chainwatch: pd.DataFrame) -> dict[str, Any]:
    """Score agreement on the cases both compute."""
    cw = chainwatch[chainwatch["metric"] == "geopolrisk_score"].rename(
        columns={"perspective": "importer_iso3", "value": "cw_score"}
    )[[*KEYS, "cw_score"]]
    cw = cw.dropna(subset=["cw_score"])
    ours = peer_cases(peer)
    both = ours.merge(cw, on=KEYS, how="inner")
    out: dict[str, Any] = {
        "peer_cases_mapped": len(ours),
        "chainwatch_cases": len(cw),
        "matched_cases": len(both),
        "peer_only": len(ours) - len(both),
        "chainwatch_only": len(cw) - len(both),
    }
    if both.empty:
        return out
    p, c = both["score"].to_numpy(float), both["cw_score"].to_numpy(float)
    rel = np.abs(p - c) / np.maximum(np.abs(p), 1e-12)
    out |= {
        "pearson": _round(np.corrcoef(p, c)[0, 1]),
        "spearman": _round(both["score"].rank().corr(both["cw_score"].rank())),
        "median_abs_diff": _round(np.median(np.abs(p - c))),
        "median_rel_diff": _round(np.median(rel)),
        "share_within_1pct": _round(np.mean(rel <= 0.01)),
        "share_within_1e-6": _round(np.mean(rel <= 1e-6)),
        "peer_zero_cw_nonzero": int(np.sum((p == 0) & (c != 0))),
    }
    both = both.assign(abs_diff=np.abs(p - c))
    by_material = both.groupby("material").agg(
        cases=("abs_diff", "size"),
        median_abs_diff=("abs_diff", "median"),
        peer_median=("score", "median"),
        cw_median=("cw_score", "median"),
    )
    out["by_material"] = by_material.round(6).reset_index().to_dict(orient="records")
    # Same production source: with World Mining Data loaded, chainwatch's mine stage uses it,
    # as the peer does everywhere; at its refinery stage chainwatch uses USGS refinery
    # figures where the peer uses WMD's mine output, so only mine-stage cases compare source
    # for source.
    same = both["stage"] == "mine"
    if same.any():
        rel_same = rel[same.to_numpy()]
        out["same_source"] = {
            "cases": int(same.sum()),
            "share_within_1pct": _round(np.mean(rel_same <= 0.01)),
            "median_rel_diff": _round(np.median(rel_same)),
        }
        off = both[same].assign(rel=rel_same)
        off = off[off["rel"] > 0.01]
        out["same_source"]["off_by_material"] = (
            off.groupby("material").size().sort_values(ascending=False).to_dict()
        )
    worst = both.nlargest(10, "abs_diff")[[*KEYS, "score", "cw_score"]]
    out["largest_differences"] = worst.round(6).to_dict(orient="records")
    return out


def _round(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, nargs="+", default=DEFAULT_YEARS)
    parser.add_argument("--limit", type=int, default=None, help="peer: first N importers only")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--peer-python", type=Path, default=None, help="an existing peer venv")
    parser.add_argument("--peer-csv", type=Path, default=None, help="reuse an earlier peer run")
    parser.add_argument("--skip-chainwatch", action="store_true")
    parser.add_argument(
        "--peer-pv",
        type=Path,
        default=None,
        help="the peer's political-stability file (bench store only)",
    )
    parser.add_argument(
        "--wmd",
        type=Path,
        default=None,
        help="load this World Mining Data file (the peer's production source)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON only")
    args = parser.parse_args(argv)
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)

    if args.peer_csv is not None:
        peer_s, peer_report, peer = reuse_peer(args.peer_csv)
    else:
        python = args.peer_python or ensure_peer_venv(work / "peer-venv")
        peer_s, peer_report, peer = run_peer(
            python, work / "peer_results.csv", args.years, args.limit, work
        )
    peer = peer[peer["year"].isin(args.years)]

    cw_s: float | None = None
    cw: pd.DataFrame | None = None
    cw_error = None
    if not args.skip_chainwatch:
        try:
            cw_s, cw = run_chainwatch(args.years, work, args.wmd, args.peer_pv)
        except (subprocess.CalledProcessError, FileNotFoundError, OSError) as error:
            detail = getattr(error, "stderr", None) or str(error)
            cw_error = f"chainwatch metrics --as ALL failed: {str(detail).strip()[-500:]}"

    report: dict[str, Any] = {
        "years": args.years,
        "peer": {
            "seconds": round(peer_s, 3),
            "cases": len(peer),
            **{k: v for k, v in peer_report.items() if k != "out"},
        },
        "chainwatch": {
            "seconds": None if cw_s is None else round(cw_s, 3),
            "rows": None if cw is None else len(cw),
            "error": cw_error,
        },
        "ratio_peer_over_chainwatch": None if not cw_s else round(peer_s / cw_s, 2),
    }
    if cw is not None:
        report["comparison"] = compare(peer, cw)
    (work / "report.json").write_text(json.dumps(report, indent=2, default=str))

    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print_report(report, work)
    return 0


def print_report(report: dict[str, Any], work: Path) -> None:
    peer, cw = report["peer"], report["chainwatch"]
    print(f"years                 {report['years'][0]}-{report['years'][-1]}")
    print(
        f"peer (geopolrisk-py)  {peer['seconds']:.1f} s, {peer['cases']} cases"
        f" (load {peer.get('load_s')} s, calc {peer.get('calc_s')} s, cpu {peer.get('cpu_s')} s;"
        f" complete: {peer.get('complete')})"
    )
    if cw["error"]:
        print(f"chainwatch            NOT RUN: {cw['error']}")
    elif cw["seconds"] is not None:
        print(f"chainwatch            {cw['seconds']:.1f} s, {cw['rows']} rows")
        print(f"ratio peer/chainwatch {report['ratio_peer_over_chainwatch']}")
    comparison = report.get("comparison")
    if comparison:
        short = {k: v for k, v in comparison.items() if not isinstance(v, list)}
        print("scores on common cases " + json.dumps(short))
    print(f"full report: {work / 'report.json'}")


if __name__ == "__main__":
    raise SystemExit(main())
