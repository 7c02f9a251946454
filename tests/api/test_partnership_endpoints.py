"""/api/v1/partnerships, /partnerships/{id}, /partnerships/coverage, /partnerships/themes and
/texts over the bundled store, with the two real example texts added to its app database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from chainwatch.partnerships.service import add_text_files
from chainwatch.store.text_store import delete_text, read_texts
from tests.api.conftest import API, ApiClient

EXAMPLES = Path(__file__).parents[2] / "examples" / "partnership_texts"


@pytest.fixture(scope="module", autouse=True)
def example_texts(app: FastAPI) -> None:
    add_text_files(app.state.app_state, sorted(EXAMPLES.glob("*.txt")), actor="test")


def test_list_with_filters_and_csv(client: ApiClient) -> None:
    body = client.get(f"{API}/partnerships").json()
    assert body["total"] == 5 and body["method"] == "docs/partnerships.md"
    digital = next(i for i in body["items"] if i["name"] == "EU-Canada Digital Partnership")
    assert digital["instrument"] == "partnership" and digital["status"] == "concluded"
    assert digital["linked_materials"]["semiconductors"][0] == "named"
    assert len(digital["commitments"]) == 13
    themed = client.get(f"{API}/partnerships", params={"theme": "defence_security"}).json()
    assert {i["name"] for i in themed["items"]} == {
        "Industrial Policy Dialogue", "Security and Defence Partnership"}  # fmt: skip
    assert client.get(f"{API}/partnerships", params={"party": "JPN"}).json()["total"] == 0
    csv = client.get(f"{API}/partnerships", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.splitlines()) == 6


def test_one_record_and_unknown_ids(client: ApiClient) -> None:
    page = client.get(f"{API}/partnerships/can-eu27-dialogue-industrial-policy").json()
    body = page["partnership"]
    assert body["name"] == "Industrial Policy Dialogue"
    assert body["sources"] == ["eu_canada_industrial_policy_dialogue.txt"]
    assert body["theme_labels"]["critical_minerals"] == "Critical minerals"
    assert page["total"] == 2 and page["items"] == body["commitments"]
    csv = client.get(f"{API}/partnerships/can-eu27-dialogue-industrial-policy?format=csv")
    assert csv.text.splitlines()[0].startswith("modality,kinds,actors")
    missing = client.get(f"{API}/partnerships/no-such-id")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.get(f"{API}/partnerships/Bad Id!").status_code == 422


def test_coverage_of_a_perspective(client: ApiClient) -> None:
    body = client.get(f"{API}/partnerships/coverage", params={"perspective": "CAN", "top": 10})
    assert body.status_code == 200, body.text
    page = body.json()
    assert page["perspective"] == "CAN" and page["year"] == 2023 and page["total"] == 10
    assert [row["rank"] for row in page["items"]] == list(range(1, 11))
    assert {"theme", "none"} <= {row["coverage"] for row in page["items"]}
    unknown = client.get(f"{API}/partnerships/coverage", params={"perspective": "XXX"})
    assert unknown.status_code == 404


def test_themes_and_texts(client: ApiClient) -> None:
    themes = client.get(f"{API}/partnerships/themes").json()
    assert {"critical_minerals", "batteries_evs", "semiconductors"} <= {
        row["theme"] for row in themes["items"]}  # fmt: skip
    texts = client.get(f"{API}/texts").json()
    assert sorted(t["name"] for t in texts["items"]) == [
        "eu_canada_digital_partnership.txt",
        "eu_canada_industrial_policy_dialogue.txt",
    ]


def test_records_follow_the_texts(client: ApiClient, app: FastAPI) -> None:
    state = app.state.app_state
    before = client.get(f"{API}/partnerships").json()["total"]
    industrial = next(t for t in read_texts(state) if "industrial" in t.name)
    delete_text(state, industrial.id)
    try:
        assert client.get(f"{API}/partnerships").json()["total"] == before - 3
    finally:
        add_text_files(state, [EXAMPLES / industrial.name], actor="test")
    assert client.get(f"{API}/partnerships").json()["total"] == before
