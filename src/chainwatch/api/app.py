"""The ASGI application: JSON API under /api/v1, its docs page, the dashboard pages and their
static assets, behind a Host check and with security headers on every response.

The server bounds what it computes and keeps (:mod:`chainwatch.api.limits`, ADR 0010);
cacheable answers are replayed before routing (:class:`~chainwatch.api.middleware.
CachedResponses`). At start (lifespan) a worker raises its thread limit, shortens the interval
at which threads hand over the GIL (so its event loop answers cached requests while its
threads compute) and, when the precomputed alerts of the store's version are missing, computes
them in a background thread (``chainwatch serve`` does that before it listens, so this is for
servers started otherwise).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import AsyncIterator, Iterable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chainwatch import __version__
from chainwatch.api.documentation import (
    OPENAPI_PATH,
    STATIC_DIRECTORY,
    STATIC_PATH,
    docs_router,
    install_openapi,
    swagger_page,
)
from chainwatch.api.limits import Limits
from chainwatch.api.middleware import (
    CachedResponses,
    HostCheck,
    SecurityHeaders,
    allowed_hosts,
    content_security_policy,
    inline_scripts,
)
from chainwatch.api.problems import PROBLEM_JSON, install_problem_handlers, problem
from chainwatch.services import alerts
from chainwatch.services.cache import ResultCache
from chainwatch.services.partnerships import tracker_state
from chainwatch.store import Store

__all__ = ["PROBLEM_JSON", "create_app", "problem"]
log = logging.getLogger("chainwatch.api")


def create_app(
    store_path: Path | str | None = None,
    *,
    hosts: Iterable[str] | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    """The application over the store at ``store_path`` (built from the bundle if missing).

    ``hosts``: the Host names it answers (default :func:`~chainwatch.api.middleware.
    allowed_hosts`); ``limits``: its bounds (default from the environment).
    """
    from chainwatch.api import routes
    from chainwatch.python_api import open_store

    store: Store = open_store(store_path)
    chosen = limits or Limits.from_environment()
    app = FastAPI(
        title="chainwatch API",
        version=__version__,
        description="Dependence, concentration and supply-risk metrics on real trade, "
        "production and governance data. Every number carries its method and sources.\n\n"
        "Lists come as `{items, page, page_size, total}` (`?page=`, `?page_size=`), or whole "
        "as CSV with `?format=csv`. Responses carry a strong `ETag`; send it back in "
        "`If-None-Match` for a 304. Errors are `application/problem+json` (RFC 9457); a 503 "
        "with `Retry-After` means the server is busy computing: retry after that many seconds.",
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
        generate_unique_id_function=lambda route: route.name,
        lifespan=_lifespan,
    )
    app.state.store = store
    app.state.limits = chosen
    app.state.app_state = tracker_state(store)  # texts of the partnership tracker
    app.state.cache = chosen.table_cache(store)
    app.state.bodies = chosen.body_cache(store, app.state.cache)
    app.include_router(routes.router, prefix="/api/v1")
    app.include_router(docs_router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIRECTORY), name="api-static")
    _mount_ui(app)
    policy = content_security_policy(inline_scripts(bytes(swagger_page().body).decode("utf-8")))
    app.state.responses = chosen.response_cache(store)
    app.add_middleware(CachedResponses, cache=app.state.responses)
    app.add_middleware(HostCheck, hosts=frozenset(hosts) if hosts is not None else allowed_hosts())
    app.add_middleware(SecurityHeaders, policy=policy)  # added last: outside the Host check
    install_problem_handlers(app, SecurityHeaders.header_map(policy))
    install_openapi(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.limits.threads
    # hand the GIL to the event loop sooner while worker threads compute (default 5 ms)
    sys.setswitchinterval(app.state.limits.switch_interval_s)
    threading.Thread(
        target=_precompute, args=(app.state.cache, app.state.store), name="precompute",
        daemon=True,
    ).start()  # fmt: skip
    yield


def _precompute(cache: ResultCache, store: Store) -> None:
    """The precomputed alerts of the store's version, read or computed (logged, not raised:
    a request that needs them computes them again)."""
    try:
        alerts.precompute_alerts(cache, store, gated=False)
    except Exception as error:  # the server keeps serving; requests report their own errors
        log.warning("precomputing alerts failed: %s", error)


FIRST_SCREENS = ("/api/v1/alerts", "/api/v1/alerts/backtest", "/", "/alerts")
"""What a first visit asks for: their heavy results are kept on disk per store version."""


def precompute_store(store_path: str) -> list[int]:
    """Compute what the first screens need and keep it on disk (``chainwatch serve`` runs this
    in a process of its own before it listens): the precomputed alerts, then each of
    :data:`FIRST_SCREENS` requested once in-process. Returns their statuses."""
    app = create_app(store_path, hosts=["localhost"])
    alerts.precompute_alerts(app.state.cache, app.state.store)
    return [anyio.run(_get, app, path) for path in FIRST_SCREENS]


async def _get(app: FastAPI, path: str) -> int:
    """One GET through the ASGI interface (no network, no HTTP client)."""
    path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(),
             "root_path": "", "headers": [(b"host", b"localhost")],
             "client": ("127.0.0.1", 0), "server": ("localhost", 80)}  # fmt: skip
    status = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(str(message["status"]))

    await app(scope, receive, send)
    return status


def _mount_ui(app: FastAPI) -> None:
    """Pages and static assets (chainwatch.ui), served by the same process."""
    from chainwatch import ui

    app.mount("/static", StaticFiles(directory=ui.STATIC_DIRECTORY), name="static")
    app.include_router(ui.router)
