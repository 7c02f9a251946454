"""Metric tables: every metric for a perspective, and the risk ranking of all materials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from chainwatch.api import builders, models
from chainwatch.api.documentation import table_responses
from chainwatch.api.parameters import (
    BlocQuery,
    Conditional,
    Hs6Query,
    OptionalMaterialQuery,
    OptionalStageQuery,
    Options,
    PerspectiveQuery,
    YearQuery,
    YearsQuery,
)
from chainwatch.api.representation import Table, send_table
from chainwatch.services import reference
from chainwatch.services.metrics import DEFAULT_BLOC, dependency_metrics, risk_table

router = APIRouter(tags=["metrics"], dependencies=[Conditional])

WideQuery = Annotated[bool, Query(description="one row per year and scope, one field per metric")]


@router.get(
    "/metrics",
    response_model=models.MetricPage | models.MetricWidePage,
    responses=table_responses(404),
)
async def metrics(
    request: Request,
    options: Options,
    perspective: PerspectiveQuery,
    year: YearsQuery = None,
    material: OptionalMaterialQuery = None,
    hs6: Hs6Query = None,
    stage: OptionalStageQuery = None,
    bloc: BlocQuery = DEFAULT_BLOC,
    wide: WideQuery = False,
) -> Response:
    """Every metric for a perspective, tidy (one row per year, scope and metric) or wide, with
    method id/version and sources. Default year: the latest with both trade and production
    data (as /risk, the CLI and the pages)."""
    store = request.app.state.store

    def build() -> Table:
        chosen = year if year else [reference.default_year(store)]
        frame = dependency_metrics(store, perspective, chosen, material, hs6, stage, bloc)
        return builders.metric_table(frame, wide)

    params = {"perspective": perspective, "year": year, "material": material, "hs6": hs6,
              "stage": stage, "bloc": bloc, "wide": wide}  # fmt: skip
    page_model = models.MetricWidePage if wide else models.MetricPage
    return await send_table(request, options, "metrics", params, build, page_model)


@router.get("/risk", response_model=models.RiskPage, responses=table_responses(404))
async def risk(
    request: Request,
    options: Options,
    perspective: PerspectiveQuery,
    year: YearQuery = None,
    bloc: BlocQuery = DEFAULT_BLOC,
) -> Response:
    """All materials ranked by supply risk, with the criteria that flag them. Default year: the
    latest with both trade and production data."""
    store = request.app.state.store

    def build() -> Table:
        chosen = year if year is not None else reference.default_year(store)
        return builders.risk_table(risk_table(store, perspective, chosen, bloc))

    params = {"perspective": perspective, "year": year, "bloc": bloc}
    return await send_table(request, options, "risk", params, build, models.RiskPage)
