"""``chainwatch watch``: the early-warning monitor (alerts of a year, and the backtest)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from chainwatch.cli.output import Format, console, emit, errors
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle
from chainwatch.store.queries import read_trade_years
from chainwatch.watch.alerts import alerts_frame
from chainwatch.watch.backtest import run_backtest
from chainwatch.watch.chart import render_backtest_svg
from chainwatch.watch.inputs import DEFAULT_BLOC
from chainwatch.watch.monitor import calc_alerts
from chainwatch.watch.rules import load_rules

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
) -> None:
    """Alerts of a year, each explained in one sentence, using only data known by its end."""
    ready = _ready(Store(store))
    chosen = year if year is not None else max(read_trade_years(ready))
    alerts = calc_alerts(ready, chosen, perspective, material,
                         load_rules(rules) if rules else None, bloc)  # fmt: skip
    frame = alerts_frame(alerts)
    if output_format is Format.table and out is None:
        shown = frame[["severity", "rule_id", "first_year", "sentence"]].rename(
            columns={"first_year": "since"})  # fmt: skip
        who = perspective or "ALLIED, CAN, EU27, GBR, USA"
        emit(shown, output_format, None, title=f"Alerts {chosen} for {who}: {len(frame)}")
        return
    emit(frame, output_format, out, title=f"Alerts {chosen}")


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
) -> None:
    """Replay years with only what was known each year; score against export restrictions.

    table: summary, events and alerts per year; csv: the events scored; json: everything.
    """
    ready = _ready(Store(store))
    report = run_backtest(ready, year_from, year_to, load_rules(rules) if rules else None,
                          perspective or None, bloc)  # fmt: skip
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
