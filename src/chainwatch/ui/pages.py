"""Page routes. (Being written: Overview, Material, Country, Sources.)"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview() -> RedirectResponse:
    return RedirectResponse("/api/v1/risk?perspective=ALLIED")
