"""The API's self-description: documented responses per endpoint, the OpenAPI schema's final
touches, and the self-hosted Swagger UI page (no CDN: the assets are vendored under static/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse

from chainwatch.api.problems import PROBLEM_JSON, Problem

STATIC_DIRECTORY = Path(__file__).parent / "static"
STATIC_PATH = "/api/static"
DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/v1/openapi.json"

_ERRORS = {
    404: "Not found: unknown perspective, group, material, HS6 code or country, or no data "
    "for the years asked",
    422: "Invalid request: a parameter has the wrong type or is out of range",
    503: "Store unavailable (missing, or being replaced), or the server is busy computing: "
    "retry after the Retry-After seconds",
}
_VALIDATOR_HEADERS = {
    "ETag": {"description": "strong entity tag of the body", "required": True,
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "how long the response may be reused", "required": True,
                      "schema": {"type": "string"}},
}  # fmt: skip
_DOWNLOAD_HEADER = {
    "Content-Disposition": {"description": "attachment; filename=... (format=csv)",
                            "schema": {"type": "string"}},
}  # fmt: skip


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Problem+json responses for the given statuses (503 always: every endpoint reads the
    store)."""
    return {status: {"model": Problem, "description": _ERRORS[status]}
            for status in sorted({*statuses, 503})}  # fmt: skip


def table_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A table endpoint: 200 as JSON page or CSV, 304, 422 (paging/format) and ``statuses``."""
    return {
        200: {
            "description": "One page of the table (JSON) or the whole table (format=csv)",
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "headers": {**_VALIDATOR_HEADERS, **_DOWNLOAD_HEADER},
        },
        304: {"description": "Not modified: the If-None-Match ETag is current (empty body)",
              "headers": _VALIDATOR_HEADERS},
        **error_responses(422, *statuses),
    }  # fmt: skip


def feed_responses(media_type: str, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """A feed endpoint: 200 as ``media_type`` (one document), 304, 422 and ``statuses``."""
    return {
        200: {
            "description": "The Atom feed (RFC 4287): one entry per alert",
            "content": {media_type: {"schema": {"type": "string"}}},
            "headers": _VALIDATOR_HEADERS,
        },
        304: {"description": "Not modified: the If-None-Match ETag is current (empty body)",
              "headers": _VALIDATOR_HEADERS},
        **error_responses(422, *statuses),
    }  # fmt: skip


def install_openapi(app: FastAPI) -> None:
    """Generate the schema once, with errors as application/problem+json and optional query
    parameters without a ``null`` alternative (a query string has no null: leave it out)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description,
            routes=app.routes, tags=app.openapi_tags,
        )  # fmt: skip
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                _problem_media_type(operation)
                for parameter in operation.get("parameters", []):
                    _drop_null(parameter)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problem_media_type(operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if status[0] in "45" and content:
            # errors are problem+json whatever the endpoint's own media type (e.g. Atom)
            media = content.get("application/json") or next(iter(content.values()))
            response["content"] = {PROBLEM_JSON: media}


def _drop_null(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema", {})
    options = schema.get("anyOf")
    if parameter.get("required") or not options:
        return
    kept = [option for option in options if option.get("type") != "null"]
    if len(kept) == 1:
        del schema["anyOf"]
        schema.update(kept[0])
    else:
        schema["anyOf"] = kept


docs_router = APIRouter(include_in_schema=False)


@docs_router.get(DOCS_PATH)
def swagger_page() -> HTMLResponse:
    """Swagger UI over /api/v1/openapi.json, from the vendored swagger-ui-dist files."""
    return get_swagger_ui_html(
        openapi_url=OPENAPI_PATH,
        title="chainwatch API",
        swagger_js_url=f"{STATIC_PATH}/swagger/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_PATH}/swagger/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PATH}/swagger/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )
