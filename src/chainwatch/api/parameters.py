"""Query parameters shared by the endpoints, declared once so the OpenAPI schema is uniform."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Header, Query
from pydantic import Field

from chainwatch.api.models import Stage
from chainwatch.services.reference import PERSPECTIVE_PATTERN as PERSPECTIVE_PATTERN

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 5000
MAX_PAGE = 1_000_000
FIRST_YEAR, LAST_YEAR = 1900, 2100
MAX_YEARS = 40


PAGE_SIZE_HELP = f"items per page (JSON only), at most {MAX_PAGE_SIZE}"
FORMAT_HELP = "json: one page in an envelope; csv: the whole table as a download"


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"


@dataclass(frozen=True)
class TableOptions:
    """How a table is sent: which page (JSON) or the whole table as CSV."""

    page: int
    page_size: int
    output_format: OutputFormat


async def table_options(
    page: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="1-based page number (JSON only)")
    ] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=PAGE_SIZE_HELP)] = (
        DEFAULT_PAGE_SIZE
    ),
    output_format: Annotated[
        OutputFormat, Query(alias="format", description=FORMAT_HELP)
    ] = OutputFormat.json,
) -> TableOptions:
    return TableOptions(page, page_size, output_format)


async def conditional_request(
    if_none_match: Annotated[
        str | None,
        Header(description="ETag(s) of a representation you hold: 304 if still current"),
    ] = None,
) -> None:
    """Documents If-None-Match; the responder reads the header itself."""


Options = Annotated[TableOptions, Depends(table_options)]
Conditional = Depends(conditional_request)

Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)]
PerspectiveQuery = Annotated[
    str,
    Query(pattern=PERSPECTIVE_PATTERN, description="ISO3 country code or group id (EU27, "
          "ALLIED, NATO, ...): see /perspectives", examples=["ALLIED"]),
]  # fmt: skip
BlocQuery = Annotated[
    str,
    Query(pattern=PERSPECTIVE_PATTERN, description="group (or country) that defines "
          "'outside-bloc'", examples=["ALLIED"]),
]  # fmt: skip
MaterialQuery = Annotated[
    str,
    Query(min_length=1, max_length=64, description="material id: see /materials",
          examples=["cobalt"]),
]  # fmt: skip
OptionalMaterialQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=64, description="material id: see /materials",
          examples=["cobalt"]),
]  # fmt: skip
StageQuery = Annotated[Stage, Query(description="value-chain stage", examples=["mine"])]
OptionalStageQuery = Annotated[
    Stage | None, Query(description="value-chain stage", examples=["refinery"])
]
Hs6Query = Annotated[
    str | None,
    Query(pattern=r"^[0-9]{6}$", description="one HS6 product code (instead of a material)",
          examples=["260500"]),
]  # fmt: skip
YearQuery = Annotated[
    int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR, description="year", examples=[2023])
]
YearsQuery = Annotated[
    list[Year] | None,
    Query(max_length=MAX_YEARS, description="year, repeatable (?year=2019&year=2023)",
          examples=[[2023]]),
]  # fmt: skip
