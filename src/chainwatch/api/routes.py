"""/api/v1 endpoints: thin adapters over the metric and store services."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request

from chainwatch.metrics.risk import calc_risk_table
from chainwatch.metrics.service import DEFAULT_BLOC, calc_metrics

router = APIRouter()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records (NaN -> null)."""
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return records


@router.get("/health", tags=["meta"])
def health(request: Request) -> dict[str, str]:
    """Liveness and the store in use."""
    return {"status": "ok", "store": str(request.app.state.store.path)}


@router.get("/metrics", tags=["metrics"])
def metrics(
    request: Request,
    perspective: Annotated[str, Query(description="ISO3 country or group id")],
    year: Annotated[list[int] | None, Query()] = None,
    material: str | None = None,
    hs6: str | None = None,
    stage: str | None = None,
    bloc: str = DEFAULT_BLOC,
) -> list[dict[str, Any]]:
    """Every metric for a perspective, tidy, with method id/version and sources."""
    params = {"perspective": perspective, "year": year, "material": material, "hs6": hs6,
              "stage": stage, "bloc": bloc}  # fmt: skip
    frame = request.app.state.cache.get(
        "metrics", params,
        lambda: calc_metrics(request.app.state.store, perspective, year, material, hs6, stage,
                             bloc),
    )  # fmt: skip
    return _records(frame)


@router.get("/risk", tags=["metrics"])
def risk(
    request: Request,
    perspective: str,
    year: int | None = None,
    bloc: str = DEFAULT_BLOC,
) -> list[dict[str, Any]]:
    """All materials ranked by supply risk, with the criteria that flag them."""
    frame = request.app.state.cache.get(
        "risk", {"perspective": perspective, "year": year, "bloc": bloc},
        lambda: calc_risk_table(request.app.state.store, perspective, year, bloc),
    )  # fmt: skip
    return _records(frame)
