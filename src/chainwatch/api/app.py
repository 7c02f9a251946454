"""The ASGI application: JSON API under /api/v1, dashboard pages and their static assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chainwatch import __version__
from chainwatch.api.cache import ResultCache
from chainwatch.errors import InputError, QueryError, StoreError
from chainwatch.store import Store

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, instance: str = "") -> JSONResponse:
    """An RFC 9457 problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def create_app(store_path: Path | str | None = None) -> FastAPI:
    """The application over the store at ``store_path`` (built from the bundle if missing)."""
    from chainwatch.api import routes
    from chainwatch.python_api import open_store

    store: Store = open_store(store_path)
    app = FastAPI(
        title="chainwatch API",
        version=__version__,
        description="Dependence, concentration and supply-risk metrics on real trade, "
        "production and governance data. Every number carries its method and sources.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.store = store
    app.state.cache = ResultCache(store)
    app.include_router(routes.router, prefix="/api/v1")
    _mount_ui(app)

    @app.exception_handler(QueryError)
    async def query_error(request: Request, error: QueryError) -> JSONResponse:
        return problem(404, "Not found", str(error), str(request.url.path))

    @app.exception_handler(InputError)
    async def input_error(request: Request, error: InputError) -> JSONResponse:
        return problem(422, "Invalid input", str(error), str(request.url.path))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, error: StoreError) -> JSONResponse:
        return problem(503, "Store unavailable", str(error), str(request.url.path))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        detail = f"{where}: {first.get('msg', 'invalid request')}"
        return problem(422, "Invalid request", detail, str(request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, "HTTP error", str(error.detail), str(request.url.path))

    return app


def _mount_ui(app: FastAPI) -> None:
    """Pages and static assets (chainwatch.ui), served by the same process."""
    from fastapi.staticfiles import StaticFiles

    from chainwatch import ui

    app.mount("/static", StaticFiles(directory=ui.STATIC_DIRECTORY), name="static")
    app.include_router(ui.router)
