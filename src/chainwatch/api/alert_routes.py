"""Early-warning alerts (chainwatch.watch): the alerts of a year and the backtest, read-only.

The monitor, the alerts of a year and the backtest come from :mod:`chainwatch.services.alerts`
(one cached monitor per perspective and bloc; a first backtest, about 15 s, warms every later
one and the alerts of every year); this module shapes them as tables and feeds. The
dashboard's Alerts page reads through the same services.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from chainwatch.api import models
from chainwatch.api.cache import entity_tag
from chainwatch.api.documentation import feed_responses, table_responses
from chainwatch.api.parameters import (
    PERSPECTIVE_PATTERN,
    BlocQuery,
    Conditional,
    OptionalMaterialQuery,
    Options,
    YearQuery,
)
from chainwatch.api.representation import Rendered, Table, reply, rows, send_table
from chainwatch.services.alerts import (
    ALERT_COLUMNS,
    BACKTEST_FROM,
    BACKTEST_TO,
    DEFAULT_BLOC,
    BacktestReport,
    Watch,
    alert_record,
    alerts_frame,
    backtest,
    feed_records,
    finite,
    year_alerts,
)
from chainwatch.services.reference import latest_trade_year
from chainwatch.watch.alerts import Alert
from chainwatch.watch.feed import render_feed

ATOM_MEDIA_TYPE = "application/atom+xml"


class AtomResponse(Response):
    media_type = ATOM_MEDIA_TYPE


router = APIRouter(prefix="/alerts", tags=["alerts"], dependencies=[Conditional])

WATCH_METHOD = "docs/watch.md"
BACKTEST_METHOD = "docs/backtest.md"
BACKTEST_FIRST, BACKTEST_LAST = 1996, 2030
"""The years the backtest endpoint accepts: trade data start in 1995 and the replay needs a
year of history; later years than the data are cut to the last one."""

OptionalPerspectiveQuery = Annotated[
    str | None,
    Query(pattern=PERSPECTIVE_PATTERN, description="ISO3 country code or group id whose "
          "imports the import signals cover (default: ALLIED, CAN, EU27, GBR, USA)",
          examples=["CAN"]),
]  # fmt: skip
SeverityQuery = Annotated[
    models.Severity | None, Query(description="only alerts of this severity", examples=["critical"])
]
FromYearQuery = Annotated[
    int, Query(ge=BACKTEST_FIRST, le=BACKTEST_LAST, description="first year replayed")
]
ToYearQuery = Annotated[
    int,
    Query(ge=BACKTEST_FIRST, le=BACKTEST_LAST,
          description="last year replayed (cut to the last year with trade data)"),
]  # fmt: skip


def alert_table(alerts: list[Alert], year: int, chosen: Watch) -> Table:
    items = [models.AlertRow.model_validate(alert_record(alert)) for alert in alerts]
    csv = alerts_frame(alerts)[[c for c in ALERT_COLUMNS if c != "state"]]
    extra = {"year": year, "perspectives": list(chosen.inputs.perspectives),
             "bloc": chosen.inputs.bloc_id, "method": WATCH_METHOD,
             "sources": chosen.inputs.sources}  # fmt: skip
    return Table(items, extra=extra, csv=csv)


def backtest_table(report: BacktestReport) -> Table:
    settings = report.settings
    extra = {
        "summary": models.BacktestSummary.model_validate(
            {key: finite(value) for key, value in report.summary.items()}
        ),
        "per_year": rows(models.BacktestYear, report.per_year),
        "perspectives": settings["perspectives"], "bloc": settings["bloc"],
        "rules": settings["rules"], "scored_signals": settings["scored_signals"],
        "method": BACKTEST_METHOD, "sources": settings["sources"],
    }  # fmt: skip
    events = report.scores.events
    return Table(rows(models.BacktestEventRow, events), extra=extra)


@router.get("", response_model=models.AlertPage, responses=table_responses(404))
async def alerts(
    request: Request,
    options: Options,
    year: YearQuery = None,
    perspective: OptionalPerspectiveQuery = None,
    material: OptionalMaterialQuery = None,
    severity: SeverityQuery = None,
    bloc: BlocQuery = DEFAULT_BLOC,
) -> Response:
    """Alerts of a year (default: the latest with trade data), each from the data known by the
    end of that year: rule, severity, since when, one sentence, the series, baseline and
    threshold it rests on, and its sources. Most severe first."""
    store, cache = request.app.state.store, request.app.state.cache

    def build() -> Table:
        chosen_year = year if year is not None else latest_trade_year(store)
        found, chosen = year_alerts(cache, store, chosen_year, perspective, material, severity,
                                    bloc)  # fmt: skip
        return alert_table(found, chosen_year, chosen)

    params = {"year": year, "perspective": perspective, "material": material,
              "severity": severity, "bloc": bloc}  # fmt: skip
    return await send_table(request, options, "alerts", params, build, models.AlertPage)


@router.get("/backtest", response_model=models.BacktestPage, responses=table_responses(404))
async def backtest_scores(
    request: Request,
    options: Options,
    from_year: FromYearQuery = BACKTEST_FROM,
    to_year: ToYearQuery = BACKTEST_TO,
) -> Response:
    """The backtest: every year replayed with only what was known then, alerts scored against
    the dated export-restriction events (recall, precision, lead/lag, false alarms per year).
    Items: the events, caught or missed, or why they cannot be scored (CSV: the events)."""
    store, cache = request.app.state.store, request.app.state.cache

    def build() -> Table:
        return backtest_table(backtest(cache, store, from_year, to_year))

    params = {"from_year": from_year, "to_year": to_year}
    return await send_table(request, options, "alerts/backtest", params, build, models.BacktestPage)


@router.get(
    "/feed.atom", response_class=AtomResponse, responses=feed_responses(ATOM_MEDIA_TYPE, 404)
)
async def alerts_feed(
    request: Request,
    year: YearQuery = None,
    perspective: OptionalPerspectiveQuery = None,
    severity: SeverityQuery = None,
    material: OptionalMaterialQuery = None,
) -> Response:
    """The alerts of a year (as `/alerts`, from the same cached monitor) as an Atom feed
    (RFC 4287): one entry per alert, id `urn:chainwatch:alert:ALERT_ID`, the sentence as
    summary, severity, rule and state as categories."""
    store, cache = request.app.state.store, request.app.state.cache
    bodies = request.app.state.bodies
    params = {"year": year, "perspective": perspective, "material": material,
              "severity": severity}  # fmt: skip

    def render() -> Rendered:
        chosen_year = year if year is not None else latest_trade_year(store)
        found, _ = year_alerts(cache, store, chosen_year, perspective, material, severity)
        chosen = {key: value for key, value in params.items() if value is not None}
        chosen["year"] = chosen_year
        query = "&".join(f"{key}={value}" for key, value in sorted(chosen.items()))
        text = render_feed(
            feed_records(found, chosen_year),
            title=f"chainwatch alerts {chosen_year} ({perspective or 'default perspectives'})",
            feed_id=f"urn:chainwatch:feed:alerts?{query}",
            generated=datetime(chosen_year, 12, 31, 23, 59, 59, tzinfo=UTC),
        )
        body = text.encode("utf-8")
        return Rendered(body, ATOM_MEDIA_TYPE, entity_tag(body))

    rendered = await run_in_threadpool(bodies.get, "alerts/feed.atom", params, render)
    return reply(request, rendered)
