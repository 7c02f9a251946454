"""The result cache: keyed by store version, bounded by bytes, one computation per concurrent
miss, computations inside gates that answer Busy when full."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainwatch.api.cache import ResultCache, entity_tag
from chainwatch.errors import StoreError
from chainwatch.services.cache import Busy, ComputeGate, estimate_bytes
from chainwatch.store import Store


@pytest.fixture
def store_file(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store.duckdb")
    store.path.write_bytes(b"version 1")
    return store


def synthetic_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """SYNTHETIC: codes and numbers of no meaning, each string its own object (as DuckDB
    returns them)."""
    generator = np.random.default_rng(seed)
    return pd.DataFrame({
        "code": [f"C{number:05d}" for number in generator.integers(0, 99_999, rows)],
        "year": generator.integers(1995, 2025, rows).astype("int16"),
        "value": generator.random(rows),
    })  # fmt: skip


def test_hits_until_the_store_file_changes(store_file: Store) -> None:
    cache = ResultCache(store_file)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("name", {"a": 1}, compute) == 1
    assert cache.get("name", {"a": 1}, compute) == 1
    assert cache.peek("name", {"a": 1}) == 1
    assert cache.get("name", {"a": 2}, compute) == 2
    replacement = store_file.path.with_name("new.duckdb")
    replacement.write_bytes(b"version 2")
    replacement.replace(store_file.path)  # as the atomic writer does
    assert cache.peek("name", {"a": 1}) is None
    assert cache.get("name", {"a": 1}, compute) == 3


def test_concurrent_misses_compute_once(store_file: Store) -> None:
    cache = ResultCache(store_file)
    calls: list[int] = []
    results: list[int] = []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 42

    threads = [threading.Thread(target=lambda: results.append(cache.get("k", {}, slow)))
               for _ in range(8)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 8 and len(calls) == 1


def test_an_error_reaches_every_waiter_and_is_not_cached(store_file: Store) -> None:
    cache = ResultCache(store_file)
    errors: list[str] = []

    def failing() -> int:
        time.sleep(0.1)
        raise ValueError("boom")

    def ask() -> None:
        try:
            cache.get("k", {}, failing)
        except ValueError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == ["boom"] * 4
    assert cache.get("k", {}, lambda: 7) == 7


def test_bounded_by_entries_and_bytes(store_file: Store) -> None:
    by_count = ResultCache(store_file, max_entries=2)
    for number in range(3):
        by_count.get("k", {"n": number}, lambda number=number: number)  # type: ignore[misc]
    assert by_count.peek("k", {"n": 0}) is None and by_count.peek("k", {"n": 2}) == 2
    by_bytes = ResultCache(store_file, weigh=len, max_bytes=10)
    by_bytes.get("k", {"n": 1}, lambda: b"123456")
    by_bytes.get("k", {"n": 2}, lambda: b"123456")
    assert by_bytes.peek("k", {"n": 1}) is None and by_bytes.peek("k", {"n": 2}) == b"123456"
    by_bytes.get("k", {"n": 3}, lambda: b"x" * 11)  # larger than the whole budget: not kept
    assert by_bytes.peek("k", {"n": 3}) is None and by_bytes.peek("k", {"n": 2}) is not None


def test_frames_are_weighed_by_their_bytes(store_file: Store) -> None:
    frame = synthetic_frame(20_000)
    deep = int(frame.memory_usage(deep=True).sum())
    assert estimate_bytes(frame) == pytest.approx(deep, rel=0.1)
    # a frame filtered from another shares its strings: it pays half of them (two holders)
    half = frame[frame["year"] < 2010]
    assert estimate_bytes(half) < 0.75 * int(half.memory_usage(deep=True).sum())
    assert estimate_bytes({"whole": frame, "again": frame}) == pytest.approx(
        estimate_bytes(frame), rel=0.01
    ), "one object held twice is counted once"
    cache = ResultCache(store_file, max_bytes=int(9.5 * deep))
    for seed in range(12):
        cache.get("frame", {"seed": seed}, lambda seed=seed: synthetic_frame(20_000, seed))  # type: ignore[misc]
        assert cache.bytes_held <= cache.max_bytes
    assert len(cache) == 9, "nine frames fit a budget of nine and a half, not twelve"
    assert (
        cache.peek("frame", {"seed": 11}) is not None and cache.peek("frame", {"seed": 2}) is None
    )


def test_an_entry_that_grew_is_weighed_again(store_file: Store) -> None:
    cache = ResultCache(store_file, max_bytes=2_000_000)
    grows: dict[str, pd.DataFrame] = {}
    cache.get("monitor", {}, lambda: grows)
    cache.get("small", {}, lambda: synthetic_frame(100))
    assert cache.bytes_held < 100_000
    grows["a year"] = synthetic_frame(40_000)  # about 3 MB: more than the whole budget
    cache.reweigh("monitor", {})
    assert cache.peek("monitor", {}) is None, "too heavy now: dropped"
    assert cache.peek("small", {}) is not None and cache.bytes_held < 100_000


def test_a_full_gate_answers_busy_and_the_slot_is_reentrant(store_file: Store) -> None:
    gate = ComputeGate("heavy", slots=1, wait_s=0, retry_after_s=7)
    cache = ResultCache(store_file, gates={"heavy": gate})
    inside = threading.Event()
    release = threading.Event()

    def slow() -> int:
        # a computation needing another of its class runs in the slot it holds
        nested = cache.get("heavy", {"nested": True}, lambda: 1)
        inside.set()
        release.wait(5)
        return nested + 1

    owner = threading.Thread(target=lambda: cache.get("heavy", {"n": 1}, slow))
    owner.start()
    assert inside.wait(5) and gate.in_use == 1
    with pytest.raises(Busy) as refused:
        cache.get("heavy", {"n": 2}, lambda: 3)  # another heavy computation: refused at once
    assert refused.value.retry_after_s == 7 and "retry in 7 s" in str(refused.value)
    started = time.monotonic()
    with pytest.raises(Busy):
        cache.get("heavy", {"n": 1}, lambda: 3)  # the same one: waits a second, then refused
    assert 0.9 <= time.monotonic() - started < 3
    assert cache.get("cheap", {}, lambda: 4) == 4, "ungated names are computed"
    release.set()
    owner.join()
    assert gate.in_use == 0 and cache.peek("heavy", {"n": 1}) == 2
    assert cache.get("heavy", {"n": 2}, lambda: 3) == 3, "a free slot computes"


def test_a_gate_waits_for_a_slot_up_to_its_limit(store_file: Store) -> None:
    gate = ComputeGate("table", slots=1, wait_s=2.0, retry_after_s=1)
    cache = ResultCache(store_file, default_gate=gate)
    done = threading.Event()

    def hold() -> int:
        done.wait(5)
        return 1

    holder = threading.Thread(target=lambda: cache.get("a", {}, hold))
    holder.start()
    time.sleep(0.1)
    threading.Timer(0.5, done.set).start()
    started = time.monotonic()
    assert cache.get("b", {}, lambda: 2) == 2, "got the slot within the wait"
    assert time.monotonic() - started >= 0.3
    holder.join()


def test_a_missing_store_is_a_store_error_without_its_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no store at absent\.duckdb") as raised:
        ResultCache(Store(tmp_path / "absent.duckdb")).get("k", {}, lambda: 1)
    assert str(tmp_path) not in str(raised.value)


def test_entity_tag_is_strong_and_content_based() -> None:
    assert entity_tag(b"a") == entity_tag(b"a") != entity_tag(b"b")
    assert entity_tag(b"a").startswith('"') and not entity_tag(b"a").startswith("W/")


def test_a_shared_gate_bounds_every_process_using_its_directory(tmp_path: Path) -> None:
    """Two gates over one directory stand for two workers of one server."""
    first = ComputeGate("heavy", slots=1, wait_s=0, retry_after_s=5, shared=tmp_path)
    second = ComputeGate("heavy", slots=1, wait_s=0.3, retry_after_s=5, shared=tmp_path)
    with first.slot():
        started = time.monotonic()
        with pytest.raises(Busy), second.slot():
            pass
        assert time.monotonic() - started >= 0.25, "waited its wait_s for the file lock"
    with second.slot():
        assert second.in_use == 1
    assert first.in_use == second.in_use == 0


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread priority is Linux's")
def test_a_computing_thread_runs_at_lower_priority(store_file: Store) -> None:
    gate = ComputeGate("table", slots=1, wait_s=0, retry_after_s=1, nice=5)
    thread = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, thread)
    seen = ResultCache(store_file, default_gate=gate).get(
        "k", {}, lambda: os.getpriority(os.PRIO_PROCESS, thread)
    )
    assert seen == min(19, before + 5)
    assert os.getpriority(os.PRIO_PROCESS, thread) in (before, seen), "restored where allowed"


def test_large_entries_never_flush_the_small_ones(store_file: Store) -> None:
    cache = ResultCache(store_file, weigh=len, max_bytes=1000)
    for number in range(10):
        cache.get("table", {"n": number}, lambda: b"s" * 50)  # 500 bytes of small entries
    for number in range(3):  # large: over 1/8 of the budget; together at most half of it
        cache.get("monitor", {"n": number}, lambda: b"L" * 200)
    assert cache.peek("monitor", {"n": 0}) is None, "the least recently used large one went"
    assert cache.peek("monitor", {"n": 1}) is not None and cache.peek("monitor", {"n": 2})
    assert all(cache.peek("table", {"n": number}) for number in range(10))
    assert cache.bytes_held == 900
