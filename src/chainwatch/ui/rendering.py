"""Templates, JSON-safe records for the page data, CSV downloads and the HTML error page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from chainwatch import __version__
from chainwatch.errors import InputError, QueryError
from chainwatch.ui import formatting

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters.update(formatting.FILTERS)
TEMPLATES.env.globals["version"] = __version__


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows (NaN and NA become null), for embedding and for templates."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return rows


def provenance(frame: pd.DataFrame) -> dict[str, list[str]]:
    """The method ids (with versions) and data sources a service table rests on."""
    if frame.empty or "method_id" not in frame:
        return {"methods": [], "sources": []}
    methods = frame[["method_id", "method_version"]].drop_duplicates()
    sources = "; ".join(str(s) for s in frame["sources"].dropna().unique())
    return {
        "methods": sorted(f"{m} v{v}" for m, v in methods.itertuples(index=False)),
        "sources": sorted({part.strip() for part in sources.split(";") if part.strip()}),
    }


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


def csv_response(frame: pd.DataFrame, filename: str) -> Response:
    """A CSV download of a table, exactly as computed (fractions 0–1, values in USD)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "table.csv"
    return Response(
        frame.to_csv(index=False),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


PAGE_ERRORS = (QueryError, InputError)
