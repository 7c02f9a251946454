"""Early-warning alerts (chainwatch.watch): the alerts of a year and the backtest, read-only.

One :class:`~chainwatch.watch.monitor.Monitor` per perspective and bloc is kept in the result
cache (so per store version): it reads the inputs once and cuts them at every year it
evaluates, so the alerts of year T rest only on what was known at the end of T, exactly as
``calc_alerts(store, T)`` (docs/watch.md, "No look-ahead"). The backtest replays years on the
default monitor, so a first backtest (about 15 s) warms every later one and the alerts of
every year. The dashboard's Alerts page reads through the same functions.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from chainwatch.api import builders, models
from chainwatch.api.cache import ResultCache, entity_tag
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
from chainwatch.errors import QueryError
from chainwatch.store import Store
from chainwatch.store.app_state import AlertRecord, alert_scope
from chainwatch.watch.alerts import ALERT_COLUMNS, Alert, alerts_frame
from chainwatch.watch.backtest import (
    SCORED_SIGNALS,
    BacktestReport,
    calc_backtest_scores,
    calc_event_coverage,
    calc_volume_per_year,
    replay,
)
from chainwatch.watch.feed import render_feed
from chainwatch.watch.inputs import DEFAULT_BLOC, WatchInputs, read_event_list, read_watch_inputs
from chainwatch.watch.monitor import Monitor

ATOM_MEDIA_TYPE = "application/atom+xml"


class AtomResponse(Response):
    media_type = ATOM_MEDIA_TYPE


router = APIRouter(prefix="/alerts", tags=["alerts"], dependencies=[Conditional])

WATCH_METHOD = "docs/watch.md"
BACKTEST_METHOD = "docs/backtest.md"
BACKTEST_FROM, BACKTEST_TO = 2000, 2024
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


@dataclass
class Watch:
    """A monitor over one perspective set and bloc; the lock serialises its year caches."""

    inputs: WatchInputs
    monitor: Monitor
    lock: threading.Lock


def watch(cache: ResultCache, store: Store, perspective: str | None, bloc: str) -> Watch:
    """The cached monitor for ``perspective`` (None: the default set) and ``bloc``."""

    def build() -> Watch:
        last = builders.latest_trade_year(store)
        inputs = read_watch_inputs(store, last, [perspective] if perspective else None, bloc)
        return Watch(inputs, Monitor(inputs), threading.Lock())

    return cache.get("watch.monitor", {"perspective": perspective, "bloc": bloc}, build)


def year_alerts(
    cache: ResultCache,
    store: Store,
    year: int,
    perspective: str | None = None,
    material: str | None = None,
    severity: str | None = None,
    bloc: str = DEFAULT_BLOC,
) -> tuple[list[Alert], Watch]:
    """The alerts of ``year`` from what was known at its end (404 for a year without trade
    data, an unknown perspective, bloc or material), most severe first."""
    builders.require_trade_years(store, [year])
    if material is not None:
        builders.require_material(store, material)
    chosen = watch(cache, store, perspective, bloc)
    with chosen.lock:
        alerts = chosen.monitor.alerts(year)
    if material is not None:
        alerts = [a for a in alerts if material in (a.material or "").split(";")]
    if severity is not None:
        alerts = [a for a in alerts if a.severity == severity]
    return alerts, chosen


def backtest(
    cache: ResultCache, store: Store, year_from: int = BACKTEST_FROM, year_to: int = BACKTEST_TO
) -> BacktestReport:
    """The backtest of ``year_from`` .. ``year_to`` as ``run_backtest`` scores it, replayed on
    the cached default monitor (cached itself)."""
    if year_from > year_to:
        raise QueryError(f"no years to replay: from_year {year_from} is after to_year {year_to}")

    def build() -> BacktestReport:
        chosen = watch(cache, store, None, DEFAULT_BLOC)
        inputs = chosen.inputs
        first, last = int(inputs.exports["year"].min()), inputs.last_year
        if year_from < first + 1:
            raise QueryError(f"the backtest needs a year of history: start at {first + 1} or later")
        if year_from > last:
            raise QueryError(f"no trade data for {year_from}: the data end in {last}")
        end = min(year_to, last)
        with chosen.lock:
            alerts = alerts_frame(replay(chosen.monitor, range(year_from, end + 1)))
        exports = inputs.exports[inputs.exports["year"] <= end]
        traded = exports[["exporter_iso3", "hs6"]].drop_duplicates()
        coverage = calc_event_coverage(read_event_list(store), traded, year_from, end, last)
        scores = calc_backtest_scores(alerts, coverage, year_from, end)
        per_year = calc_volume_per_year(alerts, scores.episodes, year_from, end)
        settings = {
            "perspectives": list(inputs.perspectives), "bloc": inputs.bloc_id,
            "rules": [rule.rule_id for rule in chosen.monitor.rules],
            "scored_signals": list(SCORED_SIGNALS), "sources": inputs.sources,
        }  # fmt: skip
        return BacktestReport(year_from, end, alerts, scores, per_year, settings)

    return cache.get("watch.backtest", {"from": year_from, "to": year_to}, build)


def _number(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def alert_record(alert: Alert) -> dict[str, Any]:
    """An alert as an API row (no workflow state: this API is read-only)."""
    record = alert.to_record()
    record.pop("state")
    record["value"] = _number(record["value"])
    record["series"] = [{"period": str(period), "value": _number(float(value))}
                        for period, value in alert.series]  # fmt: skip
    return record


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
            {key: _number(value) for key, value in report.summary.items()}
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
        chosen_year = year if year is not None else builders.latest_trade_year(store)
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


def feed_records(alerts: list[Alert], year: int) -> list[AlertRecord]:
    """Computed alerts as feed entries: updated at the end of their year (what they rest on
    was known then), so the document, and its ETag, depend on the data only."""
    updated = datetime(year, 12, 31, 23, 59, 59, tzinfo=UTC)
    return [
        AlertRecord(alert_id=alert.alert_id, rule_id=alert.rule_id, severity=alert.severity,
                    scope=alert_scope(alert), first_year=alert.first_year, last_year=alert.year,
                    sentence=alert.sentence, state=alert.state, updated_at=updated)
        for alert in alerts
    ]  # fmt: skip


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
        chosen_year = year if year is not None else builders.latest_trade_year(store)
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
