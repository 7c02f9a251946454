"""The engine options of the CLI: the same tables with ``--engine spark`` (over a lake written
by ``chainwatch export lake``), ``--as ALL`` for every importer, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from chainwatch.cli.main import app
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle

runner = CliRunner()


@pytest.fixture(scope="module")
def store_and_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("cli-engines")
    store = Store(work / "chainwatch.duckdb")
    load_bundle(store)
    lake = work / "lake"
    result = runner.invoke(app, ["export", "lake", str(lake), "--store", str(store.path),
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["tables"]["trade_flow"] == 1_264_888
    assert (lake / "trade_flow" / "year=2023" / "hs_chapter=26").is_dir()
    return store.path, lake


def _json(arguments: list[str]) -> pd.DataFrame:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    return pd.DataFrame(json.loads(result.output))


def test_risk_on_spark_is_the_same_table(store_and_lake: tuple[Path, Path]) -> None:
    store, lake = store_and_lake
    common = ["risk", "--as", "EU27", "--year", "2023", "--format", "json", "--store", str(store)]
    default = _json(common)
    on_spark = _json([*common, "--engine", "spark", "--lake", str(lake)])
    on_duckdb_lake = _json([*common, "--lake", str(lake)])
    assert len(default) > 40
    # the JSON carries 10 decimals: equal up to the rounding of the last one (float sums on
    # two engines may differ in the last bits and round to either side of a half)
    for other in (on_spark, on_duckdb_lake):
        assert list(other["material"]) == list(default["material"])
        numbers = default.select_dtypes("number").columns
        pd.testing.assert_frame_equal(other[numbers], default[numbers], rtol=0, atol=1.01e-10)
        rest = [c for c in default.columns if c not in numbers]
        assert other[rest].astype(str).equals(default[rest].astype(str))


def test_every_importer_at_once(store_and_lake: tuple[Path, Path], tmp_path: Path) -> None:
    store, _ = store_and_lake
    out = tmp_path / "all.parquet"
    result = runner.invoke(app, ["metrics", "--as", "ALL", "--year", "2022", "--metric",
                                 "geopolrisk_score", "--format", "parquet", "-o", str(out),
                                 "--store", str(store)])  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert set(frame["metric"]) == {"geopolrisk_score"}
    assert {"CAN", "USA", "GBR", "EU27", "ALLIED", "CHN"} <= set(frame["perspective"])
    assert frame["method_id"].eq("geopolrisk.score").all()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["risk", "--as", "CAN", "--engine", "sparky"], "unknown engine 'sparky'"),
        (["risk", "--as", "CAN", "--spark-master", "local[2]"], "--spark-master needs"),
        (["metrics", "--as", "ALL"], "--as ALL needs --year"),
        (["metrics", "--as", "ALL", "--year", "2022", "--metric", "eu_supply_risk"],
         "--as ALL computes"),
    ],
)  # fmt: skip
def test_engine_mistakes_are_one_line(
    store_and_lake: tuple[Path, Path], arguments: list[str], message: str
) -> None:
    from chainwatch.cli.main import main

    store, _ = store_and_lake
    import sys

    argv = sys.argv
    sys.argv = ["chainwatch", *arguments, "--store", str(store)]
    try:
        with pytest.raises(SystemExit) as stopped:
            main()
    finally:
        sys.argv = argv
    assert stopped.value.code == 2


def test_a_lake_that_is_not_one(store_and_lake: tuple[Path, Path], tmp_path: Path) -> None:
    store, _ = store_and_lake
    result = runner.invoke(app, ["risk", "--as", "CAN", "--lake", str(tmp_path), "--store",
                                 str(store)])  # fmt: skip
    assert result.exit_code != 0
    assert "not a chainwatch lake" in str(result.exception)
