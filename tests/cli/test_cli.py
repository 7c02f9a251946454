"""The command line as a user runs it: exit codes, formats, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "chainwatch.duckdb"
    completed = _run("init", "--json", store=path)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["rows"]["trade_flow"] == 1_264_888
    return path


def _run(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHAINWATCH_STORE": str(store)}
    return subprocess.run(
        [sys.executable, "-m", "chainwatch", *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_help_lists_the_commands(store_path: Path) -> None:
    completed = _run("--help", store=store_path)
    assert completed.returncode == 0
    for command in ("init", "ingest", "sources", "metrics", "risk", "start", "schema"):
        assert command in completed.stdout


def test_sources_as_json(store_path: Path) -> None:
    completed = _run("sources", "--format", "json", store=store_path)
    sources = {row["source_id"]: row for row in json.loads(completed.stdout)}
    assert sources["cepii-baci-hs92-v202401b"]["licence"] == "Etalab Open Licence 2.0"


def test_metrics_json_carries_method_and_sources(store_path: Path) -> None:
    completed = _run("metrics", "--as", "CAN", "--material", "cobalt", "--year", "2023",
                     "--format", "json", store=store_path)  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    rows = json.loads(completed.stdout)
    hhi = [r for r in rows if r["metric"] == "import_partner_hhi" and r["stage"] == "refinery"]
    assert len(hhi) == 1 and 0 < hhi[0]["value"] <= 1
    assert hhi[0]["method_id"] and "CEPII BACI V202401b" in hhi[0]["sources"]


def test_risk_csv_and_parquet(store_path: Path, tmp_path: Path) -> None:
    completed = _run("risk", "--as", "ALLIED", "--year", "2023", "--format", "csv",
                     store=store_path)  # fmt: skip
    lines = completed.stdout.splitlines()
    assert lines[0].startswith("rank,perspective,year,material")
    assert len(lines) > 30
    out = tmp_path / "risk.parquet"
    completed = _run("risk", "--as", "EU27", "--format", "parquet", "-o", str(out),
                     store=store_path)  # fmt: skip
    assert completed.returncode == 0 and out.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("metrics", "--as", "XYZ"), "unknown perspective 'XYZ'"),
        (("metrics", "--as", "CAN", "--material", "unobtainium"), "unknown material"),
        (("metrics", "--as", "CAN", "--year", "1900"), "no trade data for [1900]"),
        (("ingest", "baci", "/nonexistent/file.zip"), "no such file"),
        (("ingest", "nonsense", "/tmp"), "unknown kind"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_2(
    store_path: Path, args: tuple[str, ...], needle: str
) -> None:
    completed = _run(*args, store=store_path)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert needle in completed.stderr
    assert len([line for line in completed.stderr.splitlines() if line.strip()]) == 1


def test_start_prints_the_first_report(store_path: Path) -> None:
    completed = _run("start", "--no-serve", store=store_path)
    assert completed.returncode == 0, completed.stderr
    assert "Most exposed materials: ALLIED" in completed.stdout


def test_user_defined_group_works_as_perspective_and_bloc(store_path: Path) -> None:
    defined = _run("groups", "define", "--id", "NORDIC", "--members", "DNK,FIN,ISL,NOR,SWE",
                   store=store_path)  # fmt: skip
    assert defined.returncode == 0, defined.stderr
    listed = _run("groups", "list", "--format", "json", store=store_path)
    nordic = [g for g in json.loads(listed.stdout) if g["group_id"] == "NORDIC"]
    assert nordic and nordic[0]["members"] == 5 and nordic[0]["user_defined"]
    risk = _run("risk", "--as", "NORDIC", "--bloc", "NORDIC", "--year", "2023",
                "--format", "json", store=store_path)  # fmt: skip
    assert risk.returncode == 0, risk.stderr
    assert json.loads(risk.stdout)[0]["perspective"] == "NORDIC"
    bad = _run("groups", "define", "--id", "BAD", "--members", "CAN,XXX", store=store_path)
    assert bad.returncode == 2 and "unknown country code 'XXX'" in bad.stderr
