"""``chainwatch data``: fetch the publishers' full releases (docs/data_fetch.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from chainwatch.cli.output import Format, console, emit, errors
from chainwatch.fetch import FetchRequest, FetchResult, configured_sources, fetch_source
from chainwatch.store import Store
from chainwatch.store.bundle import load_bundle

data_app = typer.Typer(help="Download the publishers' full releases and load them.")


class FetchSource(StrEnum):
    baci = "baci"
    wgi = "wgi"
    pink_sheet = "pink-sheet"
    usgs_mcs = "usgs-mcs"
    wmd = "wmd"


@data_app.command("fetch")
def fetch(
    source: Annotated[FetchSource, typer.Argument(help="which publisher's release")],
    hs: Annotated[
        str | None, typer.Option("--hs", help="BACI: HS revision (HS92 ... HS22)")
    ] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="release (BACI V202601, USGS 2024, ...)")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help="download from here instead")] = None,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="refuse the file unless it has this sha256")
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="keep downloads here (default: beside the store)")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds without data")] = 60.0,
    force: Annotated[bool, typer.Option("--force", help="download again even if complete")] = False,
    download_only: Annotated[bool, typer.Option("--download-only", help="do not ingest")] = False,
    store: Annotated[Path | None, typer.Option("--store", help="DuckDB store file")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output")] = False,
) -> None:
    """Download a release (resuming a broken transfer), check its sha256, then ingest it."""
    request = FetchRequest(source.value, hs=hs, release=release, url=url, sha256=sha256)
    target = Store(store)
    silent = quiet or as_json
    if not target.exists():
        if not silent:
            errors.print(f"No store at {target.path} yet: building it from the bundled data ...")
        load_bundle(target)
    with _Bar(silent) as bar:
        result = fetch_source(target, request, directory, timeout_s=timeout, force=force,
                              download_only=download_only, on_bytes=bar.advance,
                              on_step=bar.step)  # fmt: skip
    if as_json:
        print(json.dumps(_summary(result)))
    elif not quiet:
        _report(result)


@data_app.command("sources")
def sources(
    output_format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """List the publishers' URLs ``data fetch`` uses (with the overrides in force)."""
    rows = [{"source": spec.name, "release": spec.release, "url": spec.url,
             "ingest": spec.ingest or "(download only)", "checked": spec.checked}
            for spec in configured_sources().values()]  # fmt: skip
    emit(pd.DataFrame(rows), output_format, None, title="Publisher sources")


class _Bar:
    """A rich progress bar for the download, then a status line for the ingest steps."""

    def __init__(self, silent: bool) -> None:
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        if not silent:
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(), console=console, transient=True,
            )  # fmt: skip

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("downloading", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, done: int, total: int | None) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, completed=done, total=total)

    def step(self, message: str) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=message)


def _summary(result: FetchResult) -> dict[str, object]:
    return {
        "source": result.source,
        "url": result.url,
        "file": str(result.path),
        "sha256": result.sha256,
        "bytes": result.size_bytes,
        "resumed_from": result.resumed_from,
        "reused": result.reused,
        "ingested": result.load is not None,
        "source_id": result.load.source_id if result.load else None,
        "rows": result.load.rows if result.load else {},
        "note": result.note,
    }


def _report(result: FetchResult) -> None:
    how = "already downloaded" if result.reused else "downloaded"
    if result.resumed_from:
        how += f" (resumed at {result.resumed_from:,} bytes)"
    console.print(f"{result.path.name}: {how}, {result.size_bytes:,} bytes, "
                  f"sha256 {result.sha256}", highlight=False, soft_wrap=True)  # fmt: skip
    if result.load is not None:
        loaded = ", ".join(f"{rows:,} {table}" for table, rows in result.load.rows.items())
        console.print(f"Loaded {result.load.source_id}: {loaded}", highlight=False,
                      soft_wrap=True)  # fmt: skip
    if result.note:
        console.print(result.note, highlight=False, soft_wrap=True)
