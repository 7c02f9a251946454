"""Reference data: perspectives, groups, materials, products, countries, sources."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from chainwatch.api import builders, models
from chainwatch.api.documentation import table_responses
from chainwatch.api.parameters import (
    BlocQuery,
    Conditional,
    OptionalMaterialQuery,
    OptionalStageQuery,
    Options,
    YearQuery,
)
from chainwatch.api.representation import Table, rows, send_table
from chainwatch.services import metrics, reference
from chainwatch.services.metrics import DEFAULT_BLOC
from chainwatch.services.redaction import without_local_paths

router = APIRouter(tags=["reference"], dependencies=[Conditional])

Iso3Path = Annotated[
    str, Path(pattern=r"^[A-Za-z]{3}$", description="ISO3 country code", examples=["CAN"])
]


@router.get("/perspectives", response_model=models.PerspectivePage, responses=table_responses())
async def perspectives(request: Request, options: Options) -> Response:
    """Every country and group a metric can be asked for (?perspective=, ?bloc=)."""
    store = request.app.state.store

    def build() -> Table:
        return Table(rows(models.Perspective, reference.perspectives(store)))

    return await send_table(request, options, "perspectives", {}, build, models.PerspectivePage)


@router.get("/groups", response_model=models.GroupPage, responses=table_responses())
async def groups(request: Request, options: Options) -> Response:
    """Country groups with their members and membership years (CSV: one row per member)."""
    store = request.app.state.store

    def build() -> Table:
        return builders.group_table(reference.group_members(store))

    return await send_table(request, options, "groups", {}, build, models.GroupPage)


@router.get("/materials", response_model=models.MaterialPage, responses=table_responses())
async def materials(request: Request, options: Options) -> Response:
    """Materials: EU CRMA 2024 status, USGS 2022 list flag, stages and HS6 codes."""
    store = request.app.state.store

    def build() -> Table:
        return Table(rows(models.Material, reference.material_catalogue(store)))

    return await send_table(request, options, "materials", {}, build, models.MaterialPage)


@router.get("/products", response_model=models.ProductPage, responses=table_responses(404))
async def products(
    request: Request,
    options: Options,
    material: OptionalMaterialQuery = None,
    stage: OptionalStageQuery = None,
) -> Response:
    """HS6 products, one row per product and material it carries; filter by material/stage."""
    store = request.app.state.store

    def build() -> Table:
        if material is not None:
            reference.require_material(store, material)
        return Table(rows(models.Product, reference.products(store, material, stage)))

    params = {"material": material, "stage": stage}
    return await send_table(request, options, "products", params, build, models.ProductPage)


@router.get("/countries", response_model=models.CountryPage, responses=table_responses())
async def countries(request: Request, options: Options) -> Response:
    """Countries, territories, former countries and the WLD/OTH aggregates (ISO 3166)."""
    store = request.app.state.store

    def build() -> Table:
        return Table(rows(models.Country, reference.countries(store)))

    return await send_table(request, options, "countries", {}, build, models.CountryPage)


@router.get(
    "/countries/{iso3}", response_model=models.CountryProfile, responses=table_responses(404)
)
async def country_profile(
    request: Request,
    options: Options,
    iso3: Iso3Path,
    year: YearQuery = None,
    bloc: BlocQuery = DEFAULT_BLOC,
) -> Response:
    """What a country supplies to the bloc and what it imports, by material and stage, in one
    year (default: the latest year with trade data)."""
    store = request.app.state.store

    def build() -> Table:
        chosen = year if year is not None else reference.latest_trade_year(store)
        reference.require_trade_years(store, [chosen])
        frame = metrics.country_profile(store, iso3, chosen, bloc)
        return builders.profile_table(frame, reference.country(store, iso3), chosen, bloc)

    params = {"iso3": iso3.upper(), "year": year, "bloc": bloc}
    return await send_table(
        request, options, "country-profile", params, build, models.CountryProfile
    )


@router.get("/sources", response_model=models.SourcePage, responses=table_responses())
async def sources(request: Request, options: Options) -> Response:
    """Provenance: every loaded data set with its publisher, version, licence and citation."""
    store = request.app.state.store

    def build() -> Table:
        frame = reference.sources(store)
        for column in ("obtained_from", "cut", "citation"):  # no local paths in a response
            frame[column] = [without_local_paths(str(value)) for value in frame[column]]
        return Table(rows(models.Source, frame))

    return await send_table(request, options, "sources", {}, build, models.SourcePage)
