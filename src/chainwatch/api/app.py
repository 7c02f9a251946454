"""The ASGI application: JSON API under /api/v1, its docs page, the dashboard pages and their
static assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chainwatch import __version__
from chainwatch.api.documentation import (
    OPENAPI_PATH,
    STATIC_DIRECTORY,
    STATIC_PATH,
    docs_router,
    install_openapi,
)
from chainwatch.api.problems import PROBLEM_JSON, install_problem_handlers, problem
from chainwatch.services.cache import ResultCache
from chainwatch.services.partnerships import tracker_state
from chainwatch.store import Store

__all__ = ["PROBLEM_JSON", "create_app", "problem"]

BODY_CACHE_ENTRIES = 2048
BODY_CACHE_BYTES = 64 * 1024 * 1024


def create_app(store_path: Path | str | None = None) -> FastAPI:
    """The application over the store at ``store_path`` (built from the bundle if missing)."""
    from chainwatch.api import routes
    from chainwatch.python_api import open_store

    store: Store = open_store(store_path)
    app = FastAPI(
        title="chainwatch API",
        version=__version__,
        description="Dependence, concentration and supply-risk metrics on real trade, "
        "production and governance data. Every number carries its method and sources.\n\n"
        "Lists come as `{items, page, page_size, total}` (`?page=`, `?page_size=`), or whole "
        "as CSV with `?format=csv`. Responses carry a strong `ETag`; send it back in "
        "`If-None-Match` for a 304. Errors are `application/problem+json` (RFC 9457).",
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_PATH,
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.store = store
    app.state.app_state = tracker_state(store)  # texts of the partnership tracker
    app.state.cache = ResultCache(store)
    app.state.bodies = ResultCache(
        store, BODY_CACHE_ENTRIES, weigh=lambda rendered: len(rendered.body),
        max_weight=BODY_CACHE_BYTES,
    )  # fmt: skip
    app.include_router(routes.router, prefix="/api/v1")
    app.include_router(docs_router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIRECTORY), name="api-static")
    _mount_ui(app)
    install_problem_handlers(app)
    install_openapi(app)
    return app


def _mount_ui(app: FastAPI) -> None:
    """Pages and static assets (chainwatch.ui), served by the same process."""
    from chainwatch import ui

    app.mount("/static", StaticFiles(directory=ui.STATIC_DIRECTORY), name="static")
    app.include_router(ui.router)
