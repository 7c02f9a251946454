"""/api/v1 endpoints: thin adapters over the metric and store services.

Areas live in their own modules (reference data, metrics, series); this one holds the health
check and gathers them into one router.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from chainwatch import __version__
from chainwatch.api import (
    alert_routes,
    metric_routes,
    partnership_routes,
    reference_routes,
    series_routes,
)
from chainwatch.api.documentation import error_responses
from chainwatch.api.models import Health

router = APIRouter()


@router.get("/health", tags=["meta"], response_model=Health, responses=error_responses())
async def health(request: Request) -> JSONResponse:
    """Liveness and the store in use, by file name (503 when the store file is missing)."""
    request.app.state.cache.store_version()
    body = Health(status="ok", version=__version__, store=request.app.state.store.path.name)
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


router.include_router(reference_routes.router)
router.include_router(metric_routes.router)
router.include_router(series_routes.router)
router.include_router(alert_routes.router)
router.include_router(partnership_routes.router)
