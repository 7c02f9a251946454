"""Fixtures of the API tests: the bundled store (built once), the app over it, and a client.

The client is httpx's AsyncClient on an in-process ASGI transport, driven from the synchronous
tests through an anyio blocking portal (starlette's TestClient warns when used with httpx).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from fastapi import FastAPI

from chainwatch.api.app import create_app
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from tests.api.support import TEST_HOSTS, shared_app

API = "/api/v1"


class ApiClient:
    """A synchronous client for an ASGI app (no network, no thread per request)."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, app: FastAPI) -> None:
        self._portal = portal
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        response: httpx.Response = self._portal.call(
            partial(self._client.request, method, url, **options)
        )
        return response

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def close(self) -> None:
        self._portal.call(self._client.aclose)


@pytest.fixture(scope="session")
def app() -> FastAPI:
    """The app over the bundled store (both built once per session)."""
    return shared_app()


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[ApiClient]:
    with anyio.from_thread.start_blocking_portal() as portal:
        api_client = ApiClient(portal, app)
        yield api_client
        api_client.close()


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[tuple[FastAPI, ApiClient]]:
    """An app over its own copy of the bundled store (for tests that change the store)."""
    store = Store(tmp_path / "chainwatch.duckdb")
    load_bundle(store)
    application = create_app(store.path, hosts=TEST_HOSTS)
    with anyio.from_thread.start_blocking_portal() as portal:
        api_client = ApiClient(portal, application)
        yield application, api_client
        api_client.close()
