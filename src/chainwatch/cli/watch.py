"""``chainwatch watch``: the early-warning monitor (alerts of a year, the backtest) and the
delivery of alerts (subscriptions, workflow states, Atom feed, signed webhooks)."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from chainwatch.cli.engine_options import EngineOption, LakeOption, SparkMasterOption, engine_spec
from chainwatch.cli.output import Format, console, emit, errors
from chainwatch.errors import QueryError
from chainwatch.services.engines import on_engine
from chainwatch.store import Store
from chainwatch.store.app_database import APP_DB_VARIABLE
from chainwatch.store.app_state import AppState
from chainwatch.store.bundle import load_bundle
from chainwatch.store.queries import read_trade_years
from chainwatch.watch.alerts import alerts_frame
from chainwatch.watch.backtest import run_backtest
from chainwatch.watch.chart import render_backtest_svg
from chainwatch.watch.delivery import DeliveryPolicy, deliver_pending
from chainwatch.watch.feed import render_app_feed
from chainwatch.watch.inputs import DEFAULT_BLOC, read_watch_inputs
from chainwatch.watch.monitor import Monitor, calc_alerts
from chainwatch.watch.monthly import calc_monthly_alerts
from chainwatch.watch.rules import load_rules
from chainwatch.watch.secrets import generate_key
from chainwatch.watch.subscriptions import add_subscription, describe, remove_subscription
from chainwatch.watch.targets import ALLOW_VARIABLE, TargetPolicy

watch_app = typer.Typer(
    help="Early warning: alerts from trade, production, prices and export restrictions.",
    no_args_is_help=True,
    add_completion=False,
)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store file (default: $CHAINWATCH_STORE or user data dir)"),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="output format")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="write to this file")]
RulesOption = Annotated[
    Path | None, typer.Option("--rules", help="rules CSV (default: reference/watch_rules.csv)")
]
BlocOption = Annotated[str, typer.Option("--bloc", help="bloc that defines 'outside-bloc'")]
AppDbOption = Annotated[
    str | None,
    typer.Option(
        "--app-db",
        help=f"app database URL (default: ${APP_DB_VARIABLE}, else STORE.app.sqlite)",
    ),
]
AllowHostOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-host",
        help=f"a loopback or private webhook host, address or network to allow (repeatable; "
        f"also ${ALLOW_VARIABLE}, comma-separated)",
    ),
]


@watch_app.command("run")
def run(
    year: Annotated[
        int | None, typer.Option("--year", "-y", help="default: last trade year")
    ] = None,
    perspective: Annotated[
        str | None,
        typer.Option("--as", help="ISO3 country or group (default: ALLIED, CAN, EU27, GBR, USA)"),
    ] = None,
    material: Annotated[str | None, typer.Option("--material", "-m")] = None,
    rules: RulesOption = None,
    bloc: BlocOption = DEFAULT_BLOC,
    store: StoreOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            help="YYYY-MM: the monthly rules over the Comtrade monthly data "
            "(--as: a reporter ISO3; default: every reporter)",
        ),
    ] = None,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    lake: LakeOption = None,
) -> None:
    """Alerts of a year, each explained in one sentence, using only data known by its end."""
    ready = _ready(Store(store))
    if month is not None:
        if year is not None:
            raise QueryError("give --year or --month, not both")
        tested = _month(month)
        found = calc_monthly_alerts(ready, tested, perspective, material,
                                    load_rules(rules) if rules else None)  # fmt: skip
        _emit_alerts(alerts_frame(found), month, perspective or "every reporter", output_format,
                     out)  # fmt: skip
        return
    chosen = year if year is not None else max(read_trade_years(ready))
    chosen_rules = load_rules(rules) if rules else None
    alerts = on_engine(ready, engine_spec(engine, spark_master, lake), lambda source: calc_alerts(
        source, chosen, perspective, material, chosen_rules, bloc))  # fmt: skip
    frame = alerts_frame(alerts)
    _emit_alerts(frame, str(chosen), perspective or "ALLIED, CAN, EU27, GBR, USA", output_format,
                 out)  # fmt: skip


def _emit_alerts(
    frame: pd.DataFrame, when: str, who: str, output_format: Format, out: Path | None
) -> None:
    if output_format is Format.table and out is None:
        shown = frame[["severity", "rule_id", "first_year", "sentence"]].rename(
            columns={"first_year": "since"})  # fmt: skip
        emit(shown, output_format, None, title=f"Alerts {when} for {who}: {len(frame)}")
        return
    emit(frame, output_format, out, title=f"Alerts {when}")


def _month(text: str) -> date:
    """``YYYY-MM`` as the first day of that month (QueryError otherwise)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise QueryError(f"--month {text!r}: use YYYY-MM, e.g. 2023-07")
    return date(int(match.group(1)), int(match.group(2)), 1)


