"""Perspectives (a country, a group as one importer) on a SYNTHETIC store.

The store holds the real country table and hand-made trade flows of one HS6 code (260500,
mapped to "cobalt" at the mine stage) among seven countries. Every flow is synthetic: the
numbers are chosen so that each metric can be checked by hand.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainwatch.errors import QueryError
from chainwatch.metrics import formulas as f
from chainwatch.metrics import trade
from chainwatch.metrics.service import calc_metrics
from chainwatch.store import Store
from chainwatch.store.relations import open_relations
from tests.metrics.synthetic import (
    COUNTRIES,
    YEAR,
    build_store,
    detail,
    flow,
    group_rows,
    material_rows,
    merge,
    metric,
)

approx = pytest.approx

# Synthetic flows of 2023 (value USD; quantity = value / 10 t).
HAND_FLOWS = [
    # into CAN: COD 600, CHN 200, USA 100, AUS 100 = 1 000
    flow("COD", "CAN", 600, 60),
    flow("CHN", "CAN", 200, 20),
    flow("USA", "CAN", 100, 10),
    flow("AUS", "CAN", 100, 10),
    # into DEU: FRA 200 (intra-PAIR), CHN 400, COD 400
    flow("FRA", "DEU", 200, 20),
    flow("CHN", "DEU", 400, 40),
    flow("COD", "DEU", 400, 40),
    # into FRA: DEU 100 (intra-PAIR), CAN 50, CHN 150
    flow("DEU", "FRA", 100, 10),
    flow("CAN", "FRA", 50, 5),
    flow("CHN", "FRA", 150, 15),
    # into USA: CAN 300, AUS 200, FRA 250
    flow("CAN", "USA", 300, 30),
    flow("AUS", "USA", 200, 20),
    flow("FRA", "USA", 250, 25),
    # into CHN: COD 2 000, AUS 950
    flow("COD", "CHN", 2000, 200),
    flow("AUS", "CHN", 950, 95),
    # 2022, while FRA was still a member of PAIR_TV
    flow("FRA", "DEU", 500, 50, year=2022),
    flow("CHN", "DEU", 500, 50, year=2022),
]
HAND_GROUPS: dict[str, list[str | tuple[str, int | None, int | None]]] = {
    "PAIR": ["DEU", "FRA"],  # an EU-like pair: flows between DEU and FRA are internal
    "PAIR_TV": ["DEU", ("FRA", None, 2022)],  # FRA leaves after 2022
    "BLOC": ["CAN", "USA", "DEU", "FRA", "AUS"],  # the allied bloc of these tests
}


@pytest.fixture(scope="module")
def hand_store(country_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    tables = merge(material_rows(), group_rows(HAND_GROUPS), {"trade_flow": HAND_FLOWS})
    return build_store(country_template, tmp_path_factory.mktemp("perspectives"), tables)


def test_country_perspective_hand_checked(hand_store: Store) -> None:
    frame = calc_metrics(hand_store, "CAN", YEAR, bloc="BLOC")
    assert set(frame["perspective"]) == {"CAN"}
    assert set(frame["material"]) == {"cobalt"} and set(frame["stage"]) == {"mine"}
    assert metric(frame, "imports_value_usd") == approx(1000)
    assert metric(frame, "imports_quantity_t") == approx(100)
    # CAN -> USA 300 + CAN -> FRA 50
    assert metric(frame, "exports_value_usd") == approx(350)
    assert metric(frame, "exports_quantity_t") == approx(35)
    assert metric(frame, "net_imports_value_usd") == approx(650)
    # shares COD 0.6, CHN 0.2, USA 0.1, AUS 0.1: 0.36 + 0.04 + 0.01 + 0.01 = 0.42
    assert metric(frame, "import_partner_hhi") == approx(0.42)
    assert detail(frame, "import_partner_hhi") == "top partner COD"
    # 0.6 + 0.2 + 0.1
    assert metric(frame, "import_top3_share") == approx(0.9)
    # COD and CHN are outside BLOC: 0.6 + 0.2
    assert metric(frame, "outside_bloc_share") == approx(0.8)
    assert detail(frame, "outside_bloc_share") == "bloc BLOC"
    # a country has no internal flows: the screen share is the outside-bloc share
    assert metric(frame, "screen_outside_bloc_share_of_total_imports") == approx(0.8)
    # 1000 / 350
    assert metric(frame, "imports_to_exports_ratio") == approx(1000 / 350)
    # HHI 0.42 > 0.4, share 0.8 > 0.5, ratio 2.86 > 1: dependent
    for flag in ("concentrated_suppliers", "outside_bloc_reliance", "net_importer", "dependent"):
        assert metric(frame, f"screen_{flag}") == 1.0


def test_world_export_hhi_hand_checked(hand_store: Store) -> None:
    # exporters in 2023: COD 3000, AUS 1250, CHN 750, FRA 450, CAN 350, USA 100, DEU 100
    # (total 6000): (3000^2 + 1250^2 + 750^2 + 450^2 + 350^2 + 100^2 + 100^2) / 6000^2
    # = 11 470 000 / 36 000 000 = 0.318611...
    for perspective in ("CAN", "PAIR"):
        frame = calc_metrics(hand_store, perspective, YEAR, bloc="BLOC")
        assert metric(frame, "world_export_hhi") == approx(11_470_000 / 36_000_000)


def test_group_perspective_hand_checked(hand_store: Store) -> None:
    frame = calc_metrics(hand_store, "PAIR", YEAR, bloc="BLOC")
    assert set(frame["perspective"]) == {"PAIR"}
    # FRA -> DEU 200 and DEU -> FRA 100 are internal. From outside: CHN 400 + 150,
    # COD 400, CAN 50 = 1 000
    assert metric(frame, "imports_value_usd") == approx(1000)
    assert metric(frame, "imports_quantity_t") == approx(100)
    # only FRA -> USA 250 leaves the pair
    assert metric(frame, "exports_value_usd") == approx(250)
    # shares CHN 0.55, COD 0.4, CAN 0.05: 0.3025 + 0.16 + 0.0025 = 0.465
    assert metric(frame, "import_partner_hhi") == approx(0.465)
    assert detail(frame, "import_partner_hhi") == "top partner CHN"
    assert metric(frame, "import_top3_share") == approx(1.0)
    # CHN + COD outside BLOC: 0.95
    assert metric(frame, "outside_bloc_share") == approx(0.95)
    # the screen divides by all imports including the 300 between members: 950 / 1300
    assert metric(frame, "screen_outside_bloc_share_of_total_imports") == approx(950 / 1300)
    assert metric(frame, "imports_to_exports_ratio") == approx(4.0)
    for flag in ("concentrated_suppliers", "outside_bloc_reliance", "net_importer", "dependent"):
        assert metric(frame, f"screen_{flag}") == 1.0


def test_membership_years_are_respected(hand_store: Store) -> None:
    # 2023: FRA has left PAIR_TV, so FRA -> DEU 200 is an import and DEU -> FRA 100 an export
    frame = calc_metrics(hand_store, "PAIR_TV", YEAR, bloc="BLOC")
    assert metric(frame, "imports_value_usd") == approx(1000)  # FRA 200, CHN 400, COD 400
    assert metric(frame, "exports_value_usd") == approx(100)
    # 0.2^2 + 0.4^2 + 0.4^2 = 0.04 + 0.16 + 0.16 = 0.36
    assert metric(frame, "import_partner_hhi") == approx(0.36)
    # CHN and COD tie at 400: the first by ISO3 leads
    assert detail(frame, "import_partner_hhi") == "top partner CHN"
    assert metric(frame, "outside_bloc_share") == approx(0.8)
    assert metric(frame, "screen_concentrated_suppliers") == 0.0
    assert metric(frame, "screen_dependent") == 0.0
    # 2022: FRA was a member; FRA -> DEU 500 is internal, CHN 500 the only import
    earlier = calc_metrics(hand_store, "PAIR_TV", 2022, bloc="BLOC")
    assert metric(earlier, "imports_value_usd") == approx(500)
    assert metric(earlier, "import_partner_hhi") == approx(1.0)
    # 500 outside / (500 + 500 internal) = 0.5: not above 0.5
    assert metric(earlier, "screen_outside_bloc_share_of_total_imports") == approx(0.5)
    assert metric(earlier, "screen_outside_bloc_reliance") == 0.0


def test_country_without_exports(hand_store: Store) -> None:
    # CHN imports 2 950 (COD 2 000, AUS 950) and exports 750: ratio 2 950 / 750
    frame = calc_metrics(hand_store, "CHN", YEAR, bloc="BLOC")
    assert metric(frame, "imports_to_exports_ratio") == approx(2950 / 750)
    # COD exports only: no imports, so no HHI and no screen flag
    frame = calc_metrics(hand_store, "COD", YEAR, bloc="BLOC")
    assert metric(frame, "imports_value_usd") == 0.0
    assert metric(frame, "import_partner_hhi") is None
    assert metric(frame, "screen_dependent") == 0.0


def test_unknown_perspective_or_year(hand_store: Store) -> None:
    with pytest.raises(QueryError, match="unknown perspective"):
        calc_metrics(hand_store, "NOPE", YEAR, bloc="BLOC")
    with pytest.raises(QueryError, match="unknown perspective"):
        calc_metrics(hand_store, "CAN", YEAR, bloc="NOPE")
    with pytest.raises(QueryError, match="no trade data"):
        calc_metrics(hand_store, "CAN", 1999, bloc="BLOC")


def test_import_trend_ignores_years_without_data(country_template: Path, tmp_path: Path) -> None:
    # synthetic imports of CAN: 100 in 2021, 200 in 2022, 400 in 2023; nothing loaded before.
    # Least squares over 2021-2023: x - mean = -1, 0, 1; y - mean (700/3) = -133.3, -33.3,
    # 166.7: slope (133.3 + 166.7) / 2 = 150 per year. (With 2019 and 2020 read as zero
    # imports the slope would be 100.)
    flows = [
        flow("CHN", "CAN", v, v / 10, year=y) for y, v in ((2021, 100), (2022, 200), (2023, 400))
    ]
    tables = merge(material_rows(), group_rows(HAND_GROUPS), {"trade_flow": flows})
    store = build_store(country_template, tmp_path, tables)
    frame = calc_metrics(store, "CAN", YEAR, bloc="BLOC")
    assert metric(frame, "imports_value_usd_trend_5y") == approx(150.0)


# --- invariants on random synthetic flows ---------------------------------------------------------


def _partner_frame(store: Store, perspective: str, bloc: str, year: int) -> pd.DataFrame:
    """PARTNER_IMPORTS of one perspective, read through the relations calc_metrics builds."""
    with open_relations(store) as relations:
        who = relations.resolve_perspective(perspective)
        members = relations.members([who])
        bloc_members = relations.members([relations.resolve_perspective(bloc)])
        scope = relations.scope(None, None, None)
        relations.register_trade(
            members, bloc_members[["iso3", "from_year", "to_year"]], scope, [year]
        )
        frames = trade.read_trade_frames(relations)
    return frames.partner_imports


pair = st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(COUNTRIES)).filter(
    lambda p: p[0] != p[1]
)
random_flows = st.dictionaries(pair, st.integers(1, 10_000), min_size=1, max_size=20)
country_sets = st.sets(st.sampled_from(COUNTRIES), min_size=1, max_size=5)


@given(
    flows=random_flows,
    group=st.sets(st.sampled_from(COUNTRIES), min_size=1, max_size=4),
    as_country=st.sampled_from([None, *COUNTRIES]),
    bloc=country_sets,
    extra=st.sampled_from(COUNTRIES),
)
@settings(max_examples=20, deadline=None)
def test_perspective_invariants(
    country_template: Path,
    flows: dict[tuple[str, str], int],
    group: set[str],
    as_country: str | None,
    bloc: set[str],
    extra: str,
) -> None:
    """Random SYNTHETIC flows: internal flows are never imports; a larger bloc never raises the
    outside-bloc share; partner shares sum to 1; SQL HHI = formulas.calc_hhi on pandas sums."""
    rows = [flow(e, i, v, v / 10) for (e, i), v in flows.items()]
    groups = {"G": sorted(group), "B": sorted(bloc), "B2": sorted(bloc | {extra})}
    perspective, members = ("G", group) if as_country is None else (as_country, {as_country})
    with tempfile.TemporaryDirectory() as directory:
        tables = merge(material_rows(), group_rows(groups), {"trade_flow": rows})
        store = build_store(country_template, Path(directory), tables)
        small = calc_metrics(store, perspective, YEAR, bloc="B")
        large = calc_metrics(store, perspective, YEAR, bloc="B2")
        partners = _partner_frame(store, perspective, "B", YEAR)

    frame = pd.DataFrame(rows)
    into = frame[frame["importer_iso3"].isin(members)]
    external = into[~into["exporter_iso3"].isin(members)]
    by_partner = external.groupby("exporter_iso3")["value_usd"].sum()
    out_of = frame[frame["exporter_iso3"].isin(members) & ~frame["importer_iso3"].isin(members)]

    # flows between members are never imports (nor exports)
    assert metric(small, "imports_value_usd") == approx(external["value_usd"].sum())
    assert metric(small, "exports_value_usd") == approx(out_of["value_usd"].sum())
    assert not set(partners["exporter_iso3"]) & members
    if by_partner.empty:
        assert metric(small, "import_partner_hhi") is None
        return

    # partner shares (SQL) sum to 1 and match the pandas partner sums
    sql_values = partners.set_index("exporter_iso3")["value_usd"].sort_index()
    assert sql_values.to_dict() == approx(by_partner.sort_index().to_dict())
    assert (sql_values / sql_values.sum()).sum() == approx(1.0)

    # SQL HHI equals formulas.calc_hhi on the pandas partner values, within [1/n, 1]
    shares = f.calc_shares(by_partner.to_numpy())
    hhi = _value(small, "import_partner_hhi")
    assert hhi == approx(f.calc_hhi(shares), rel=1e-9)
    assert 1 / len(shares) - 1e-9 <= hhi <= 1 + 1e-9
    assert metric(small, "import_top3_share") == approx(f.calc_top_k_share(shares, 3))

    # outside-bloc share as defined, and never raised by adding a member to the bloc
    outside = by_partner[~by_partner.index.isin(bloc)].sum() / by_partner.sum()
    assert metric(small, "outside_bloc_share") == approx(outside, abs=1e-12)
    assert _value(large, "outside_bloc_share") <= _value(small, "outside_bloc_share") + 1e-12


def _value(frame: pd.DataFrame, name: str) -> float:
    value = metric(frame, name)
    assert value is not None
    return value
