"""The result cache: keyed by store version, bounded, one computation per concurrent miss."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from chainwatch.api.cache import ResultCache, entity_tag
from chainwatch.errors import StoreError
from chainwatch.store import Store


@pytest.fixture
def store_file(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store.duckdb")
    store.path.write_bytes(b"version 1")
    return store


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


def test_bounded_by_entries_and_weight(store_file: Store) -> None:
    by_count = ResultCache(store_file, max_entries=2)
    for number in range(3):
        by_count.get("k", {"n": number}, lambda number=number: number)  # type: ignore[misc]
    assert by_count.peek("k", {"n": 0}) is None and by_count.peek("k", {"n": 2}) == 2
    by_weight = ResultCache(store_file, weigh=len, max_weight=10)
    by_weight.get("k", {"n": 1}, lambda: b"123456")
    by_weight.get("k", {"n": 2}, lambda: b"123456")
    assert by_weight.peek("k", {"n": 1}) is None and by_weight.peek("k", {"n": 2}) == b"123456"
    by_weight.get("k", {"n": 3}, lambda: b"x" * 11)  # larger than the whole budget: not kept
    assert by_weight.peek("k", {"n": 3}) is None and by_weight.peek("k", {"n": 2}) is not None


def test_a_missing_store_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        ResultCache(Store(tmp_path / "absent.duckdb")).get("k", {}, lambda: 1)


def test_entity_tag_is_strong_and_content_based() -> None:
    assert entity_tag(b"a") == entity_tag(b"a") != entity_tag(b"b")
    assert entity_tag(b"a").startswith('"') and not entity_tag(b"a").startswith("W/")
