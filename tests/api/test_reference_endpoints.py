"""Reference data endpoints on the bundled store: perspectives, groups, materials, products,
countries, a country's profile, sources, health."""

from __future__ import annotations

import pytest

from chainwatch.metrics.series import calc_country_profile
from tests.api.conftest import API, ApiClient
from tests.api.support import bundled_store


def items(client: ApiClient, path: str, **params: object) -> list[dict[str, object]]:
    response = client.get(API + path, params={"page_size": 5000, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    found: list[dict[str, object]] = body["items"]
    return found


def test_health(client: ApiClient) -> None:
    response = client.get(API + "/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["cache-control"] == "no-store"


def test_perspectives_are_countries_and_groups(client: ApiClient) -> None:
    found = {row["code"]: row for row in items(client, "/perspectives")}
    assert found["ALLIED"] == {
        "code": "ALLIED", "kind": "group", "members": 30,
        "name": "Allied core (Canada, EU27, United States, United Kingdom)",
    }  # fmt: skip
    assert found["CAN"]["kind"] == "country" and found["CAN"]["members"] == 1
    assert {"EU27", "NATO", "G7", "USA", "GBR", "CHN"} <= set(found)
    assert "WLD" not in found, "statistical aggregates are not perspectives"


def test_groups_list_their_members_with_years(client: ApiClient) -> None:
    groups = {row["group_id"]: row for row in items(client, "/groups")}
    allied = groups["ALLIED"]
    assert isinstance(allied["members"], list)
    assert allied["member_count"] == len(allied["members"]) == 30
    assert {"CAN", "USA", "GBR", "DEU"} <= {member["iso3"] for member in allied["members"]}
    msp = {member["iso3"]: member for member in groups["MSP"]["members"]}  # type: ignore[attr-defined]
    assert msp["IND"] == {"iso3": "IND", "name": "India", "from_year": 2023, "to_year": None}


def test_materials_carry_list_status_stages_and_codes(client: ApiClient) -> None:
    materials = {row["material"]: row for row in items(client, "/materials")}
    assert len(materials) == 69
    assert materials["cobalt"] == {
        "material": "cobalt", "display_name": "Cobalt", "eu_crma_2024": "strategic",
        "usgs_critical_2022": True, "eol_rir": 0.22, "stages": ["mine", "refinery"],
        "hs6": ["260500", "282200", "810510", "810520"],
    }  # fmt: skip


def test_products_filter_by_material_and_stage(client: ApiClient) -> None:
    cobalt = items(client, "/products", material="cobalt")
    assert {row["hs6"] for row in cobalt} == {"260500", "282200", "810510", "810520"}
    assert {row["material"] for row in cobalt} == {"cobalt"}
    refinery = items(client, "/products", material="cobalt", stage="refinery")
    assert {row["hs6"] for row in refinery} == {"282200", "810510", "810520"}
    every = client.get(API + "/products", params={"page_size": 1}).json()
    assert every["total"] > 5000, "without a filter: the whole HS92 nomenclature"


def test_products_of_an_unknown_material_are_404(client: ApiClient) -> None:
    response = client.get(API + "/products", params={"material": "unobtainium"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "unknown material 'unobtainium'" in response.json()["detail"]


def test_countries(client: ApiClient) -> None:
    countries = {row["iso3"]: row for row in items(client, "/countries")}
    assert countries["CAN"] == {"iso3": "CAN", "name": "Canada", "iso2": "CA", "m49": 124,
                                "kind": "country", "region": "Americas"}  # fmt: skip
    assert countries["WLD"]["kind"] == "aggregate"


def test_country_profile_is_the_service_table(client: ApiClient) -> None:
    response = client.get(API + "/countries/chn", params={"year": 2022, "page_size": 5000})
    assert response.status_code == 200
    body = response.json()
    assert body["country"]["iso3"] == "CHN" and body["year"] == 2022 and body["bloc"] == "ALLIED"
    expected = calc_country_profile(bundled_store(), "CHN", 2022)
    assert body["total"] == len(expected)
    first, top = body["items"][0], expected.iloc[0]
    assert (first["material"], first["stage"]) == (top["material"], top["stage"])
    assert first["exports_to_bloc_usd"] == pytest.approx(top["exports_to_bloc_usd"])
    assert first["share_of_bloc_imports"] == pytest.approx(top["share_of_bloc_imports"])
    exports = [row["exports_to_bloc_usd"] for row in body["items"]]
    assert exports == sorted(exports, reverse=True)


def test_country_profile_defaults_to_the_latest_trade_year(client: ApiClient) -> None:
    body = client.get(API + "/countries/CAN").json()
    assert body["year"] == 2024
    assert {row["year"] for row in body["items"]} == {2024}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/countries/ZZZ", 404),  # unknown country
        ("/countries/MSP", 404),  # a group, not a country
        ("/countries/CAN?year=1990", 404),  # no trade data that year
        ("/countries/CA1", 422),  # not an ISO3 code
        ("/countries/CAN?year=abc", 422),
    ],
)
def test_country_profile_errors(client: ApiClient, path: str, status: int) -> None:
    response = client.get(API + path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_sources_list_provenance(client: ApiClient) -> None:
    sources = {row["source_id"]: row for row in items(client, "/sources")}
    baci = sources["cepii-baci-hs92-v202401b"]
    assert baci["publisher"] == "CEPII" and baci["licence_class"] == "A" and baci["bundled"]
    assert len(sources) == 9
