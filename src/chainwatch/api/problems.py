"""Errors as RFC 9457 problem+json, for every failure the API can answer with.

Details never carry a local path (:mod:`chainwatch.services.redaction`); a server too busy to
compute answers 503 with ``Retry-After`` (:class:`~chainwatch.services.cache.Busy`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from chainwatch.errors import InputError, QueryError, StoreError
from chainwatch.services.cache import Busy
from chainwatch.services.redaction import without_local_paths

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("chainwatch.api")


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str = Field("about:blank", description="problem type URI; about:blank: see title")
    title: str = Field(description="short summary of the problem type")
    status: int = Field(description="HTTP status code")
    detail: str = Field(description="what went wrong with this request, and how to fix it")
    instance: str | None = Field(None, description="the request path")


def problem(
    status: int,
    title: str,
    detail: str,
    instance: str = "",
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem+json response."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status,
                               "detail": without_local_paths(detail)}  # fmt: skip
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI, headers: Mapping[str, str] | None = None) -> None:
    """Map every error to problem+json: user errors 404/422, store trouble and a full server
    503, bugs 500. ``headers`` go on the 500 answer, which leaves the app outside its
    middleware."""

    @app.exception_handler(Busy)
    async def busy(request: Request, error: Busy) -> JSONResponse:
        return problem(503, "Busy", str(error), request.url.path,
                       {"Retry-After": str(error.retry_after_s)})  # fmt: skip

    @app.exception_handler(QueryError)
    async def query_error(request: Request, error: QueryError) -> JSONResponse:
        return problem(404, "Not found", str(error), request.url.path)

    @app.exception_handler(InputError)
    async def input_error(request: Request, error: InputError) -> JSONResponse:
        return problem(422, "Invalid input", str(error), request.url.path)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, error: StoreError) -> JSONResponse:
        return problem(503, "Store unavailable", str(error), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        details = []
        for item in error.errors():
            where = ".".join(str(part) for part in item.get("loc", ()))
            details.append(f"{where}: {item.get('msg', 'invalid value')}")
        detail = "; ".join(details) or "invalid request"
        return problem(422, "Invalid request", detail, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(error.status_code, "HTTP error")
        return problem(error.status_code, title, str(error.detail), request.url.path, error.headers)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return problem(500, "Internal error", type(error).__name__, request.url.path, headers)
