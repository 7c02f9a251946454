"""``chainwatch`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape

from chainwatch import schema
from chainwatch.cli.data import data_app
from chainwatch.cli.engine_options import EngineOption, LakeOption, SparkMasterOption, engine_spec
from chainwatch.cli.output import Format, console, emit, errors
from chainwatch.cli.partnerships import partnerships_app, texts_app
from chainwatch.cli.watch import watch_app
from chainwatch.errors import (
    EngineError,
    FetchError,
    InputError,
    QueryError,
    StoreError,
    one_line,
)
from chainwatch.ingest.pipeline import PARSERS, build_bundle, ingest_file
from chainwatch.ingest.reference_lists import parse_user_group
from chainwatch.metrics.all_importers import SET_METRICS
from chainwatch.metrics.service import DEFAULT_BLOC
from chainwatch.partnerships.service import add_text_files, read_partnerships
from chainwatch.services import metrics as services
from chainwatch.store import Store
from chainwatch.store.app_state import AppState
from chainwatch.store.bundle import bundle_directory, load_bundle
from chainwatch.store.lake import write_lake
from chainwatch.store.load import load_parsed
from chainwatch.store.queries import read_groups, read_sources

app = typer.Typer(
    help="Allied supply-chain intelligence: dependence, concentration and supply risk.",
    no_args_is_help=True,
    add_completion=False,
)
bundle_app = typer.Typer(help="Developer commands for the bundled data set.")
app.add_typer(bundle_app, name="bundle")
groups_app = typer.Typer(help="Country groups (EU27, ALLIED, ... and your own).")
app.add_typer(groups_app, name="groups")
app.add_typer(watch_app, name="watch")
app.add_typer(texts_app, name="texts")
app.add_typer(partnerships_app, name="partnerships")
app.add_typer(data_app, name="data")
export_app = typer.Typer(help="Write the canonical tables for other engines.")
app.add_typer(export_app, name="export")
ALL_IMPORTERS = "ALL"

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="DuckDB store file (default: $CHAINWATCH_STORE or user data dir)"),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output")]


@app.command()
def init(
    store: StoreOption = None, quiet: QuietOption = False, as_json: JsonOption = False
) -> None:
    """Build (or rebuild) the store from the bundled real data set."""
    target = Store(store)
    if quiet or as_json:
        counts = load_bundle(target)
    else:
        with console.status(f"Loading the bundled data set into {target.path} ..."):
            counts = load_bundle(target)
    if as_json:
        print(json.dumps({"store": str(target.path), "rows": counts}))
    elif not quiet:
        console.print(f"Store ready at [bold]{target.path}[/bold]: "
                      f"{counts.get('trade_flow', 0):,} trade flows, "
                      f"{counts.get('production', 0):,} production figures.")  # fmt: skip


@app.command()
def ingest(
    kind: Annotated[str, typer.Argument(help=f"one of: {', '.join(PARSERS)}")],
    path: Annotated[Path, typer.Argument(help="file, archive or directory as published")],
    store: StoreOption = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Load a publisher's file into the store (all or nothing)."""
    target = Store(store)
    if quiet or as_json:
        result = ingest_file(target, kind, path)
    else:
        with console.status(f"Ingesting {kind} from {path} ...") as status:
            result = ingest_file(
                target,
                kind,
                path,
                progress=lambda step: status.update(f"Ingesting {kind}: {step} ..."),
            )
    if as_json:
        print(json.dumps({"source_id": result.source_id, "rows": result.rows}))
    elif not quiet:
        loaded = ", ".join(f"{rows:,} {table}" for table, rows in result.rows.items())
        console.print(f"Loaded {result.source_id}: {loaded}")


@app.command()
def sources(
    store: StoreOption = None,
    output_format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    out: Annotated[Path | None, typer.Option("--out", "-o")] = None,
) -> None:
    """List the data sets in the store with version, licence and citation."""
    frame = read_sources(_ready(Store(store)))
    emit(frame, output_format, out, title="Sources")


