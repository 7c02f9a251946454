"""The SQL metric definitions transpile to other engines, and round-trip on DuckDB.

The round trip runs on a SYNTHETIC store (hand-made flows; only the country table is real).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from chainwatch.metrics import sql
from chainwatch.store import Store
from chainwatch.store.relations import open_relations
from tests.metrics.synthetic import YEAR, build_store, flow, group_rows, material_rows, merge

DEFINITIONS = {
    name: value
    for name, value in vars(sql).items()
    if name.isupper()
    and not name.startswith("_")
    and isinstance(value, str)
    and value.lstrip().upper().startswith(("SELECT", "WITH"))
}
TARGETS = ("spark", "postgres")


def test_every_definition_is_collected() -> None:
    # a new definition is picked up automatically; these must be among them
    assert {
        "PARTNER_IMPORTS",
        "PARTNER_EXPORTS",
        "INTERNAL_IMPORTS",
        "IMPORT_CONCENTRATION",
        "WORLD_EXPORT_CONCENTRATION",
    } <= set(DEFINITIONS)


@pytest.mark.parametrize("dialect", TARGETS)
@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_transpiles(name: str, dialect: str) -> None:
    text = sql.for_engine(DEFINITIONS[name], dialect)
    assert text.strip()
    # strict: nothing the target does not support, and the output parses in that dialect
    strict = sqlglot.transpile(
        DEFINITIONS[name], read="duckdb", write=dialect, unsupported_level=ErrorLevel.RAISE
    )
    assert len(strict) == 1
    parsed = sqlglot.parse_one(text, read=dialect)
    assert parsed is not None


FLOWS = [
    flow("COD", "CAN", 600, 60),
    flow("CHN", "CAN", 200, 20),
    flow("USA", "CAN", 100, None),  # quantity not reported
    flow("AUS", "CAN", 100, 10),
    flow("FRA", "DEU", 200, 20),
    flow("CHN", "DEU", 400, 40),
    flow("COD", "DEU", 400, 40),
    flow("DEU", "FRA", 100, 10),
    flow("CHN", "FRA", 150, 15),
    flow("CHN", "DEU", 300, 30, year=2022),
]


@pytest.fixture(scope="module")
def sql_store(country_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    groups = {"PAIR": ["DEU", "FRA"], "BLOC": ["CAN", "USA", "DEU", "FRA", "AUS"]}
    tables = merge(material_rows(), group_rows(groups), {"trade_flow": FLOWS})
    return build_store(country_template, tmp_path_factory.mktemp("sql"), tables)


def _run(store: Store, text: str) -> pd.DataFrame:
    with open_relations(store) as relations:
        perspectives = [relations.resolve_perspective(code) for code in ("CAN", "PAIR", "FRA")]
        members = relations.members(perspectives)
        bloc = relations.members([relations.resolve_perspective("BLOC")])
        scope = relations.scope(None, None, None)
        relations.register_trade(members, bloc[["iso3", "from_year", "to_year"]], scope,
                                 [2022, YEAR])  # fmt: skip
        frame: pd.DataFrame = relations.engine.frame(text)
    keys = ["perspective", "year", "scope_key"]
    return frame.sort_values(keys).reset_index(drop=True)


def test_import_concentration_duckdb_round_trip(sql_store: Store) -> None:
    original = _run(sql_store, sql.IMPORT_CONCENTRATION)
    round_trip = _run(sql_store, sql.for_engine(sql.IMPORT_CONCENTRATION, "duckdb"))
    pd.testing.assert_frame_equal(original, round_trip, check_exact=True)
    # three perspectives in 2023, PAIR also in 2022; FRA imports only from DEU and CHN
    assert len(original) == 4
    can = original[(original["perspective"] == "CAN") & (original["year"] == YEAR)].iloc[0]
    assert can["imports_value_usd"] == pytest.approx(1000)
    assert can["imports_quantity_t"] == pytest.approx(90)  # USA's quantity is null
    assert can["import_partner_hhi"] == pytest.approx(0.42)
    assert can["partner_count"] == 4
    pair = original[(original["perspective"] == "PAIR") & (original["year"] == YEAR)].iloc[0]
    # CHN 550, COD 400 from outside; FRA <-> DEU internal
    assert pair["imports_value_usd"] == pytest.approx(950)
    assert pair["outside_bloc_share"] == pytest.approx(1.0)