@watch_app.command("backtest")
def backtest(
    year_from: Annotated[int, typer.Option("--from", help="first year replayed")] = 2000,
    year_to: Annotated[int, typer.Option("--to", help="last year replayed")] = 2024,
    perspective: Annotated[
        list[str] | None,
        typer.Option("--as", help="repeatable (default: ALLIED, CAN, EU27, GBR, USA)"),
    ] = None,
    rules: RulesOption = None,
    bloc: BlocOption = DEFAULT_BLOC,
    store: StoreOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="SVG chart (default with --out: OUT.svg)")
    ] = None,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    lake: LakeOption = None,
) -> None:
    """Replay years with only what was known each year; score against export restrictions.

    table: summary, events and alerts per year; csv: the events scored; json: everything.
    """
    ready = _ready(Store(store))
    chosen_rules = load_rules(rules) if rules else None
    report = on_engine(ready, engine_spec(engine, spark_master, lake), lambda source: run_backtest(
        source, year_from, year_to, chosen_rules, perspective or None, bloc))  # fmt: skip
    chart_path = chart or (out.with_suffix(".svg") if out is not None else None)
    if chart_path is not None:
        chart_path.write_text(render_backtest_svg(report), encoding="utf-8")
        errors.print(f"chart written to {chart_path}")
    if output_format is Format.json:
        text = report.to_json() + "\n"
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
        return
    if output_format is not Format.table or out is not None:
        emit(report.scores.events, output_format, out)
        return
    summary = pd.DataFrame(
        [{"measure": key, "value": _shown(value)} for key, value in report.summary.items()]
    )
    emit(summary, Format.table, None, title=f"Backtest {report.year_from}-{report.year_to}")
    events = report.scores.events[["event_id", "effective_year", "scoreable", "caught",
                                   "first_alert_year", "lead_lag", "reason"]]  # fmt: skip
    emit(events, Format.table, None, title="Export-restriction events")
    emit(report.per_year[["year", "alerts", "new_alerts", "critical_new", "scored_new",
                          "scored_matching_event", "false_alarms"]],
         Format.table, None, title="Alerts per year")  # fmt: skip
    console.print("Scoring: docs/backtest.md. Every alert of the replay: --format json.")


@watch_app.command("subscribe")
def subscribe(
    material: Annotated[str | None, typer.Option("--material", "-m")] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="exporter ISO3 code (alerts about it)")
    ] = None,
    perspective: Annotated[
        str | None, typer.Option("--perspective", help="ISO3 country or group (e.g. CAN, EU27)")
    ] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", help="POST each new alert to this URL")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            "--secret",
            envvar="CHAINWATCH_WEBHOOK_SECRET",
            help="HMAC key signing the webhook bodies (stored encrypted)",
        ),
    ] = None,
    feed: Annotated[bool, typer.Option("--feed", help="follow it in `watch feed`")] = False,
    allow_host: AllowHostOption = None,
    store: StoreOption = None,
    app_db: AppDbOption = None,
) -> None:
    """Subscribe to the alerts of a material, a partner or a perspective."""
    chosen = [(kind, value) for kind, value in (("material", material), ("partner", partner),
                                                ("perspective", perspective)) if value]  # fmt: skip
    if len(chosen) != 1:
        raise QueryError("give exactly one of --material, --partner, --perspective")
    if feed == (webhook is not None):
        raise QueryError("give exactly one of --webhook URL (with --secret) or --feed")
    kind, value = chosen[0]
    with open_app_state(store, app_db) as app:
        targets = TargetPolicy.from_environment(allow_host or [])
        subscription = add_subscription(app, kind, value, "feed" if feed else "webhook",
                                        webhook, secret if webhook else None, targets)  # fmt: skip
    typer.echo(f"subscription {describe(subscription)}")


@watch_app.command("unsubscribe")
def unsubscribe(
    subscription_id: Annotated[int, typer.Argument(help="id (see `watch subscriptions`)")],
    store: StoreOption = None,
    app_db: AppDbOption = None,
) -> None:
    """Remove a subscription and its delivery records."""
    with open_app_state(store, app_db) as app:
        typer.echo(remove_subscription(app, subscription_id))


@watch_app.command("rotate-secrets")
def rotate_secrets(store: StoreOption = None, app_db: AppDbOption = None) -> None:
    """Re-encrypt every stored webhook secret with the first key (see docs/watch.md)."""
    with open_app_state(store, app_db) as app:
        count = app.rotate_secrets()
    typer.echo(f"{count} webhook secrets re-encrypted with the first key")


@watch_app.command("new-key")
def new_key() -> None:
    """Print a new random key for $CHAINWATCH_SECRET_KEY or a key file."""
    typer.echo(generate_key())


