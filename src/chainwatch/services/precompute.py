"""Precomputed results on disk, next to the store, one set per store version (ADR 0010).

The heavy results (the default monitors' alerts of every year, the default backtest) take
10-30 s to compute and depend only on the store's content and the method's code. They are
written once per (store version, method version) as JSON documents in
``<store file>.results/<version>/`` and read back by every later process, so a server
answers its first alerts request after a restart in well under a second.

* The store version is :func:`chainwatch.services.cache.store_version` (inode, mtime, size of
  the store file: a load replaces the file, a restart keeps it). The method version hashes the
  code and rules that compute the results, so a changed rule never reads stale alerts.
* Writes are atomic (temporary file, then ``os.replace``); a document that cannot be read is
  treated as missing and computed again. Directories of other versions are removed when a new
  one is written. A store directory that cannot be written to keeps results in memory only.
* :func:`computing` is an exclusive file lock per version: processes (uvicorn workers)
  compute a missing document once; the others wait for it and read it.

This module stores and restores; :mod:`chainwatch.services.alerts` decides what to compute.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from chainwatch import __version__
from chainwatch.store import Store
from chainwatch.watch.alerts import Alert, AlertState
from chainwatch.watch.backtest import BacktestReport, BacktestScores

FORMAT_VERSION = 1
"""The layout of the documents below; change it when they change."""
METHOD_MODULES = ("alerts", "backtest", "explain", "inputs", "monitor", "rules", "signals")
"""The chainwatch.watch modules whose code decides the precomputed results."""
SUFFIX = ".results"
log = logging.getLogger("chainwatch.precompute")

__all__ = [
    "FORMAT_VERSION",
    "computing",
    "method_version",
    "read_alert",
    "read_backtest",
    "read_document",
    "read_frame",
    "results_root",
    "version_directory",
    "write_alert",
    "write_backtest",
    "write_document",
    "write_frame",
]


@functools.cache
def method_version() -> str:
    """A hash of what computes the results: chainwatch's version, this format, the watch
    modules' code, the bundled rules and the alerts service (read once per process: the code
    it runs is the code it loaded)."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{__version__}|{FORMAT_VERSION}".encode())
    package = resources.files("chainwatch")
    parts = [package / "watch" / f"{name}.py" for name in METHOD_MODULES]
    parts += [package / "reference" / "watch_rules.csv", package / "services" / "alerts.py"]
    for part in parts:
        digest.update(part.read_bytes())
    return digest.hexdigest()


def results_root(store: Store) -> Path:
    """Where the store's precomputed results live: ``<store file>.results``."""
    return store.path.with_name(store.path.name + SUFFIX)


def version_directory(store: Store, store_version: str) -> Path:
    """The directory of one (store version, method version)."""
    return results_root(store) / f"{store_version}-m{method_version()}"


def read_document(store: Store, store_version: str, name: str) -> dict[str, Any] | None:
    """The document ``name`` of this version, or None when missing or unreadable."""
    path = version_directory(store, store_version) / f"{name}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        log.warning("cannot read precomputed %s: %s", name, error.strerror)
        return None
    try:
        document: dict[str, Any] = json.loads(text)
    except ValueError:
        log.warning("precomputed %s is not valid JSON: computing it again", name)
        return None
    return document


def write_document(store: Store, store_version: str, name: str, document: dict[str, Any]) -> bool:
    """Write ``document`` atomically; False (logged) when the directory is not writable."""
    directory = version_directory(store, store_version)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{name}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, directory / f"{name}.json")
    except OSError as error:
        log.warning("cannot write precomputed %s: %s", name, error.strerror)
        return False
    _remove_other_versions(directory)
    return True


def _remove_other_versions(current: Path) -> None:
    for other in current.parent.iterdir():
        if other != current and other.is_dir() and not other.name.startswith("."):
            shutil.rmtree(other, ignore_errors=True)


@contextlib.contextmanager
def computing(store: Store, store_version: str) -> Iterator[None]:
    """Hold the version's exclusive lock for the block (waits while another process holds
    it); without a writable directory, no lock (each process computes for itself)."""
    root = results_root(store)
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = (root / f".{store_version}.lock").open("w")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    with contextlib.suppress(OSError):
        for stale in root.glob(".*.lock"):
            if stale.name != f".{store_version}.lock":
                stale.unlink()


PLAIN = (str, int, float, bool, type(None))


def write_frame(frame: pd.DataFrame) -> dict[str, Any]:
    """A frame as JSON-ready columns with their dtypes (cells: str, int, float, bool, None;
    anything else is a TypeError rather than a silent change)."""
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        frame = frame.reset_index(drop=True)
    columns = []
    for name in frame.columns:
        values = frame[name].tolist()
        for value in values:
            if not isinstance(value, PLAIN):
                raise TypeError(f"column {name!r} holds a {type(value).__name__}")
        columns.append({"name": str(name), "dtype": str(frame[name].dtype), "values": values})
    return {"rows": len(frame), "columns": columns}


def read_frame(document: dict[str, Any]) -> pd.DataFrame:
    """The frame :func:`write_frame` wrote, with its dtypes."""
    data = {
        column["name"]: pd.Series(column["values"], dtype=column["dtype"])
        for column in document["columns"]
    }
    return pd.DataFrame(data, index=pd.RangeIndex(document["rows"]))


def write_alert(alert: Alert) -> dict[str, Any]:
    return alert.to_record()


def read_alert(record: dict[str, Any]) -> Alert:
    """The alert :func:`write_alert` wrote (tuples and the state restored)."""
    values = dict(record)
    values["state"] = AlertState(values["state"])
    values["series"] = tuple((str(period), float(value)) for period, value in values["series"])
    values["related_events"] = tuple(values["related_events"])
    return Alert(**values)


def write_backtest(report: BacktestReport) -> dict[str, Any]:
    scores = report.scores
    return {
        "year_from": report.year_from, "year_to": report.year_to,
        "settings": report.settings, "summary": dict(scores.summary),
        "alerts": write_frame(report.alerts), "events": write_frame(scores.events),
        "episodes": write_frame(scores.episodes), "per_year": write_frame(report.per_year),
    }  # fmt: skip


def read_backtest(document: dict[str, Any]) -> BacktestReport:
    """The report :func:`write_backtest` wrote."""
    scores = BacktestScores(
        events=read_frame(document["events"]),
        episodes=read_frame(document["episodes"]),
        summary=document["summary"],
    )
    return BacktestReport(
        year_from=int(document["year_from"]), year_to=int(document["year_to"]),
        alerts=read_frame(document["alerts"]), scores=scores,
        per_year=read_frame(document["per_year"]), settings=document["settings"],
    )  # fmt: skip
