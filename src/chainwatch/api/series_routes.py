"""Time series and breakdowns behind the dashboard's charts and maps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from chainwatch.api import builders, models
from chainwatch.api.documentation import table_responses
from chainwatch.api.parameters import (
    FIRST_YEAR,
    LAST_YEAR,
    BlocQuery,
    Conditional,
    Hs6Query,
    MaterialQuery,
    OptionalMaterialQuery,
    OptionalStageQuery,
    Options,
    PerspectiveQuery,
    StageQuery,
    YearQuery,
    YearsQuery,
)
from chainwatch.api.representation import Table, rows, send_table
from chainwatch.services import reference
from chainwatch.services.metrics import (
    DEFAULT_BLOC,
    dependency_metrics,
    import_sources,
    production_map,
)

router = APIRouter(prefix="/series", tags=["series"], dependencies=[Conditional])

FromYearQuery = Annotated[
    int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description="first year (default: earliest)")
]
ToYearQuery = Annotated[
    int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description="last year (default: latest)")
]


@router.get("/imports", response_model=models.ImportSourcePage, responses=table_responses(404))
async def imports(
    request: Request,
    options: Options,
    perspective: PerspectiveQuery,
    material: OptionalMaterialQuery = None,
    stage: OptionalStageQuery = None,
    hs6: Hs6Query = None,
    bloc: BlocQuery = DEFAULT_BLOC,
    year: YearsQuery = None,
) -> Response:
    """Imports by supplier and year: value, quantity, share and whether the supplier is in the
    bloc (default: all years)."""
    store = request.app.state.store

    def build() -> Table:
        if year:
            reference.require_trade_years(store, year)
        frame = import_sources(store, perspective, material, stage, hs6, year, bloc)
        return Table(rows(models.ImportSourceRow, frame))

    params = {"perspective": perspective, "material": material, "stage": stage, "hs6": hs6,
              "bloc": bloc, "year": year}  # fmt: skip
    return await send_table(
        request, options, "series/imports", params, build, models.ImportSourcePage
    )


@router.get("/production", response_model=models.ProductionPage, responses=table_responses(404))
async def production(
    request: Request,
    options: Options,
    material: MaterialQuery,
    stage: StageQuery,
    year: YearQuery = None,
) -> Response:
    """Production by country and its share of world output (default: the latest year)."""
    store = request.app.state.store

    def build() -> Table:
        frame = production_map(store, material, stage, year)
        return Table(rows(models.ProductionRow, frame))

    params = {"material": material, "stage": stage, "year": year}
    return await send_table(
        request, options, "series/production", params, build, models.ProductionPage
    )


@router.get(
    "/concentration", response_model=models.ConcentrationPage, responses=table_responses(404)
)
async def concentration(
    request: Request,
    options: Options,
    perspective: PerspectiveQuery,
    material: MaterialQuery,
    stage: OptionalStageQuery = None,
    bloc: BlocQuery = DEFAULT_BLOC,
    from_year: FromYearQuery = None,
    to_year: ToYearQuery = None,
) -> Response:
    """Per year and stage: import-partner HHI, outside-bloc share, production HHI and EU supply
    risk, over a year range (default: every year with trade data)."""
    store = request.app.state.store

    def build() -> Table:
        years = reference.year_range(store, from_year, to_year)
        frame = dependency_metrics(store, perspective, years, material, None, stage, bloc)
        return builders.concentration_table(frame)

    params = {"perspective": perspective, "material": material, "stage": stage, "bloc": bloc,
              "from_year": from_year, "to_year": to_year}  # fmt: skip
    return await send_table(
        request, options, "series/concentration", params, build, models.ConcentrationPage
    )