@app.command("schema")
def show_schema(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/schema.md")] = False,
) -> None:
    """Show the canonical schema (declared once in schema/tables.csv)."""
    if markdown:
        sys.stdout.write(schema.render_markdown())
        return
    rows = [
        {"table": c.table, "column": c.name, "type": c.type, "unit": c.unit,
         "required": c.required, "key": c.key}
        for spec in schema.tables().values() for c in spec.columns
    ]  # fmt: skip
    emit(pd.DataFrame(rows), Format.table, None, title="Canonical schema")


AsOption = Annotated[
    str, typer.Option("--as", help="perspective: ISO3 country or group (EU27, ALLIED, NATO, ...)")
]
BlocOption = Annotated[str, typer.Option("--bloc", help="bloc that defines 'outside-bloc'")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="output format")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="write to this file")]


@app.command()
def metrics(
    perspective: AsOption,
    year: Annotated[list[int] | None, typer.Option("--year", "-y", help="repeatable")] = None,
    material: Annotated[str | None, typer.Option("--material", "-m")] = None,
    hs6: Annotated[str | None, typer.Option("--hs6")] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="mine or refinery")] = None,
    bloc: BlocOption = DEFAULT_BLOC,
    wide: Annotated[bool, typer.Option("--wide", help="one column per metric")] = False,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            help=f"only these metrics (repeatable); with --as ALL: {', '.join(SET_METRICS)}",
        ),
    ] = None,
    store: StoreOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    lake: LakeOption = None,
) -> None:
    """Dependence, concentration and supply-risk metrics for a country or a group, or with
    ``--as ALL`` for every country and group at once."""
    spec = engine_spec(engine, spark_master, lake)
    ready = _ready(Store(store)) if lake is None else Store(store)
    if perspective.strip().upper() == ALL_IMPORTERS:
        if material or hs6 or stage:
            raise QueryError("--as ALL covers every material: leave out --material/--hs6/--stage")
        if not year:
            raise QueryError("--as ALL needs --year")
        frame = services.all_importers(ready, year, metric or ["geopolrisk_score"], bloc, spec)
    else:
        frame = services.dependency_metrics(ready, perspective, year, material, hs6, stage,
                                            bloc, spec)  # fmt: skip
        if metric:
            frame = frame[frame["metric"].isin(metric)].reset_index(drop=True)
    if wide:
        frame = frame.pivot_table(
            index=["perspective", "year", "material", "stage"], columns="metric",
            values="value", aggfunc="first",
        ).reset_index()  # fmt: skip
    elif output_format is Format.table and out is None:
        frame = frame[["year", "stage", "metric", "value", "unit", "detail"]]
    emit(frame, output_format, out, title=f"Metrics for {perspective}")


@app.command()
def risk(
    perspective: AsOption,
    year: Annotated[int | None, typer.Option("--year", "-y")] = None,
    bloc: BlocOption = DEFAULT_BLOC,
    top: Annotated[int, typer.Option("--top", help="rows to show in the table view")] = 25,
    store: StoreOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
    engine: EngineOption = "duckdb",
    spark_master: SparkMasterOption = None,
    lake: LakeOption = None,
) -> None:
    """All materials ranked by supply risk for a perspective, with the criteria that fire."""
    spec = engine_spec(engine, spark_master, lake)
    ready = _ready(Store(store)) if lake is None else Store(store)
    chosen = year or services.default_risk_year(ready, spec)
    table = services.risk_table(ready, perspective, chosen, bloc, spec)
    if output_format is Format.table and out is None:
        shown = table.head(top).assign(
            basis=[_risk_basis(f, m) for f, m in zip(table["fallbacks"], table["missing"],
                                                    strict=True)][:top],
        )[["rank", "material", "riskiest_stage", "eu_supply_risk", "import_reliance",
           "production_hhi", "imports_value_usd", "basis", "drivers", "criteria_met"]]  # fmt: skip
        emit(shown, output_format, out, title=f"Supply risk for {perspective}, {chosen}")
        scored = int(table["eu_supply_risk"].notna().sum())
        threshold = table.attrs["provenance"]["materiality_usd"]
        console.print(f"{scored} of {len(table)} materials scored; imports below "
                      f"US${threshold:,.0f} rank last.")  # fmt: skip
        for _, row in table[table["missing"] != ""].iterrows():
            console.print(f"not scored: {row['material']}: {row['missing']}")
        return
    emit(table, output_format, out)


