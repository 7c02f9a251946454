"""Security headers on every response, the Host check, and no local paths in any answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI

from chainwatch.api.middleware import (
    ALLOWED_HOSTS_ENV,
    allowed_hosts,
    content_security_policy,
    host_name,
    inline_scripts,
)
from chainwatch.services.redaction import without_local_paths
from tests.api.conftest import API, ApiClient

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "chainwatch" / "ui" / "templates"
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
RESPONSES = [
    ("GET", API + "/materials", 200),
    ("GET", API + "/materials?format=csv", 200),
    ("GET", API + "/health", 200),
    ("GET", API + "/nothing-here", 404),
    ("GET", API + "/materials?page=0", 422),
    ("POST", API + "/materials", 405),
    ("GET", API + "/metrics?perspective=XYZ&material=cobalt", 404),
    ("GET", API + "/openapi.json", 200),
    ("GET", "/api/docs", 200),
    ("GET", "/api/static/swagger/swagger-ui.css", 200),
    ("GET", "/static/chainwatch.js", 200),
    ("GET", "/static/nothing.js", 404),
    ("GET", "/sources", 200),
    ("GET", "/country/ZZZ", 404),
]


def assert_secured(headers: Any) -> None:
    for name, value in SECURITY.items():
        assert headers[name] == value, name
    policy = headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    script_sources = re.search(r"script-src ([^;]*)", policy)
    assert script_sources and "'unsafe-inline'" not in script_sources.group(1)
    assert "'unsafe-eval'" not in policy


@pytest.mark.parametrize(("method", "path", "status"), RESPONSES)
def test_every_response_carries_the_security_headers(
    client: ApiClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert_secured(response.headers)


def test_a_304_and_a_bad_host_carry_them_too(client: ApiClient) -> None:
    tag = client.get(API + "/materials").headers["etag"]
    not_modified = client.get(API + "/materials", headers={"If-None-Match": tag})
    assert not_modified.status_code == 304
    assert_secured(not_modified.headers)
    assert_secured(client.get(API + "/materials", headers={"Host": "evil.example"}).headers)


def test_an_unexpected_error_is_a_secured_500(
    fresh_app: tuple[FastAPI, ApiClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = fresh_app

    def broken(*args: object) -> None:
        raise RuntimeError("a bug at /home/someone/chainwatch/x.py")

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as ours:
            return await ours.get(API + "/sources")

    monkeypatch.setattr("chainwatch.services.reference.sources", broken)
    response = anyio.run(ask)
    assert response.status_code == 500
    assert response.json()["detail"] == "RuntimeError", "no message, no path"
    assert_secured(response.headers)


def assert_allowed_by_the_policy(html: str, where: str) -> None:
    """No inline script or event-handler attribute (the policy blocks them), every script and
    stylesheet from this server."""
    assert inline_scripts(html) == [], f"{where}: inline scripts are blocked by the policy"
    assert not re.search(r"\son[a-z]+\s*=", html), f"{where}: event handlers are blocked"
    assert "javascript:" not in html, where
    for source in re.findall(r"""<(?:script|link)[^>]*(?:src|href)="([^"]+)\"""", html):
        assert source.startswith("/"), (where, source)


@pytest.mark.parametrize("path", ["/materials", "/countries", "/sources", "/material/cobalt",
                                  "/country/CAN"])  # fmt: skip
def test_pages_work_under_the_policy(client: ApiClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200, path
    assert_allowed_by_the_policy(page.text, path)


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_work_under_the_policy(template: Path) -> None:
    """Every page's template, the heavy ones (overview, alerts) included."""
    assert_allowed_by_the_policy(template.read_text(encoding="utf-8"), template.name)


def test_the_docs_page_script_is_allowed_by_its_hash(client: ApiClient) -> None:
    page = client.get("/api/docs")
    scripts = inline_scripts(page.text)
    assert len(scripts) == 1, "the Swagger UI set-up"
    assert page.headers["content-security-policy"] == content_security_policy(scripts)


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000",
                                  "LOCALHOST", "testserver"])  # fmt: skip
def test_allowed_hosts_are_answered(client: ApiClient, host: str) -> None:
    assert client.get(API + "/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.2", "[::2]:80",
                                  "localhost.evil.example", ""])  # fmt: skip
def test_other_hosts_are_refused(client: ApiClient, host: str) -> None:
    for path in (API + "/health", "/", "/static/chainwatch.js"):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, (host, path)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["title"] == "Invalid host" and ALLOWED_HOSTS_ENV in body["detail"]


def test_allowed_hosts_add_the_bind_address_and_the_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ALLOWED_HOSTS_ENV, "Dash.Example.org, [fd00::1]")
    hosts = allowed_hosts("192.0.2.10", ["intranet"])
    assert hosts == {"localhost", "127.0.0.1", "::1", "192.0.2.10", "dash.example.org",
                     "fd00::1", "intranet"}  # fmt: skip
    assert "0.0.0.0" not in allowed_hosts("0.0.0.0"), "every interface is no host name"
    assert host_name("[fd00::1]:8443") == "fd00::1" and host_name("Example.org:80") == "example.org"


def strings_in(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        yield document
    elif isinstance(document, dict):
        for value in document.values():
            yield from strings_in(value)
    elif isinstance(document, list):
        for value in document:
            yield from strings_in(value)


def assert_no_local_path(text: str) -> None:
    for value in strings_in(json.loads(text)):
        assert without_local_paths(value) == value, value


def test_health_and_sources_show_no_local_paths(client: ApiClient, app: FastAPI) -> None:
    store_path: Path = app.state.store.path
    health = client.get(API + "/health")
    assert health.json()["store"] == store_path.name
    sources = client.get(API + "/sources?page_size=5000")
    for response in (health, sources):
        assert str(store_path.parent) not in response.text
        assert_no_local_path(response.text)
    assert "/" not in "".join(item["obtained_from"] for item in sources.json()["items"]
                              if item["source_id"].startswith("worldbank"))  # fmt: skip
    csv = client.get(API + "/sources?format=csv").text
    assert str(store_path.parent) not in csv and without_local_paths(csv) == csv


def test_error_details_show_no_local_paths(fresh_app: tuple[FastAPI, ApiClient]) -> None:
    app, client = fresh_app
    directory = str(Path(app.state.store.path).parent)
    Path(app.state.store.path).unlink()
    for path in ("/health", "/materials"):
        response = client.get(API + path)
        assert response.status_code == 503
        assert directory not in response.text
        assert_no_local_path(response.text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [("read from /work/shared/data/usgs_mcs", "read from usgs_mcs"),
     ("no store at /tmp/gone/absent.duckdb: run init.", "no store at absent.duckdb: run init."),
     ("see /api/v1/metrics and https://example.org/a/b", "see /api/v1/metrics and "
      "https://example.org/a/b"),
     ("github.com/datasets/country-codes", "github.com/datasets/country-codes")],
)  # fmt: skip
def test_local_paths_become_their_last_component(text: str, shown: str) -> None:
    assert without_local_paths(text) == shown
