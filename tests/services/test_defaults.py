"""The one default-year rule and the first screen's bloc rule (services.defaults): every
adapter that takes a default year gets the same one, and a group is never measured against
itself."""

from __future__ import annotations

import pytest

from chainwatch import python_api
from chainwatch.ingest.pipeline import ingest_file
from chainwatch.services import defaults, metrics, reference
from chainwatch.store import Store
from tests.api.support import bundled_store
from tests.conftest import FIXTURES


def test_default_year_is_the_latest_year_with_trade_and_production() -> None:
    store = bundled_store()
    with store.connect() as con:
        trade = {int(y) for (y,) in con.execute("SELECT DISTINCT year FROM trade_flow").fetchall()}
        production = {
            int(y) for (y,) in con.execute("SELECT DISTINCT year FROM production").fetchall()
        }
    expected = max(trade & production)
    assert defaults.default_year(store) == expected
    assert expected < max(trade), "the bundle has trade without production in its last year"
    assert reference.latest_trade_year(store) == max(trade) != defaults.default_year(store)


def test_every_adapter_takes_the_one_rule() -> None:
    store = bundled_store()
    year = defaults.default_year(store)
    assert reference.default_year(store) == year  # JSON API risk table, pages
    assert metrics.default_risk_year(store) == year  # CLI (metrics, risk, start)
    frame = python_api.dependency_metrics("CAN", material="cobalt", store=store.path)
    assert set(frame["year"]) == {year}


def test_without_production_the_default_is_the_latest_trade_year(store: Store) -> None:
    assert defaults.default_year(store) == 0  # countries only: no trade at all
    ingest_file(store, "baci", FIXTURES / "baci" / "release")
    assert defaults.default_year(store) == reference.latest_trade_year(store) == 2022


@pytest.mark.parametrize(
    ("perspective", "requested", "bloc", "replaced"),
    [
        ("CAN", None, "ALLIED", False),
        ("EU27", None, "ALLIED", False),
        ("EU27", "NATO", "NATO", False),
        ("ALLIED", None, "OECD", True),  # the first screen
        ("ALLIED", "ALLIED", "OECD", True),
        ("allied", "Allied", "OECD", True),
        ("EU27", "EU27", "OECD", True),
        ("OECD", "OECD", "ALLIED", True),  # no wider group: the allied core
        ("ALLIED", "NATO", "NATO", False),
    ],
)
def test_a_group_is_never_its_own_bloc(
    perspective: str, requested: str | None, bloc: str, replaced: bool
) -> None:
    choice = defaults.choose_bloc(perspective, requested)
    assert choice.code == bloc
    assert choice.requested == requested
    assert choice.replaced is replaced
    assert choice.code.upper() != perspective.upper()
    if replaced:
        assert choice.note is not None
        assert f"measured against {bloc}" in choice.note and "100 %" in choice.note


def test_the_first_screen_default_is_informative() -> None:
    """Perspective ALLIED against its own bloc: outside-bloc share is 1 on every row with
    imports; against the bloc the rule picks (OECD), it varies and is mostly below 1."""
    store, year = bundled_store(), 2023
    assert defaults.DEFAULT_PERSPECTIVE == "ALLIED"
    chosen = defaults.choose_bloc(defaults.DEFAULT_PERSPECTIVE).code
    frame = metrics.dependency_metrics(store, "ALLIED", year, "cobalt", bloc="ALLIED")
    own = frame[frame["metric"] == "outside_bloc_share"]["value"].dropna()
    frame = metrics.dependency_metrics(store, "ALLIED", year, "cobalt", bloc=chosen)
    wider = frame[frame["metric"] == "outside_bloc_share"]["value"].dropna()
    assert len(own) and list(own) == pytest.approx([1.0] * len(own))
    assert len(wider) and (wider < 0.99).all()
