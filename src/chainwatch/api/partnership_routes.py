"""The partnership tracker, read-only: records merged over the texts added with
``chainwatch texts add``, one record, the coverage of a perspective's exposures, the theme
taxonomy and the texts. Records follow the texts: every cache key carries the text ids, so a
text added or removed shows at the next request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from chainwatch.api.documentation import table_responses
from chainwatch.api.parameters import (
    PERSPECTIVE_PATTERN,
    BlocQuery,
    Conditional,
    OptionalMaterialQuery,
    Options,
    PerspectiveQuery,
    YearQuery,
)
from chainwatch.api.partnership_models import (
    CoveragePage,
    CoverageRow,
    Instrument,
    PartnershipDetail,
    PartnershipModel,
    PartnershipPage,
    TextPage,
    TextRow,
    ThemePage,
    ThemeRow,
)
from chainwatch.api.representation import Table, rows, send_table
from chainwatch.services import partnerships as tracker
from chainwatch.services.cache import ResultCache
from chainwatch.services.metrics import DEFAULT_BLOC
from chainwatch.services.partnerships import (
    DEFAULT_TOP,
    AppState,
    commitments_frame,
    coverage_frame,
    filter_partnerships,
    find_partnership,
    partnerships_frame,
    record_document,
    stored_records,
    texts_frame,
    themes_frame,
)

router = APIRouter(tags=["partnerships"], dependencies=[Conditional])
METHOD = "docs/partnerships.md"

OptionalPartyQuery = Annotated[
    str | None,
    Query(pattern=PERSPECTIVE_PATTERN, description="party: ISO3 or group id", examples=["CAN"]),
]
ThemeQuery = Annotated[
    str | None,
    Query(pattern=r"^[a-z_]{2,40}$", description="theme id: see /partnerships/themes",
          examples=["critical_minerals"]),
]  # fmt: skip
InstrumentQuery = Annotated[Instrument | None, Query(description="instrument type")]
TopQuery = Annotated[int, Query(ge=1, le=200, description="how many exposed materials")]


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.app_state
    return state


@router.get("/partnerships", response_model=PartnershipPage, responses=table_responses())
async def partnerships(
    request: Request,
    options: Options,
    theme: ThemeQuery = None,
    party: OptionalPartyQuery = None,
    instrument: InstrumentQuery = None,
    material: OptionalMaterialQuery = None,
) -> Response:
    """Partnerships, dialogues, working groups, agreements and programmes read from the texts,
    merged (one record per instrument, with every source), with their commitments, amounts,
    dates and the materials they reach. CSV: one row per record."""
    state = app_state(request)
    texts = await run_in_threadpool(tracker.text_ids, state)

    def build() -> Table:
        found = filter_partnerships(stored_records(state), theme, party, instrument, material)
        items = [PartnershipModel.model_validate(record_document(r)) for r in found]
        return Table(items, extra={"method": METHOD}, csv=partnerships_frame(found))

    params = {"texts": texts, "theme": theme, "party": party, "instrument": instrument,
              "material": material}  # fmt: skip
    return await send_table(request, options, "partnerships", params, build, PartnershipPage)


@router.get("/partnerships/coverage", response_model=CoveragePage,
            responses=table_responses(404))  # fmt: skip
async def partnership_coverage(
    request: Request,
    options: Options,
    perspective: PerspectiveQuery,
    year: YearQuery = None,
    top: TopQuery = DEFAULT_TOP,
    bloc: BlocQuery = DEFAULT_BLOC,
) -> Response:
    """The perspective's most exposed materials (the risk table's order) and, for each, the
    partnerships of the perspective that cover it: 'named' (a text names the material),
    'theme' (a theme concerns it) or 'none'."""
    state, store = app_state(request), request.app.state.store
    cache: ResultCache = request.app.state.cache
    texts = await run_in_threadpool(tracker.text_ids, state)

    def build() -> Table:
        frame, chosen = coverage_frame(cache, store, state, perspective, year, top, bloc)
        extra: dict[str, Any] = {"perspective": perspective, "year": chosen, "bloc": bloc,
                                 "method": METHOD}  # fmt: skip
        return Table(rows(CoverageRow, frame), extra=extra)

    params = {"texts": texts, "perspective": perspective, "year": year, "top": top, "bloc": bloc}
    return await send_table(request, options, "partnerships/coverage", params, build,
                            CoveragePage)  # fmt: skip


@router.get("/partnerships/themes", response_model=ThemePage, responses=table_responses())
async def partnership_themes(request: Request, options: Options) -> Response:
    """The theme taxonomy: each theme with the materials it concerns and the basis for that."""

    def build() -> Table:
        return Table(rows(ThemeRow, themes_frame()))

    return await send_table(request, options, "partnerships/themes", {}, build, ThemePage)


@router.get("/partnerships/{partnership_id}", response_model=PartnershipDetail,
            responses=table_responses(404))  # fmt: skip
async def partnership(
    request: Request,
    options: Options,
    partnership_id: Annotated[
        str, Path(pattern=r"^[a-z0-9-]{1,200}$", description="id from /partnerships")
    ],
) -> Response:
    """One record with every commitment sentence, amount, date, placeholder and source: the
    items are its commitments (CSV: one row per commitment), the record is `partnership`."""
    state = app_state(request)
    texts = await run_in_threadpool(tracker.text_ids, state)

    def build() -> Table:
        record = find_partnership(stored_records(state), partnership_id)
        document = PartnershipModel.model_validate(record_document(record))
        return Table(document.commitments, extra={"partnership": document, "method": METHOD},
                     csv=commitments_frame(record))  # fmt: skip

    params = {"texts": texts, "id": partnership_id}
    return await send_table(request, options, "partnerships/id", params, build,
                            PartnershipDetail)  # fmt: skip


@router.get("/texts", response_model=TextPage, responses=table_responses())
async def texts(request: Request, options: Options) -> Response:
    """The texts the records are read from (added with `chainwatch texts add`)."""
    state = app_state(request)
    ids = await run_in_threadpool(tracker.text_ids, state)

    def build() -> Table:
        return Table(rows(TextRow, texts_frame(tracker.texts(state))))

    return await send_table(request, options, "texts", {"texts": ids}, build, TextPage)
