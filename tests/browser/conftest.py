"""Browser-test fixtures: the app on a bundled store served by uvicorn, and headless Chromium.

Chromium is Debian's ``/usr/bin/chromium`` (``tests/browser/install_browser.sh`` installs it);
playwright only drives it and never downloads a browser. Every page a test opens may reach
this server only: any other request is aborted and fails the test, so maps that need a CDN
fail here.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from chainwatch.api.app import create_app
from chainwatch.partnerships.service import add_text_files
from chainwatch.store import Store
from chainwatch.store.app_state import AppState
from chainwatch.store.bundle import load_bundle
from chainwatch.store.text_store import NewText, delete_text, read_texts, write_texts
from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, NO_CHROMIUM, PHONE, Visit


@pytest.fixture(scope="session")
def browser_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The bundled real data set in a temporary store."""
    store = Store(tmp_path_factory.mktemp("browser") / "chainwatch.duckdb")
    load_bundle(store)
    return store


EXAMPLE_TEXTS = Path(__file__).resolve().parents[2] / "examples" / "partnership_texts"
"""The two example press texts (EU–Canada Digital Partnership, Industrial Policy Dialogue)."""


@pytest.fixture
def partnership_texts(browser_store: Store) -> Iterator[Path]:
    """The example press texts added to the app database of the served store (the server
    opens ``AppState(None, store path)`` too), removed again afterwards; the store's path."""
    with AppState(None, browser_store.path) as state:
        added = add_text_files(state, sorted(EXAMPLE_TEXTS.glob("*.txt")), actor="browser-test")
    yield browser_store.path
    with AppState(None, browser_store.path) as state:
        for item in added:
            if item.text.added_now:
                delete_text(state, item.text.id)


@pytest.fixture
def no_partnership_texts(browser_store: Store) -> Iterator[None]:
    """No text in the served store's app database while the test runs (any there put back)."""
    with AppState(None, browser_store.path) as state:
        kept = read_texts(state)
        for text in kept:
            delete_text(state, text.id)
    yield
    with AppState(None, browser_store.path) as state:
        write_texts(state, [NewText(t.id, t.name, t.language, t.title, t.content) for t in kept],
                    actor="browser-test")  # fmt: skip


PAGE_TIMEOUT_MS = 120_000
"""A cold overview computes the risk table of every material (20–35 s on 2 busy cores)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def base_url(browser_store: Store) -> Iterator[str]:
    """The dashboard served by uvicorn on 127.0.0.1 and a free port, in a thread."""
    config = uvicorn.Config(
        create_app(browser_store.path), host="127.0.0.1", port=_free_port(),
        log_level="warning", access_log=False, lifespan="off",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the dashboard server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _visit(browser: Any, base_url: str, viewport: dict[str, int], phone: bool) -> Iterator[Visit]:
    context = browser.new_context(
        viewport=viewport, accept_downloads=True, is_mobile=phone, has_touch=phone,
        device_scale_factor=2 if phone else 1, service_workers="block",
    )  # fmt: skip
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    visit = Visit(page, base_url)

    def only_this_server(route: Any) -> None:
        url = route.request.url
        if url.startswith((base_url, "data:", "blob:")):
            route.continue_()
        else:
            visit.external_requests.append(url)
            route.abort()

    context.route("**/*", only_this_server)
    page.on("pageerror", lambda error: visit.errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            visit.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    yield visit
    context.close()
    assert not visit.external_requests, f"requests left this server: {visit.external_requests}"
    assert not visit.errors, visit.errors


@pytest.fixture
def desktop(browser: Any, base_url: str) -> Iterator[Visit]:
    """A laptop-sized tab (1366×900)."""
    yield from _visit(browser, base_url, DESKTOP, phone=False)


@pytest.fixture
def phone(browser: Any, base_url: str) -> Iterator[Visit]:
    """A phone-sized touch tab (390×844)."""
    yield from _visit(browser, base_url, PHONE, phone=True)
