"""``chainwatch data fetch``: download a publisher's release, check it, then ingest it.

The download is resumable and checked (:mod:`chainwatch.fetch.download`); the file then goes
through the same :func:`chainwatch.ingest.pipeline.ingest_file` as ``chainwatch ingest``, so the
store takes all of it or none of it. A download that fails, or whose checksum differs from the
one expected, never reaches the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from chainwatch.fetch.config import FetchRequest, ResolvedFetch, SourceSpec, load_sources, resolve
from chainwatch.fetch.download import DownloadResult, Progress, download
from chainwatch.fetch.prepare import unzip_members, workbook_sheet_to_csv
from chainwatch.ingest.pipeline import ingest_file
from chainwatch.store import Store
from chainwatch.store.load import LoadResult


@dataclass(frozen=True)
class FetchResult:
    """What a fetch did: the file, its checksum, and the load (None when not ingested)."""

    source: str
    url: str
    path: Path
    sha256: str
    size_bytes: int
    resumed_from: int
    reused: bool
    ingested_from: Path | None
    load: LoadResult | None
    note: str


def download_directory(store: Store) -> Path:
    """Where downloads are kept by default: ``downloads/`` beside the store file."""
    return store.path.parent / "downloads"


def configured_sources(environ: Mapping[str, str] | None = None) -> dict[str, SourceSpec]:
    """The sources ``data fetch`` knows, with the overrides in force."""
    return load_sources(environ)


def fetch_source(
    store: Store,
    request: FetchRequest,
    directory: Path | None = None,
    timeout_s: float = 60.0,
    force: bool = False,
    download_only: bool = False,
    on_bytes: Progress | None = None,
    on_step: Callable[[str], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> FetchResult:
    """Download (or reuse) the requested release, check it and load it into ``store``."""
    resolved = resolve(request, load_sources(environ))
    folder = directory or download_directory(store)
    downloaded = download(resolved.url, folder / resolved.file_name, resolved.expected_sha256,
                          timeout_s=timeout_s, force=force, progress=on_bytes)  # fmt: skip
    kind = resolved.source.ingest
    note = "" if resolved.expected_sha256 else "no known checksum to compare with (recorded)"
    if download_only or not kind:
        why = "--download-only" if download_only else resolved.source.note or "no reader"
        return _result(resolved, downloaded, None, None, f"not ingested: {why}")
    path = _prepared(resolved, downloaded.path, on_step)
    loaded = ingest_file(store, kind, path, progress=on_step)
    return _result(resolved, downloaded, path, loaded, note)


def _prepared(resolved: ResolvedFetch, path: Path, on_step: Callable[[str], None] | None) -> Path:
    step = resolved.source.prepare
    if on_step and step:
        on_step(f"{step} {path.name}")
    if step == "unzip":
        folder = path.with_name(path.name.removesuffix(".zip"))
        return unzip_members(path, folder, resolved.source.members)
    if step == "workbook-to-csv":
        return workbook_sheet_to_csv(path, path.with_name(resolved.csv_name),
                                     resolved.source.columns)  # fmt: skip
    return path


def _result(
    resolved: ResolvedFetch,
    downloaded: DownloadResult,
    ingested_from: Path | None,
    loaded: LoadResult | None,
    note: str,
) -> FetchResult:
    return FetchResult(
        source=resolved.source.name,
        url=resolved.url,
        path=downloaded.path,
        sha256=downloaded.sha256,
        size_bytes=downloaded.size_bytes,
        resumed_from=downloaded.resumed_from,
        reused=downloaded.reused,
        ingested_from=ingested_from,
        load=loaded,
        note=note,
    )