def _risk_basis(fallback: str, missing: str) -> str:
    """Which form of the supply-risk method a row rests on, in a word or two."""
    if missing:
        return "not computable"
    if fallback:
        return fallback.removeprefix("fallback: ").split(" (")[0]
    return "full method"


@export_app.command("lake")
def export_lake(
    directory: Annotated[Path, typer.Argument(help="directory to write (new, or a lake)")],
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the canonical tables as Parquet partitioned by year (trade also by HS chapter),
    for Spark or DuckDB to read directly (``--engine spark --lake DIR``)."""
    rows = write_lake(_ready(Store(store)), directory)
    if as_json:
        print(json.dumps({"lake": str(directory), "tables": rows}))
        return
    console.print(f"Wrote {sum(rows.values()):,} rows in {len(rows)} tables to {directory}")


DEFAULT_WORKERS = 2
WorkersOption = Annotated[
    int,
    typer.Option("--workers", min=1, max=64,
                 help="server processes (2 suits a 2-core machine: docs/api.md, Performance)"),
]  # fmt: skip
AllowedHostOption = Annotated[
    list[str] | None,
    typer.Option("--allowed-host", help="a Host name the server answers for, besides "
                 "localhost, 127.0.0.1, ::1 and --host (repeatable)"),
]  # fmt: skip


@app.command()
def start(
    perspective: AsOption = "ALLIED",
    year: Annotated[int | None, typer.Option("--year", "-y")] = None,
    store: StoreOption = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="report only")] = False,
    texts: Annotated[
        list[Path] | None,
        typer.Option("--texts", help="press texts (files or folders) to add to the tracker"),
    ] = None,
    workers: WorkersOption = DEFAULT_WORKERS,
    allowed_host: AllowedHostOption = None,
) -> None:
    """The main job: build the store if needed, print a first report, serve the dashboard."""
    ready = _ready(Store(store))
    if texts:
        _add_start_texts(ready, texts)
    chosen = year or services.default_risk_year(ready)
    console.print(f"chainwatch: store {ready.path}")
    table = services.risk_table(ready, perspective, chosen, DEFAULT_BLOC)
    shown = table.head(15)[["rank", "material", "riskiest_stage", "eu_supply_risk",
                            "import_reliance", "outside_bloc_share", "criteria"]]  # fmt: skip
    emit(shown, Format.table, None, title=f"Most exposed materials: {perspective}, {chosen}")
    console.print(
        "Method: EU CRM supply risk (JRC 2017) per stage, dependency screen (HHI > 0.4, "
        "outside-bloc share > 0.5, imports/exports > 1). Sources: `chainwatch sources`. "
        "Details: `chainwatch metrics --as CAN --material cobalt`."
    )
    if not no_serve:
        serve(store=ready.path, host=host, port=port, workers=workers, allowed_host=allowed_host)


@groups_app.command("list")
def groups_list(
    store: StoreOption = None,
    output_format: FormatOption = Format.table,
    out: OutOption = None,
) -> None:
    """Groups with their member counts."""
    emit(read_groups(_ready(Store(store))), output_format, out, title="Country groups")


@groups_app.command("define")
def groups_define(
    group_id: Annotated[str, typer.Option("--id", help="identifier, e.g. NORDIC")],
    members: Annotated[str, typer.Option("--members", help="ISO3 codes, comma-separated")],
    name: Annotated[str, typer.Option("--name")] = "",
    store: StoreOption = None,
) -> None:
    """Define (or redefine) your own group; use it with --as or --bloc."""
    ready = _ready(Store(store))
    codes = [code for code in members.split(",") if code.strip()]
    with ready.writing() as con:
        load_parsed(con, parse_user_group(group_id, name, codes))
    console.print(f"Group {group_id}: {len(codes)} members. Try: chainwatch risk --as {group_id}")


@app.command()
def serve(
    store: StoreOption = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: WorkersOption = DEFAULT_WORKERS,
    allowed_host: AllowedHostOption = None,
) -> None:
    """Serve the dashboard and the JSON API (http://HOST:PORT/, API at /api/v1): first the
    alerts and backtest of the store's version are precomputed (once per version)."""
    import os

    import uvicorn

    from chainwatch.api.middleware import ALLOWED_HOSTS_ENV, allowed_hosts
    from chainwatch.store.duckdb_store import STORE_ENV

    ready = _ready(Store(store))
    _precompute(ready)
    # the workers build their app from the environment (uvicorn's factory takes no arguments)
    os.environ[STORE_ENV] = str(ready.path)
    os.environ[ALLOWED_HOSTS_ENV] = ",".join(sorted(allowed_hosts(host, allowed_host or [])))
    console.print(f"chainwatch dashboard: http://{host}:{port}/  (API docs: /api/docs)")
    uvicorn.run("chainwatch.api.app:create_app", factory=True, host=host, port=port,
                workers=workers, log_level="warning")  # fmt: skip


def _precompute(store: Store) -> None:
    """The precomputed alerts of the store's version, computed in a process of its own (its
    memory goes back to the system before the server starts) unless they are on disk."""
    import multiprocessing

    from chainwatch.api.app import precompute_store
    from chainwatch.services.alerts import missing_precomputed

    if not missing_precomputed(store):
        return
    console.print("Precomputing the alerts, the backtest and the first screens for this "
                  "store version (once per version; about a minute) ...")  # fmt: skip
    process = multiprocessing.get_context("spawn").Process(
        target=precompute_store, args=(str(store.path),), name="chainwatch-precompute"
    )
    process.start()
    process.join()
    if process.exitcode != 0:
        errors.print(f"warning: precomputing stopped (exit status {process.exitcode}); the "
                     "first alerts request computes them instead")  # fmt: skip


@bundle_app.command("build")
def bundle_build(
    data: Annotated[Path, typer.Option("--from", help="shared/data directory")],
    out: Annotated[Path | None, typer.Option("--out")] = None,
) -> None:
    """Rebuild the bundled Parquet data set from shared/data (licence class A and D only)."""
    target = out or bundle_directory()
    counts = build_bundle(data, target, progress=lambda step: console.print(f"  {step} ..."))
    for table, rows in counts.items():
        console.print(f"{table}: {rows:,}")


def _add_start_texts(store: Store, paths: list[Path]) -> None:
    """Add the texts given to ``start`` (a folder: its .txt, .htm and .html files)."""
    files = [
        found
        for path in paths
        for found in (
            sorted(p for p in path.iterdir() if p.suffix.lower() in (".txt", ".htm", ".html"))
            if path.is_dir() else [path]
        )
    ]  # fmt: skip
    with AppState(None, store.path) as state:
        add_text_files(state, files, actor="start")
        records = read_partnerships(state)
    console.print(f"Partnership tracker: {len(files)} text(s) given, {len(records)} "
                  "partnership record(s); `chainwatch partnerships` lists them.")  # fmt: skip


def _ready(store: Store) -> Store:
    """The store, built from the bundled data on first use."""
    if not store.exists():
        errors.print(f"No store at {store.path} yet: building it from the bundled data ...")
        load_bundle(store)
    return store


INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT), as shells report it."""


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit status 2; Ctrl-C one line
    and exit status 130 (a load in progress is abandoned: nothing is committed)."""
    try:
        app()
    except (InputError, QueryError, StoreError, EngineError, FetchError) as error:
        shown = escape(one_line(str(error)))  # a value quoted back may hold [markup]
        errors.print(f"[bold red]error:[/bold red] {shown}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as stop:
        if stop.code == INTERRUPTED:  # typer turns Ctrl-C into exit 130, silently
            _interrupted()
        raise


def _interrupted() -> None:
    errors.print("[bold red]interrupted:[/bold red] nothing was committed; the store keeps its "
                 "previous state", highlight=False, soft_wrap=True)  # fmt: skip
    sys.exit(INTERRUPTED)
