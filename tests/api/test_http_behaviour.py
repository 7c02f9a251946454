"""What every table endpoint shares: pagination, CSV downloads, ETag/304, problem+json errors,
the OpenAPI description and the self-hosted docs page."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from fastapi import FastAPI

from chainwatch.api.parameters import MAX_PAGE_SIZE
from chainwatch.ingest.reference_lists import parse_user_group
from chainwatch.store import Store
from chainwatch.store.load import load_parsed
from tests.api.conftest import API, ApiClient

TABLES = [
    "/perspectives", "/groups", "/materials", "/products?material=lithium", "/countries",
    "/countries/CAN?year=2023", "/sources", "/metrics?perspective=CAN&material=cobalt",
    "/metrics?perspective=CAN&material=cobalt&wide=true", "/risk?perspective=CAN&year=2023",
    "/series/imports?perspective=CAN&material=cobalt&year=2023",
    "/series/production?material=lithium&stage=mine",
    "/series/concentration?perspective=CAN&material=cobalt&from_year=2020",
]  # fmt: skip


def with_params(path: str, **params: object) -> str:
    joiner = "&" if "?" in path else "?"
    return API + path + joiner + "&".join(f"{key}={value}" for key, value in params.items())


@pytest.mark.parametrize("path", TABLES)
def test_pages_partition_the_list(client: ApiClient, path: str) -> None:
    whole = client.get(with_params(path, page_size=MAX_PAGE_SIZE)).json()
    total = whole["total"]
    assert total == len(whole["items"]) > 0
    size = max(1, total // 3)
    pages = []
    for number in range(1, total // size + 2):
        page = client.get(with_params(path, page=number, page_size=size)).json()
        assert (page["page"], page["page_size"], page["total"]) == (number, size, total)
        pages.extend(page["items"])
    assert pages == whole["items"]


def test_a_page_past_the_end_is_empty(client: ApiClient) -> None:
    body = client.get(API + "/materials?page=99&page_size=10").json()
    assert body == {"items": [], "page": 99, "page_size": 10, "total": 69}


def test_default_page_size(client: ApiClient) -> None:
    body = client.get(API + "/countries").json()
    assert (body["page"], body["page_size"], len(body["items"])) == (1, 100, 100)


@pytest.mark.parametrize(
    "query", ["page=0", "page=-1", f"page_size={MAX_PAGE_SIZE + 1}", "page_size=0", "page=x",
              "format=xml"],
)  # fmt: skip
def test_bad_paging_or_format_is_422(client: ApiClient, query: str) -> None:
    response = client.get(API + "/materials?" + query)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Invalid request"


@pytest.mark.parametrize("path", TABLES)
def test_csv_is_the_whole_table_as_a_download(client: ApiClient, path: str) -> None:
    whole = client.get(with_params(path, page_size=MAX_PAGE_SIZE)).json()
    response = client.get(with_params(path, format="csv", page_size=1))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="chainwatch-[a-z-]+\.csv"', disposition)
    records = list(csv.DictReader(io.StringIO(response.text)))
    assert len(records) >= whole["total"], "every row, not one page"


def test_csv_columns_are_the_json_fields(client: ApiClient) -> None:
    path = "/metrics?perspective=CAN&material=cobalt&year=2023"
    item = client.get(with_params(path)).json()["items"][0]
    header = client.get(with_params(path, format="csv")).text.splitlines()[0]
    assert header.split(",") == list(item)


def test_csv_joins_lists(client: ApiClient) -> None:
    records = list(csv.DictReader(io.StringIO(client.get(API + "/materials?format=csv").text)))
    cobalt = next(row for row in records if row["material"] == "cobalt")
    assert cobalt["stages"] == "mine;refinery"
    assert cobalt["hs6"] == "260500;282200;810510;810520"


def test_groups_csv_has_one_row_per_member(client: ApiClient) -> None:
    records = list(csv.DictReader(io.StringIO(client.get(API + "/groups?format=csv").text)))
    allied = [row for row in records if row["group_id"] == "ALLIED"]
    assert len(allied) == 30 and {"CAN", "USA"} <= {row["member_iso3"] for row in allied}


def test_empty_csv_has_its_header(client: ApiClient) -> None:
    response = client.get(API + "/countries/ATA?format=csv")  # Antarctica trades nothing
    assert response.status_code == 200
    assert response.text.splitlines() == [
        "country_iso3,year,material,stage,exports_to_bloc_usd,share_of_bloc_imports,exports_usd,"
        "imports_usd,bloc_external_imports_usd,method_id,method_version,sources"
    ]


@pytest.mark.parametrize("path", TABLES)
def test_strong_etag_and_304(client: ApiClient, path: str) -> None:
    first = client.get(with_params(path))
    tag = first.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"'), "a strong validator"
    assert first.headers["cache-control"] == "public, max-age=60"
    assert client.get(with_params(path)).headers["etag"] == tag, "stable"
    for sent in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        again = client.get(with_params(path), headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["etag"] == tag and "cache-control" in again.headers
    changed = client.get(with_params(path), headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_each_representation_has_its_own_etag(client: ApiClient) -> None:
    tags = {
        client.get(API + query).headers["etag"]
        for query in ("/materials", "/materials?page=2&page_size=10",
                      "/materials?page_size=10", "/materials?format=csv")
    }  # fmt: skip
    assert len(tags) == 4


def test_a_store_change_invalidates_cached_tables(
    fresh_app: tuple[FastAPI, ApiClient],
) -> None:
    app, client = fresh_app
    before = client.get(API + "/perspectives?page_size=1")
    store: Store = app.state.store
    with store.writing() as con:
        load_parsed(con, parse_user_group("NORDIC", "Nordic", ["DNK", "FIN", "ISL", "NOR", "SWE"]))
    after = client.get(API + "/perspectives?page_size=1")
    assert after.json()["total"] == before.json()["total"] + 1
    assert after.headers["etag"] != before.headers["etag"]
    stale = client.get(
        API + "/perspectives?page_size=1", headers={"If-None-Match": before.headers["etag"]}
    )
    assert stale.status_code == 200
    assert client.get(API + "/metrics?perspective=NORDIC&material=cobalt").status_code == 200


def test_a_missing_store_is_503(fresh_app: tuple[FastAPI, ApiClient]) -> None:
    app, client = fresh_app
    Path(app.state.store.path).unlink()
    for path in ("/health", "/materials", "/metrics?perspective=CAN"):
        response = client.get(API + path)
        assert response.status_code == 503, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["title"] == "Store unavailable"


def test_unknown_paths_and_methods_are_problems(client: ApiClient) -> None:
    missing = client.get(API + "/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = client.request("POST", API + "/materials")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"
    assert wrong_method.headers["allow"] == "GET"


def test_openapi_documents_every_status(client: ApiClient) -> None:
    schema = client.get(API + "/openapi.json").json()
    operations = {path: item["get"] for path, item in schema["paths"].items()}
    assert set(operations) == {
        API + path for path in (
            "/health", "/perspectives", "/groups", "/materials", "/products", "/countries",
            "/countries/{iso3}", "/sources", "/metrics", "/risk", "/series/imports",
            "/series/production", "/series/concentration", "/alerts", "/alerts/backtest",
            "/alerts/feed.atom", "/partnerships", "/partnerships/{partnership_id}",
            "/partnerships/coverage", "/partnerships/themes", "/texts",
        )
    }  # fmt: skip
    for path, operation in operations.items():
        responses = operation["responses"]
        assert {"200", "503"} <= set(responses), path
        for status, response in responses.items():
            if status[0] in "45":
                assert set(response["content"]) == {"application/problem+json"}, (path, status)
        if path != API + "/health":
            assert {"304", "422"} <= set(responses), path
            media_types = (
                {"application/atom+xml"}
                if path == API + "/alerts/feed.atom"
                else {"application/json", "text/csv"}
            )
            assert set(responses["200"]["content"]) == media_types, path
            assert {"ETag", "Cache-Control"} <= set(responses["200"]["headers"]), path
        for parameter in operation.get("parameters", []):
            assert "null" not in str(parameter["schema"]), (path, parameter["name"])
    for path in ("/metrics", "/risk", "/products", "/countries/{iso3}", "/series/imports"):
        assert "404" in operations[API + path]["responses"], path
    assert schema["paths"][API + "/metrics"]["get"]["operationId"] == "metrics"


def test_docs_page_is_self_hosted(client: ApiClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/api/static/swagger/swagger-ui-bundle.js" in page.text
    assert "/api/static/swagger/swagger-ui.css" in page.text
    assert "/api/v1/openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text, "nothing from a CDN"
    for asset, media_type in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "css"),
                              ("favicon-32x32.png", "image/png"), ("LICENSE", "")):  # fmt: skip
        response = client.get("/api/static/swagger/" + asset)
        assert response.status_code == 200, asset
        assert media_type in response.headers["content-type"], asset
