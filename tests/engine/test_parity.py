"""Every definition gives the same answer on DuckDB and on Spark (local mode), on the bundled
real data: the definitions in metrics/sql.py one by one, then the services built on them (the
metric table, the risk table, every importer at once, the series, the monitor's inputs)."""

from __future__ import annotations

import pandas as pd
import pytest

from chainwatch.metrics import sql
from chainwatch.metrics.all_importers import calc_all_importers
from chainwatch.metrics.risk import calc_risk_table
from chainwatch.metrics.series import calc_country_profile, calc_import_sources, calc_production_map
from chainwatch.metrics.service import calc_metrics
from chainwatch.store.engine import Engine
from chainwatch.store.relations import Relations
from chainwatch.watch.inputs import read_watch_inputs
from chainwatch.watch.monitor import Monitor
from tests.engine.equality import assert_metric_tables_equal

DEFINITIONS = {
    name: value
    for name, value in vars(sql).items()
    if name.isupper()
    and isinstance(value, str)
    and value.lstrip().upper().startswith(("SELECT", "WITH"))
}
PERSPECTIVES = ("CAN", "EU27", "ALLIED")
YEARS = (2022, 2023)


def _register(relations: Relations) -> None:
    members = relations.members([relations.resolve_perspective(p) for p in PERSPECTIVES])
    bloc = relations.bloc_members(relations.resolve_perspective("ALLIED"))
    relations.register_trade(members, bloc, relations.scope(None, None, None), YEARS)


def test_every_definition_is_in_the_suite() -> None:
    assert {"IMPORT_CONCENTRATION", "PARTNER_IMPORTS", "PARTNER_EXPORTS", "INTERNAL_IMPORTS",
            "WORLD_EXPORT_CONCENTRATION", "EXPORT_TOTALS", "COVERED_SCOPES", "IMPORT_SOURCES",
            "COUNTRY_PROFILE"} <= set(DEFINITIONS)  # fmt: skip


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_definition_parity(name: str, engines: tuple[Engine, Engine]) -> None:
    answers = []
    for engine in engines:
        relations = Relations(engine)
        _register(relations)
        params = {"country": "CHN"} if ":country" in DEFINITIONS[name] else None
        answers.append(engine.frame(DEFINITIONS[name], params))
    assert len(answers[0]) > 0, f"{name} returned nothing on the bundled data"
    assert_metric_tables_equal(*answers)


def test_metric_table_parity(engines: tuple[Engine, Engine]) -> None:
    tables = [calc_metrics(Relations(engine), "EU27", [2019, 2023]) for engine in engines]
    assert len(tables[0]) > 1000
    assert_metric_tables_equal(*tables, keys=["perspective", "year", "scope", "metric"])


def test_metric_table_of_one_code_parity(engines: tuple[Engine, Engine]) -> None:
    tables = [calc_metrics(Relations(engine), "USA", 2014, hs6="260400") for engine in engines]
    assert_metric_tables_equal(*tables, keys=["perspective", "year", "scope", "metric"])


def test_risk_table_parity(engines: tuple[Engine, Engine]) -> None:
    tables = [calc_risk_table(Relations(engine), "CAN", 2023) for engine in engines]  # type: ignore[arg-type]
    assert len(tables[0]) > 40
    assert_metric_tables_equal(*tables, keys=["rank"])


def test_all_importers_parity(engines: tuple[Engine, Engine]) -> None:
    metrics = ("geopolrisk_score", "geopolrisk_cf", "import_partner_hhi", "outside_bloc_share")
    tables = [calc_all_importers(Relations(engine), 2022, metrics) for engine in engines]
    assert tables[0]["perspective"].nunique() > 200
    assert_metric_tables_equal(*tables, keys=["perspective", "year", "scope", "metric"])


def test_series_parity(engines: tuple[Engine, Engine]) -> None:
    imports = [calc_import_sources(Relations(e), "USA", "graphite", years=[2020, 2021])
               for e in engines]  # fmt: skip
    assert_metric_tables_equal(*imports, keys=["year", "stage", "exporter_iso3"])
    profiles = [calc_country_profile(Relations(e), "CHN", 2022) for e in engines]
    assert_metric_tables_equal(*profiles, keys=["material", "stage"])
    maps = [calc_production_map(Relations(e), "cobalt", "mine") for e in engines]
    assert_metric_tables_equal(*maps, keys=["country_iso3"])


def test_monitor_parity(engines: tuple[Engine, Engine]) -> None:
    """The monitor's inputs read on either engine give the same alerts."""
    inputs = [read_watch_inputs(Relations(e), 2014, ["CAN"]) for e in engines]
    for field in ("exports", "imports", "production", "scopes", "events"):
        left, right = getattr(inputs[0], field), getattr(inputs[1], field)
        if field == "events":
            left = left.drop(columns=["hs6_codes"]).astype(str)
            right = right.drop(columns=["hs6_codes"]).astype(str)
        assert_metric_tables_equal(left, right)
    alerts = [pd.DataFrame([a.__dict__ for a in Monitor(i).alerts(2014)]) for i in inputs]
    assert len(alerts[0]) > 0
    assert alerts[0].astype(str).equals(alerts[1].astype(str))
