"""/series/imports, /series/production and /series/concentration on the bundled store."""

from __future__ import annotations

from collections import defaultdict

import pytest

from chainwatch.metrics.series import calc_import_sources, calc_production_map
from chainwatch.metrics.service import calc_metrics
from tests.api.conftest import API, ApiClient
from tests.api.support import bundled_store


def test_imports_by_supplier_are_the_service_table(client: ApiClient) -> None:
    params = {"perspective": "CAN", "material": "cobalt", "year": [2022, 2023], "page_size": 5000}
    items = client.get(API + "/series/imports", params=params).json()["items"]
    expected = calc_import_sources(bundled_store(), "CAN", "cobalt", years=[2022, 2023])
    assert len(items) == len(expected) > 0
    assert [row["exporter_iso3"] for row in items] == list(expected["exporter_iso3"])
    assert {row["year"] for row in items} == {2022, 2023}
    shares: dict[tuple[int, str], float] = defaultdict(float)
    for row in items:
        shares[(row["year"], row["stage"])] += row["share"]
    assert all(total == pytest.approx(1.0) for total in shares.values())
    assert {row["in_bloc"] for row in items} == {True, False}


def test_imports_of_one_hs6_code(client: ApiClient) -> None:
    params = {"perspective": "EU27", "hs6": "282200", "year": 2023}
    items = client.get(API + "/series/imports", params=params).json()["items"]
    assert items and {row["stage"] for row in items} == {"282200"}


def test_imports_for_years_without_trade_data_are_404(client: ApiClient) -> None:
    params = {"perspective": "CAN", "material": "cobalt", "year": 1990}
    response = client.get(API + "/series/imports", params=params)
    assert response.status_code == 404
    assert "no trade data for [1990]" in response.json()["detail"]


def test_production_map_is_the_service_table(client: ApiClient) -> None:
    params = {"material": "cobalt", "stage": "mine"}
    items = client.get(API + "/series/production", params=params).json()["items"]
    expected = calc_production_map(bundled_store(), "cobalt", "mine")
    assert [row["country_iso3"] for row in items] == list(expected["country_iso3"])
    assert items[0]["country_iso3"] == "COD"
    assert items[0]["share"] == pytest.approx(float(expected["share"].iloc[0]))
    assert items[0]["method_id"] == "concentration.production_hhi"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"material": "unobtainium", "stage": "mine"}, 404),
        ({"material": "cobalt", "stage": "component"}, 404),  # no production figures
        ({"material": "cobalt", "stage": "mine", "year": 1990}, 404),
        ({"material": "cobalt"}, 422),  # stage is required
        ({"material": "cobalt", "stage": "core"}, 422),
    ],
)
def test_production_errors(client: ApiClient, params: dict[str, object], status: int) -> None:
    response = client.get(API + "/series/production", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_concentration_series_matches_the_metric_table(client: ApiClient) -> None:
    params = {"perspective": "ALLIED", "material": "cobalt", "stage": "refinery",
              "from_year": 2019, "to_year": 2023}  # fmt: skip
    items = client.get(API + "/series/concentration", params=params).json()["items"]
    assert [row["year"] for row in items] == [2019, 2020, 2021, 2022, 2023]
    tidy = calc_metrics(bundled_store(), "ALLIED", range(2019, 2024), "cobalt", stage="refinery")
    for row in items:
        for metric in ("import_partner_hhi", "outside_bloc_share", "production_hhi",
                       "eu_supply_risk"):  # fmt: skip
            value = tidy[(tidy["year"] == row["year"]) & (tidy["metric"] == metric)]["value"]
            if value.isna().all():  # not computed, or no figure: null
                assert row[metric] is None, (row["year"], metric)
            else:
                assert row[metric] == pytest.approx(float(value.iloc[0])), (row["year"], metric)
        assert "CEPII BACI" in row["sources"]


def test_concentration_defaults_to_every_trade_year_and_all_stages(client: ApiClient) -> None:
    params = {"perspective": "CAN", "material": "cobalt", "page_size": 5000}
    items = client.get(API + "/series/concentration", params=params).json()["items"]
    assert {row["year"] for row in items} == set(range(1995, 2025))
    assert {row["stage"] for row in items} == {"mine", "refinery"}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"perspective": "CAN", "material": "cobalt", "from_year": 2023, "to_year": 2019}, 404),
        ({"perspective": "CAN", "material": "cobalt", "from_year": 1900, "to_year": 1990}, 404),
        ({"perspective": "ATLANTIS", "material": "cobalt"}, 404),
        ({"perspective": "CAN"}, 422),  # material is required
        ({"perspective": "CAN", "material": "cobalt", "from_year": 1800}, 422),
    ],
)
def test_concentration_errors(client: ApiClient, params: dict[str, object], status: int) -> None:
    response = client.get(API + "/series/concentration", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
