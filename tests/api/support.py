"""The bundled store and the app over it, built once per test session.

Module-level (not only a fixture) because the schemathesis test parametrizes over the app's
OpenAPI schema when it is collected.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from fastapi import FastAPI

from chainwatch.api.app import create_app
from chainwatch.api.middleware import allowed_hosts
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle


@cache
def bundled_store() -> Store:
    """The bundled real data set loaded into a temporary store, removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="chainwatch-api-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    store = Store(directory / "chainwatch.duckdb")
    load_bundle(store)
    return store


TEST_HOSTS = allowed_hosts(extra=["testserver"])
"""The in-process clients (httpx's ASGI transport, schemathesis) send ``Host: testserver``."""


@cache
def shared_app() -> FastAPI:
    return create_app(bundled_store().path, hosts=TEST_HOSTS)
