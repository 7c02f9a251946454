"""/metrics and /risk on the bundled store: the service tables, tidy and wide, and their errors."""

from __future__ import annotations

import math

import pytest

from chainwatch.metrics.risk import calc_risk_table
from chainwatch.metrics.service import calc_metrics
from chainwatch.store.queries import default_risk_year
from tests.api.conftest import API, ApiClient
from tests.api.support import bundled_store


def same(left: object, right: object) -> bool:
    """Equal, treating null and NaN alike; floats to 1e-12 (DuckDB's parallel sums may differ
    in the last bit between two computations)."""

    def missing(value: object) -> bool:
        return value is None or (isinstance(value, float) and math.isnan(value))

    if missing(left) or missing(right):
        return missing(left) and missing(right)
    if isinstance(left, float) and isinstance(right, int | float):
        return math.isclose(left, right, rel_tol=1e-12)
    return left == right


def test_metrics_are_the_service_table(client: ApiClient) -> None:
    params = {"perspective": "CAN", "material": "cobalt", "year": 2023, "page_size": 5000}
    body = client.get(API + "/metrics", params=params).json()
    expected = calc_metrics(bundled_store(), "CAN", 2023, "cobalt")
    assert body["total"] == len(expected) == len(body["items"])
    for item, (_, row) in zip(body["items"], expected.iterrows(), strict=True):
        for column in expected.columns:
            assert same(row[column], item[column]), (column, row[column], item[column])
    metrics = {item["metric"] for item in body["items"]}
    assert {"import_partner_hhi", "outside_bloc_share", "production_hhi"} <= metrics


def test_metrics_take_repeated_years_stage_and_bloc(client: ApiClient) -> None:
    params = [
        ("perspective", "EU27"), ("material", "lithium"), ("stage", "refinery"),
        ("year", "2019"), ("year", "2023"), ("bloc", "NATO"), ("page_size", "5000"),
    ]  # fmt: skip
    items = client.get(API + "/metrics", params=params).json()["items"]
    assert {item["year"] for item in items} == {2019, 2023}
    assert {item["stage"] for item in items} == {"refinery"}
    outside = [item for item in items if item["metric"] == "outside_bloc_share"]
    assert {item["detail"] for item in outside} == {"bloc NATO"}


def test_metrics_for_one_hs6_code(client: ApiClient) -> None:
    params = {"perspective": "USA", "hs6": "282200", "year": 2014, "page_size": 5000}
    items = client.get(API + "/metrics", params=params).json()["items"]
    assert items and {item["scope"] for item in items} == {"282200"}


def test_wide_metrics_have_one_row_per_year_and_scope(client: ApiClient) -> None:
    params = {"perspective": "CAN", "material": "cobalt", "year": [2022, 2023], "page_size": 5000}
    tidy = client.get(API + "/metrics", params=params).json()["items"]
    wide = client.get(API + "/metrics", params={**params, "wide": "true"}).json()["items"]
    assert {(row["year"], row["scope"]) for row in wide} == {
        (row["year"], row["scope"]) for row in tidy
    }
    assert len(wide) == 4  # 2 years x (cobalt|mine, cobalt|refinery)
    by_key = {(row["year"], row["scope"]): row for row in wide}
    for row in tidy:
        assert same(row["value"], by_key[(row["year"], row["scope"])][row["metric"]])


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"perspective": "ATLANTIS"}, 404, "unknown perspective 'ATLANTIS'"),
        ({"perspective": "CAN", "material": "unobtainium"}, 404, "unknown material"),
        ({"perspective": "CAN", "bloc": "NOWHERE"}, 404, "unknown perspective 'NOWHERE'"),
        ({"perspective": "CAN", "hs6": "123456"}, 404, "unknown HS6 code"),
        ({"perspective": "CAN", "material": "cobalt", "year": 1990}, 404, "no trade data"),
        ({"perspective": "CAN", "hs6": "26050"}, 422, "query.hs6"),
        ({"perspective": "CAN", "stage": "core"}, 422, "query.stage"),
        ({"perspective": "CAN", "year": "twenty"}, 422, "query.year"),
        ({"perspective": "CAN", "wide": "maybe"}, 422, "query.wide"),
        ({"perspective": ""}, 422, "query.perspective"),
        ({}, 422, "query.perspective"),
    ],
)
def test_metrics_errors_are_problems(
    client: ApiClient, params: dict[str, object], status: int, says: str
) -> None:
    response = client.get(API + "/metrics", params=params)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["instance"] == "/api/v1/metrics"
    assert says in problem["detail"]


def test_risk_is_the_ranked_service_table(client: ApiClient) -> None:
    body = client.get(API + "/risk", params={"perspective": "ALLIED", "page_size": 5000}).json()
    year = default_risk_year(bundled_store())
    expected = calc_risk_table(bundled_store(), "ALLIED", year)
    assert body["total"] == len(expected)
    assert [item["material"] for item in body["items"]] == list(expected["material"])
    assert [item["rank"] for item in body["items"]] == list(range(1, len(expected) + 1))
    assert {item["year"] for item in body["items"]} == {year}
    first = body["items"][0]
    assert same(first["eu_supply_risk"], float(expected["eu_supply_risk"].iloc[0]))
    assert body["method_ids"] == expected.attrs["provenance"]["method_ids"]
    assert any("BACI" in source for source in body["sources"])


def test_risk_of_an_unknown_perspective_is_404(client: ApiClient) -> None:
    response = client.get(API + "/risk", params={"perspective": "ATLANTIS"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
