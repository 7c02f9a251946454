"""Templates, JSON-safe records for the page data, the provenance footers and the HTML error
page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from chainwatch import __version__
from chainwatch.errors import InputError, QueryError
from chainwatch.ui import formatting
from chainwatch.ui.downloads import download_url, table_provenance

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters.update(formatting.FILTERS)
TEMPLATES.env.filters["download_url"] = download_url
TEMPLATES.env.globals["version"] = __version__


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows (NaN and NA become null), for embedding and for templates."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return rows


def provenance(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The method ids (with versions) and data sources a service table rests on, as the
    page footers show them (the downloads carry the same, :mod:`chainwatch.ui.downloads`)."""
    found = table_provenance(frame)
    return {"methods": [f"{method} v{version}" for method, version in found.methods],
            "sources": found.sources}  # fmt: skip


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    response: HTMLResponse = TEMPLATES.TemplateResponse(
        request, template, context, status_code=status
    )
    return response


def render_error(request: Request, error: Exception) -> HTMLResponse:
    """A page for a request that cannot be answered: 404 for unknown things, 422 for bad input."""
    status = 422 if isinstance(error, InputError) else 404
    title = "Invalid input" if status == 422 else "Not found"
    context: dict[str, Any] = {
        "title": title,
        "message": str(error),
        "perspective": None,
        "options": [],
    }
    return render(request, "error.html", context, status)


PAGE_ERRORS = (QueryError, InputError)
