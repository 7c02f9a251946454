"""The store survives a writer killed mid-load, and admits one writer at a time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainwatch.errors import StoreError
from chainwatch.ingest.pipeline import ingest_file
from chainwatch.store import Store
from tests.conftest import table_snapshot
from tests.synthetic import write_synthetic_baci_release


def test_sigkill_midway_leaves_previous_store_intact(
    store: Store, baci_release: Path, tmp_path: Path
) -> None:
    ingest_file(store, "baci", baci_release)
    before = {t: table_snapshot(store, t) for t in ("trade_flow", "product", "source")}
    big = tmp_path / "synthetic"
    write_synthetic_baci_release(big, rows=3_000_000)
    writer = subprocess.Popen(
        [sys.executable, "-m", "chainwatch", "ingest", "baci", str(big),
         "--store", str(store.path), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(store.path.parent.glob("*.loading-*")):
        assert writer.poll() is None, "the ingest ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.5)  # well inside the load: parsing 3 M rows takes longer than this
    assert writer.poll() is None
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    after = {t: table_snapshot(store, t) for t in before}
    assert after == before
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM trade_flow WHERE year = 2030").fetchone() == (0,)
    # the next writer cleans the dead writer's copy and loads normally
    ingest_file(store, "baci", baci_release)
    assert not list(store.path.parent.glob("*.loading-*"))
    assert table_snapshot(store, "trade_flow") == before["trade_flow"]


def test_one_writer_at_a_time(store: Store) -> None:
    with store.writing(), pytest.raises(StoreError, match="another process"), store.writing():
        pass


def test_failed_load_inside_writer_keeps_previous_state(store: Store) -> None:
    before = table_snapshot(store, "country")
    with pytest.raises(RuntimeError), store.writing() as con:
        con.execute("DELETE FROM country")
        raise RuntimeError("simulated failure midway")
    assert table_snapshot(store, "country") == before
