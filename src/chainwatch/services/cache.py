"""Result cache for the read services (API and pages), keyed by the store's identity.

A store file is replaced atomically on every load (ADR 0003), so its (inode, mtime) pair
changes whenever the data change: cached results are valid exactly as long as that pair.

Concurrent requests for the same missing entry compute it once: the first computes, the others
wait for its result (or its error).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from chainwatch.errors import StoreError
from chainwatch.store import Store

T = TypeVar("T")
MAX_ENTRIES = 512

__all__ = ["MAX_ENTRIES", "ResultCache", "Store"]


class ResultCache:
    """A small thread-safe LRU of computed results per (store version, query).

    ``weigh`` gives an entry's size (bytes, say) and ``max_weight`` bounds the total; without
    them only the number of entries is bounded.
    """

    def __init__(
        self,
        store: Store,
        max_entries: int = MAX_ENTRIES,
        weigh: Callable[[Any], int] | None = None,
        max_weight: int | None = None,
    ) -> None:
        self.store = store
        self.max_entries = max_entries
        self.weigh = weigh
        self.max_weight = max_weight
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._weights: dict[tuple[Any, ...], int] = {}
        self._weight = 0
        self._pending: dict[tuple[Any, ...], Future[Any]] = {}
        self._lock = threading.Lock()

    def store_version(self) -> str:
        """The store file's identity (inode and mtime): a new one after every load."""
        try:
            status = self.store.path.stat()
        except OSError as error:
            raise StoreError(f"no store at {self.store.path}: {error.strerror}") from error
        return f"{status.st_ino}-{status.st_mtime_ns}"

    def key(self, name: str, params: dict[str, Any]) -> tuple[Any, ...]:
        """The cache key of query ``name`` with ``params`` at the current store version."""
        return (self.store_version(), name, json.dumps(params, sort_keys=True, default=str))

    def peek(self, name: str, params: dict[str, Any]) -> Any | None:
        """The cached value, or None (never computes: safe on the event loop)."""
        key = self.key(name, params)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def get(self, name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        """The cached value, computed by ``compute`` on a miss (once per concurrent miss)."""
        key = self.key(name, params)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                cached: T = self._entries[key]
                return cached
            pending = self._pending.get(key)
            owner = pending is None
            if pending is None:
                pending = self._pending[key] = Future()
        if not owner:
            waited: T = pending.result()
            return waited
        try:
            value = compute()
        except BaseException as error:
            with self._lock:
                del self._pending[key]
            pending.set_exception(error)
            raise
        with self._lock:
            del self._pending[key]
            self._put(key, value)
        pending.set_result(value)
        return value

    def _put(self, key: tuple[Any, ...], value: Any) -> None:
        weight = self.weigh(value) if self.weigh else 0
        if self.max_weight is not None and weight > self.max_weight:
            return
        self._entries[key] = value
        self._weights[key] = weight
        self._weight += weight
        while len(self._entries) > self.max_entries or (
            self.max_weight is not None and self._weight > self.max_weight
        ):
            oldest, _ = self._entries.popitem(last=False)
            self._weight -= self._weights.pop(oldest)
