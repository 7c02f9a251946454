"""Result cache for the read endpoints, keyed by the store's identity.

A store file is replaced atomically on every load (ADR 0003), so its (inode, mtime) pair
changes whenever the data change: cached results are valid exactly as long as that pair.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from chainwatch.store import Store

T = TypeVar("T")
MAX_ENTRIES = 512


class ResultCache:
    """A small thread-safe LRU of computed results per (store version, query)."""

    def __init__(self, store: Store, max_entries: int = MAX_ENTRIES) -> None:
        self.store = store
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def store_version(self) -> str:
        status = self.store.path.stat()
        return f"{status.st_ino}-{status.st_mtime_ns}"

    def get(self, name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        key = (self.store_version(), name, json.dumps(params, sort_keys=True, default=str))
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                cached: T = self._entries[key]
                return cached
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


def entity_tag(body: bytes) -> str:
    """A strong ETag for a response body."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
