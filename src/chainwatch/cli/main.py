"""``chainwatch`` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from chainwatch import schema
from chainwatch.cli.output import Format, console, emit, errors
from chainwatch.errors import InputError, StoreError
from chainwatch.ingest.pipeline import PARSERS, build_bundle, ingest_file
from chainwatch.store import Store
from chainwatch.store.bundle import bundle_directory, load_bundle
from chainwatch.store.queries import read_sources

app = typer.Typer(
    help="Allied supply-chain intelligence: dependence, concentration and supply risk.",
    no_args_is_help=True,
    add_completion=False,
)
bundle_app = typer.Typer(help="Developer commands for the bundled data set.")
app.add_typer(bundle_app, name="bundle")

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
        with console.status(f"Ingesting {kind} from {path} (parse, check, load) ..."):
            result = ingest_file(target, kind, path)
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


def _ready(store: Store) -> Store:
    """The store, built from the bundled data on first use."""
    if not store.exists():
        errors.print(f"No store at {store.path} yet: building it from the bundled data ...")
        load_bundle(store)
    return store


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit status 2."""
    try:
        app()
    except (InputError, StoreError) as error:
        errors.print(f"[bold red]error:[/bold red] {error}", highlight=False, soft_wrap=True)
        sys.exit(2)