@watch_app.command("subscriptions")
def subscriptions(
    store: StoreOption = None,
    app_db: AppDbOption = None,
    output_format: FormatOption = Format.table,
) -> None:
    """The subscriptions (secrets are not shown)."""
    with open_app_state(store, app_db) as app:
        rows = [{"id": s.subscription_id, "kind": s.kind, "value": s.value,
                 "channel": s.channel, "url": s.url or "",
                 "created_at": s.created_at.isoformat(timespec="seconds")}
                for s in app.subscriptions()]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["id", "kind", "value", "channel", "url", "created_at"])
    emit(frame, output_format, None, title=f"Subscriptions: {len(frame)}")


@watch_app.command("ack")
def ack(
    alert_id: Annotated[str, typer.Argument(help="alert id (as in `watch run` or the feed)")],
    state: Annotated[str, typer.Option("--state", help="confirmed, dismissed or resolved")],
    note: Annotated[str | None, typer.Option("--note", help="why (kept in the audit)")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="who (default: $USER)")] = None,
    store: StoreOption = None,
    app_db: AppDbOption = None,
) -> None:
    """Move a stored alert through its workflow (audited)."""
    who = actor or os.environ.get("USER") or "cli"
    with open_app_state(store, app_db) as app:
        before = app.alert(alert_id).state
        record = app.transition(alert_id, state, actor=who, note=note)
    typer.echo(f"alert {record.alert_id}: {before} -> {record.state}")


@watch_app.command("feed")
def feed_command(
    subscription: Annotated[
        int | None, typer.Option("--subscription", help="only the alerts it matches")
    ] = None,
    store: StoreOption = None,
    app_db: AppDbOption = None,
    out: OutOption = None,
) -> None:
    """The stored alerts as an Atom feed (RFC 4287)."""
    with open_app_state(store, app_db) as app:
        text = render_app_feed(app, subscription)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@watch_app.command("deliver")
def deliver(
    year: Annotated[
        int | None, typer.Option("--year", "-y", help="default: last trade year")
    ] = None,
    perspective: Annotated[
        str | None,
        typer.Option("--as", help="ISO3 country or group (default: ALLIED, CAN, EU27, GBR, USA)"),
    ] = None,
    rules: RulesOption = None,
    bloc: BlocOption = DEFAULT_BLOC,
    timeout: Annotated[
        float, typer.Option("--timeout", help="seconds for a whole POST (then a failure)")
    ] = 10.0,
    workers: Annotated[int, typer.Option("--workers", help="POSTs at the same time")] = 8,
    lease: Annotated[
        float | None,
        typer.Option("--lease", help="seconds a claimed delivery is held (default timeout+30)"),
    ] = None,
    backoff: Annotated[
        float,
        typer.Option(
            "--backoff",
            help="seconds before a failed delivery is retried by a "
            "later run (doubles per attempt, at most 6 h)",
        ),
    ] = 60.0,
    allow_host: AllowHostOption = None,
    store: StoreOption = None,
    app_db: AppDbOption = None,
) -> None:
    """Run the monitor for a year, store its alerts, POST them to the matching webhooks.

    One attempt per delivery and run; failures are retried by later runs.
    Retries carry the same X-Chainwatch-Delivery id (receivers dedupe on it).
    """
    policy = DeliveryPolicy(timeout_s=timeout, workers=workers, lease_s=lease, backoff_s=backoff,
                            max_backoff_s=max(backoff, 6 * 3600.0))  # fmt: skip
    targets = TargetPolicy.from_environment(allow_host or [])
    ready = _ready(Store(store))
    chosen = year if year is not None else max(read_trade_years(ready))
    inputs = read_watch_inputs(ready, chosen, [perspective] if perspective else None, bloc)
    with open_app_state(store, app_db) as app:
        monitor = Monitor(inputs, load_rules(rules) if rules else None, states=app)
        records = app.record_alerts(monitor.alerts(chosen))
        outcomes = deliver_pending(app, [r.alert_id for r in records], policy, targets)
    counts = {status: sum(o.status == status for o in outcomes)
              for status in ("delivered", "skipped", "failed", "waiting")}  # fmt: skip
    typer.echo(
        f"{chosen}: {len(records)} alerts stored; webhooks: {counts['delivered']} "
        f"delivered, {counts['skipped']} already delivered, {counts['failed']} failed, "
        f"{counts['waiting']} waiting to be retried"
    )
    for outcome in outcomes:
        if outcome.status == "failed":
            errors.print(
                f"subscription {outcome.subscription_id}, alert {outcome.alert_id}: "
                f"{outcome.error} (attempt {outcome.attempts}; retried by a later run)",
                highlight=False,
            )


def open_app_state(store: Path | None, app_db: str | None) -> AppState:
    """The app database of ``--app-db``, else $CHAINWATCH_APP_DB, else beside the store."""
    return AppState(app_db, Store(store).path)


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value)


def _ready(store: Store) -> Store:
    """The store, built from the bundled data on first use (as ``chainwatch`` does)."""
    if not store.exists():
        errors.print(f"No store at {store.path} yet: building it from the bundled data ...")
        load_bundle(store)
    return store
