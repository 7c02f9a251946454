"""The engine seam and the relations module: errors are one line, parameters are quoted,
registered relations are private to an engine, and the two seams (row predicates, flow
transforms) change what every definition reads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chainwatch.errors import EngineError, QueryError
from chainwatch.metrics.service import calc_metrics
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from chainwatch.store.dialects import bind
from chainwatch.store.engine import DuckDBEngine, EngineSpec, open_engine, spark_session
from chainwatch.store.relations import Relations


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    built = Store(tmp_path_factory.mktemp("engine") / "chainwatch.duckdb")
    load_bundle(built)
    return built


def test_unknown_engine_is_one_line() -> None:
    with pytest.raises(EngineError, match="unknown engine 'sparky': use duckdb or spark"):
        EngineSpec(kind="sparky")
    with pytest.raises(EngineError, match="--spark-master needs --engine spark"):
        EngineSpec(spark_master="local[2]")


def test_missing_pyspark_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(EngineError, match=r"pip install 'chainwatch\[spark\]'"):
        spark_session("local[1] no-pyspark")


def test_missing_java_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(EngineError, match="needs Java 17"):
        spark_session("local[1] no-java")


def test_a_directory_that_is_not_a_lake(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="not a chainwatch lake"):
        DuckDBEngine(lake=tmp_path)


def test_parameters_are_quoted_literals() -> None:
    hostile = "x' OR '1'='1"
    text = bind("SELECT * FROM country WHERE iso3 = :code", {"code": hostile}, "duckdb")
    assert "'x'' OR ''1''=''1'" in text
    assert bind("SELECT 1 WHERE a IN :codes", {"codes": []}, "spark").endswith("IN (NULL)")
    with pytest.raises(EngineError, match="no value for query parameter"):
        bind("SELECT * FROM t WHERE a = :missing", {"other": 1}, "duckdb")


def test_unknown_perspective_through_relations(store: Store) -> None:
    with open_engine(store) as engine, pytest.raises(QueryError, match="unknown perspective"):
        Relations(engine).resolve_perspective("x' OR 1=1 --")


def test_registered_relations_are_private_to_an_engine(store: Store) -> None:
    import pandas as pd

    with open_engine(store) as first, open_engine(store) as second:
        first.register("members", pd.DataFrame({"iso3": ["CAN"]}))
        assert first.rows("SELECT count(*) FROM members") == [(1,)]
        with pytest.raises(Exception, match="members"):
            second.rows("SELECT count(*) FROM members")


def test_row_predicates_filter_every_read(store: Store) -> None:
    """The access seam: a predicate on trade_flow hides China's exports from every definition."""
    with open_engine(store) as engine:
        hidden = calc_metrics(Relations(engine, visible={"trade_flow": "exporter_iso3 <> 'CHN'"}),
                              "USA", 2022, material="graphite")  # fmt: skip
    shown = calc_metrics(store, "USA", 2022, material="graphite")

    def value(frame: object, metric: str) -> float:
        rows = frame[(frame["metric"] == metric) & (frame["stage"] == "mine")]  # type: ignore[index]
        return float(rows["value"].iloc[0])

    assert value(hidden, "imports_value_usd") < value(shown, "imports_value_usd")
    details = set(hidden.loc[hidden["metric"] == "import_partner_hhi", "detail"].dropna())
    assert not any("CHN" in detail for detail in details)
    with pytest.raises(QueryError, match="no canonical table"):
        Relations(engine, visible={"no_such_table": "true"})


def test_flow_transforms_reach_every_definition(store: Store) -> None:
    """The scenario seam: halving every flow halves imports and leaves shares unchanged."""

    def halve(text: str) -> str:
        return (f"SELECT * REPLACE (value_usd / 2 AS value_usd, quantity_t / 2 AS quantity_t) "
                f"FROM ({text}) AS base")  # fmt: skip

    with open_engine(store) as engine:
        shocked = calc_metrics(Relations(engine, flow_transform=halve), "CAN", 2022,
                               material="cobalt")  # fmt: skip
    base = calc_metrics(store, "CAN", 2022, material="cobalt")
    keys = ["stage", "metric"]
    merged = base.merge(shocked, on=keys, suffixes=("_base", "_shocked"))
    imports = merged[merged["metric"] == "imports_value_usd"].dropna(subset=["value_base"])
    assert len(imports) > 0
    assert list(imports["value_shocked"]) == pytest.approx(list(imports["value_base"] / 2))
    shares = merged[merged["metric"] == "import_partner_hhi"].dropna(subset=["value_base"])
    assert list(shares["value_shocked"]) == pytest.approx(list(shares["value_base"]))
