"""Rules written once, and where a pandas path remains beside the SQL definition, a test that
runs both and compares them: bloc membership in a year, the import structure the monitor
tests (partner HHI, top partner, outside-bloc share) and the production-series choice."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainwatch.metrics import sql
from chainwatch.metrics.membership import calc_member_flags
from chainwatch.metrics.production import choose_production_series
from chainwatch.metrics.series import calc_production_map
from chainwatch.store import Store
from chainwatch.store.relations import open_relations
from chainwatch.watch.signals import calc_import_structure, calc_in_bloc, calc_scope_panel

spans = st.lists(
    st.tuples(st.sampled_from(["CAN", "DEU", "FRA", "GBR"]), st.integers(1990, 2030),
              st.integers(1990, 2030)),
    max_size=8,
)  # fmt: skip
pairs = st.lists(
    st.tuples(st.sampled_from(["CAN", "DEU", "FRA", "GBR", "CHN"]), st.integers(1985, 2035)),
    min_size=1, max_size=20,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(spans=spans, pairs=pairs)
def test_membership_rule_matches_the_sql(
    spans: list[tuple[str, int, int]], pairs: list[tuple[str, int]]
) -> None:
    members = pd.DataFrame(spans, columns=["iso3", "from_year", "to_year"])
    asked = pd.DataFrame(pairs, columns=["iso3", "year"])
    flags = calc_member_flags(members, list(asked["iso3"]), list(asked["year"]))
    con = duckdb.connect()
    con.register("members_frame", members.astype({"from_year": "int64", "to_year": "int64"}))
    con.register("asked", asked.reset_index())
    found = con.execute(
        "SELECT a.index, count(m.iso3) > 0 AS inside FROM asked a LEFT JOIN members_frame m "
        "ON m.iso3 = a.iso3 AND a.year BETWEEN m.from_year AND m.to_year "
        "GROUP BY a.index ORDER BY a.index"
    ).fetchall()
    assert [bool(inside) for _, inside in found] == flags.tolist()


@pytest.mark.slow
def test_monitor_import_structure_matches_the_sql_definition(bundled_store: Store) -> None:
    """The monitor's import structure (pandas, over its partner panel) equals
    IMPORT_CONCENTRATION over the same perspectives, scopes and years."""
    perspectives, years = ("CAN", "EU27"), [2021, 2022, 2023]
    with open_relations(bundled_store) as relations:
        members = relations.members([relations.resolve_perspective(p) for p in perspectives])
        bloc = relations.bloc_members(relations.resolve_perspective("ALLIED"))
        scopes = relations.mapped_scopes()
        relations.register_trade(members, bloc, scopes, years)
        expected = relations.engine.frame(sql.IMPORT_CONCENTRATION)
        codes = relations.traded_codes()
        codes["scope_key"] = codes["hs6"] + "|" + codes["hs_revision"]
        relations.register_trade(members, bloc, codes, years)
        by_code = relations.engine.frame(sql.PARTNER_IMPORTS)
    parts = by_code["scope_key"].str.split("|", n=1, expand=True)
    by_code = by_code.assign(hs6=parts[0], hs_revision=parts[1]).drop(columns="scope_key")
    panel = calc_scope_panel(by_code, scopes, ["perspective", "exporter_iso3"])
    panel["in_bloc"] = calc_in_bloc(panel, bloc)
    structure = calc_import_structure(panel)
    merged = structure.merge(expected, on=["perspective", "scope_key", "year"])
    assert len(merged) == len(structure) > 100
    pd.testing.assert_series_equal(merged["hhi"], merged["import_partner_hhi"], check_names=False,
                                   rtol=1e-12)  # fmt: skip
    pd.testing.assert_series_equal(merged["outside_share"], merged["outside_bloc_share"],
                                   check_names=False, rtol=1e-12)  # fmt: skip
    assert (merged["top_partner_iso3_x"] == merged["top_partner_iso3_y"]).all()
    pd.testing.assert_series_equal(merged["imports_value_usd_x"], merged["imports_value_usd_y"],
                                   check_names=False, rtol=1e-12)  # fmt: skip


@pytest.mark.slow
def test_production_map_uses_the_metric_series(bundled_store: Store) -> None:
    """The dashboard's production map and the metric table choose the same series."""
    for material, stage in (
        ("cobalt", "mine"),
        ("boron", "mine"),
        ("titanium", "mine"),
        ("silicon", "refinery"),
    ):
        shown = calc_production_map(bundled_store, material, stage)
        year = int(shown["year"].iloc[0])
        with open_relations(bundled_store) as relations:
            rows = relations.production([material], [year])
        rows = rows[rows["stage"] == stage]
        series = choose_production_series(rows)
        assert set(shown["product_type"]) == {str(series["product_type"].iloc[0])}
