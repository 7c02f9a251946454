"""Result cache for the read services (API and pages): keyed by the store's version, bounded
by the bytes its entries hold, computing through gates that bound concurrent work.

A store file is replaced atomically on every load (ADR 0003), so its (inode, mtime, size)
changes whenever the data change: cached results are valid exactly as long as that triple.

Every entry costs its estimated size in bytes (:func:`estimate_bytes`: pandas and Arrow buffers,
containers and objects walked a few levels deep, long ones sampled); the cache evicts the least
recently used entries until the total is under ``max_bytes``, large entries among themselves
first (:data:`LARGE_SHARE`). An entry that grows after it was
stored (a monitor fills its year caches) is weighed again with :meth:`ResultCache.reweigh`.

Names listed in ``persisted`` (heavy tables the first screens show, such as the dashboard's
risk table) also keep their DataFrame results on disk per store version
(:mod:`chainwatch.services.precompute`), so a restarted server reads them instead of computing.

Concurrent requests for the same missing entry compute it once: the first computes, the others
wait for its result (or its error). A miss computes inside the :class:`ComputeGate` its name
maps to (ADR 0010): at most ``slots`` computations of that class at once per process; a caller
that cannot get a slot within ``wait_s`` gets :class:`Busy` (503 with Retry-After in the API)
instead of queueing without end.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import functools
import gc
import hashlib
import json
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import IO, Any, TypeVar

from chainwatch.errors import StoreError
from chainwatch.store import Store

T = TypeVar("T")
MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 256 * MIB
MAX_ENTRIES = 100_000
"""A safety bound on the number of entries; the byte bound is the one that matters."""
SAMPLED = 32
"""Items of a long container (or object column) weighed; the rest are extrapolated."""
LARGE_SHARE, LARGE_BUDGET = 1 / 8, 1 / 2
"""An entry costing more than an eighth of the budget is large; large entries together keep
at most half of it (the least recently used large one goes first), so a few monitors of
hundreds of MB never flush the many small tables the cached requests read."""

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_ENTRIES",
    "Busy",
    "ComputeGate",
    "ResultCache",
    "Store",
    "estimate_bytes",
    "release_memory",
    "store_version",
]


class Busy(Exception):
    """No slot to compute ``what`` now; try again after ``retry_after_s`` seconds."""

    def __init__(self, what: str, retry_after_s: int) -> None:
        super().__init__(
            f"the server is busy computing other {what} requests: retry in {retry_after_s} s"
        )
        self.what = what
        self.retry_after_s = retry_after_s


class ComputeGate:
    """At most ``slots`` computations of one class at once; a caller waits up to ``wait_s``
    seconds for a slot, else :class:`Busy`. Re-entrant per thread: a computation that needs
    another of the same class inside its slot does not take a second one.

    With ``shared`` (a directory) the slots are lock files there, so the bound holds for every
    process that uses the directory (the workers of one server), not for each one. With
    ``nice`` the computing thread runs at that much lower CPU priority (Linux: per thread; the
    threads a database opens for it inherit it), so the event loop answering cached requests
    wins the CPU; it returns to its priority after, where the system allows that.
    """

    POLL_S = 0.02

    def __init__(
        self,
        what: str,
        slots: int,
        wait_s: float,
        retry_after_s: int,
        shared: Path | None = None,
        nice: int = 0,
    ) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self.what = what
        self.slots = slots
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self.shared = shared
        self.nice = nice
        self._free = threading.BoundedSemaphore(slots)
        self._held = threading.local()
        self._count_lock = threading.Lock()
        self._in_use = 0

    @property
    def in_use(self) -> int:
        """Slots taken now."""
        return self._in_use

    def holding(self) -> bool:
        """Whether this thread is inside one of the gate's slots."""
        return getattr(self._held, "depth", 0) > 0

    def busy(self) -> Busy:
        return Busy(self.what, self.retry_after_s)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """A slot for the block (the one this thread holds already, if any)."""
        if self.holding():
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        deadline = time.monotonic() + self.wait_s
        if self.wait_s > 0:
            acquired = self._free.acquire(timeout=self.wait_s)
        else:
            acquired = self._free.acquire(blocking=False)
        if not acquired:
            raise self.busy()
        try:
            lock = self._shared_slot(deadline) if self.shared is not None else None
        except BaseException:
            self._free.release()
            raise
        with self._count_lock:
            self._in_use += 1
        self._held.depth = 1
        restore = _lower_priority(self.nice)
        try:
            yield
        finally:
            restore()
            self._held.depth = 0
            with self._count_lock:
                self._in_use -= 1
            if lock is not None:
                lock.close()  # closing the file releases its lock
            self._free.release()

    def _shared_slot(self, deadline: float) -> IO[str]:
        """An exclusive lock on one of the slot files, polled for until ``deadline``."""
        assert self.shared is not None
        names = [self.shared / f"{self.what}-{index}.lock" for index in range(self.slots)]
        while True:
            for name in names:
                handle = name.open("a")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                return handle
            if time.monotonic() >= deadline:
                raise self.busy()
            time.sleep(self.POLL_S)


def _lower_priority(nice: int) -> Callable[[], None]:
    """Lower this thread's CPU priority by ``nice``; the function that restores it."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return lambda: None
    thread = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, before + nice))
    except OSError:
        return lambda: None

    def restore() -> None:
        with contextlib.suppress(OSError):  # unprivileged: the thread stays lower
            os.setpriority(os.PRIO_PROCESS, thread, before)

    return restore


def store_version(store: Store) -> str:
    """The store file's identity (inode, mtime, size): a new one after every load, the same
    after a restart."""
    try:
        status = store.path.stat()
    except OSError as error:
        raise StoreError(f"no store at {store.path.name}: {error.strerror}") from error
    return f"{status.st_ino}-{status.st_mtime_ns}-{status.st_size}"


class ResultCache:
    """A thread-safe LRU of computed results per (store version, query), bounded by bytes.

    ``weigh`` gives an entry's cost in bytes (default :func:`estimate_bytes`); ``max_bytes``
    bounds their sum (an entry costing more than the whole budget is returned, not kept).
    ``gates`` maps result names to the gate their computations go through; other names use
    ``default_gate`` (none: computed without a bound). With ``waits_only`` the gates bound only
    how long a caller waits for another caller's computation of the same entry (a cache of
    rendered bodies: its computations take their slots in the cache they read from).
    """

    def __init__(
        self,
        store: Store,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_entries: int = MAX_ENTRIES,
        weigh: Callable[[Any], int] = lambda value: estimate_bytes(value),
        gates: Mapping[str, ComputeGate] | None = None,
        default_gate: ComputeGate | None = None,
        waits_only: bool = False,
        persisted: Iterable[str] = (),
    ) -> None:
        self.store = store
        self.waits_only = waits_only
        self.persisted = frozenset(persisted)
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.weigh = weigh
        self.gates = dict(gates or {})
        self.default_gate = default_gate
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._weights: dict[tuple[Any, ...], int] = {}
        self._weight = 0
        self._large: set[tuple[Any, ...]] = set()
        self._large_weight = 0
        self._pending: dict[tuple[Any, ...], Future[Any]] = {}
        self._lock = threading.Lock()

    @property
    def bytes_held(self) -> int:
        """The estimated bytes of the entries held now."""
        return self._weight

    def __len__(self) -> int:
        return len(self._entries)

    def store_version(self) -> str:
        """The store file's identity: see :func:`store_version`."""
        return store_version(self.store)

    def key(self, name: str, params: dict[str, Any]) -> tuple[Any, ...]:
        """The cache key of query ``name`` with ``params`` at the current store version."""
        return (self.store_version(), name, json.dumps(params, sort_keys=True, default=str))

    def gate(self, name: str) -> ComputeGate | None:
        """The gate computations of ``name`` go through (None: unbounded)."""
        return self.gates.get(name, self.default_gate)

    def peek(self, name: str, params: dict[str, Any]) -> Any | None:
        """The cached value, or None (never computes: safe on the event loop)."""
        key = self.key(name, params)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def get(self, name: str, params: dict[str, Any], compute: Callable[[], T]) -> T:
        """The cached value, computed by ``compute`` on a miss (once per concurrent miss,
        inside the name's gate: :class:`Busy` when no slot comes in time)."""
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
        gate = self.gate(name)
        if not owner:
            waited: T = self._wait(pending, gate)
            return waited
        slot = gate.slot() if gate is not None and not self.waits_only else None
        kept = name in self.persisted
        try:
            value = _read_persisted(self.store, key) if kept else None
            if value is None:
                with slot if slot is not None else contextlib.nullcontext():
                    value = compute()
                if kept:
                    _write_persisted(self.store, key, value)
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

    @staticmethod
    def _wait(pending: Future[T], gate: ComputeGate | None) -> T:
        """Another thread's result; a gated wait lasts at most the gate's ``wait_s`` (at least
        one second), so identical heavy requests do not pile up behind the first."""
        timeout = None if gate is None or gate.holding() else max(gate.wait_s, 1.0)
        try:
            return pending.result(timeout)
        except FutureTimeout:
            assert gate is not None
            raise gate.busy() from None

    def put(self, name: str, params: dict[str, Any], value: Any) -> None:
        """Store ``value`` as the result of ``name`` with ``params`` (replacing any)."""
        key = self.key(name, params)
        with self._lock:
            self._drop(key)
            self._put(key, value)

    def reweigh(self, name: str, params: dict[str, Any]) -> None:
        """Weigh an entry again (it grew since it was stored) and evict to the bound."""
        key = self.key(name, params)
        with self._lock:
            if key in self._entries:
                value = self._entries[key]
                self._drop(key)
                self._put(key, value)

    def _drop(self, key: tuple[Any, ...]) -> None:
        if key in self._entries:
            del self._entries[key]
            weight = self._weights.pop(key)
            self._weight -= weight
            if key in self._large:
                self._large.discard(key)
                self._large_weight -= weight

    def _put(self, key: tuple[Any, ...], value: Any) -> None:
        weight = self.weigh(value)
        if weight > self.max_bytes:
            return
        self._entries[key] = value
        self._weights[key] = weight
        self._weight += weight
        if weight > self.max_bytes * LARGE_SHARE:
            self._large.add(key)
            self._large_weight += weight
        while self._large_weight > self.max_bytes * LARGE_BUDGET:
            older = next((k for k in self._entries if k in self._large and k != key), None)
            if older is None:
                break  # the new entry alone: kept while the whole budget allows
            self._drop(older)
        while len(self._entries) > self.max_entries or self._weight > self.max_bytes:
            self._drop(next(iter(self._entries)))


def _document_name(key: tuple[Any, ...]) -> str:
    _, name, params = key
    digest = hashlib.blake2b(params.encode("utf-8"), digest_size=10).hexdigest()
    return f"frame-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}-{digest}"


def _read_persisted(store: Store, key: tuple[Any, ...]) -> Any | None:
    """A persisted DataFrame result (its attrs included), or None."""
    from chainwatch.services import precompute

    version, _, params = key
    document = precompute.read_document(store, version, _document_name(key))
    if document is None or document.get("params") != params:
        return None
    frame = precompute.read_frame(document["frame"])
    frame.attrs.update(document["attrs"])
    return frame


def _write_persisted(store: Store, key: tuple[Any, ...], value: Any) -> None:
    """Keep a DataFrame result on disk when it round-trips exactly (cells and attrs)."""
    import pandas as pd

    from chainwatch.services import precompute

    if not isinstance(value, pd.DataFrame):
        return
    try:
        document = {"params": key[2], "frame": precompute.write_frame(value),
                    "attrs": json.loads(json.dumps(value.attrs))}  # fmt: skip
    except (TypeError, ValueError):
        return
    if document["attrs"] != value.attrs:
        return  # tuples or other types JSON would change
    precompute.write_document(store, key[0], _document_name(key), document)


def estimate_bytes(value: Any, depth: int = 6) -> int:
    """About how many bytes ``value`` holds: pandas and Arrow buffers exactly, Python strings
    in object columns and long containers from a sample, objects walked ``depth`` levels."""
    shared: set[int] = set()
    return _weigh(value, depth, shared)


def _weigh(value: Any, depth: int, seen: set[int]) -> int:
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, bytes | bytearray | str | int | float | bool | type(None)):
        return sys.getsizeof(value)
    module = type(value).__module__.split(".", 1)[0]
    if module == "pandas":
        return _weigh_pandas(value)
    if module in ("pyarrow", "numpy") and hasattr(value, "nbytes"):
        return int(value.nbytes) + 100
    base = sys.getsizeof(value)
    if depth <= 0:
        return base
    if isinstance(value, dict):  # keys and values, never temporary pairs (ids get reused)
        return base + _weigh_items([*value.keys(), *value.values()], depth, seen)
    if isinstance(value, list | tuple | set | frozenset):
        return base + _weigh_items(list(value), depth, seen)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [getattr(value, f.name) for f in dataclasses.fields(value)]
        return base + sum(_weigh(v, depth - 1, seen) for v in fields)
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        return base + _weigh(attributes, depth - 1, seen)
    return base


def _weigh_items(items: list[Any], depth: int, seen: set[int]) -> int:
    if len(items) <= SAMPLED:
        return sum(_weigh(item, depth - 1, seen) for item in items)
    step = len(items) / SAMPLED
    sample = [items[int(index * step)] for index in range(SAMPLED)]
    return int(sum(_weigh(item, depth - 1, seen) for item in sample) * len(items) / SAMPLED)


def _weigh_pandas(value: Any) -> int:
    """A DataFrame, Series or Index: its buffers, plus the Python objects of object columns
    from a sample, each counted as its size over the number of holders (a frame filtered from
    another shares the other's strings: it costs its pointers, not the strings again)."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        columns = [value.iloc[:, position] for position in range(value.shape[1])]
        return _weigh_pandas(value.index) + sum(_weigh_pandas(column) for column in columns)
    if not isinstance(value, pd.Series | pd.Index):
        return sys.getsizeof(value)
    shallow = int(
        value.memory_usage(index=False) if isinstance(value, pd.Series) else value.memory_usage()
    )
    if value.dtype != object or len(value) == 0:
        return shallow
    cells = value.to_numpy(dtype=object, copy=False)
    positions = range(0, len(cells), max(1, len(cells) // SAMPLED))
    # getrefcount(cells[p]) counts the reference it is passed: holders = count - 1
    shares = [_weigh(cells[p], 2, set()) / max(1, sys.getrefcount(cells[p]) - 1)
              for p in positions]  # fmt: skip
    return shallow + int(sum(shares) / len(shares) * len(cells))


def release_memory() -> None:
    """Collect garbage and hand freed heap back to the operating system (glibc's
    ``malloc_trim``; elsewhere only the collection): after a large computation, so a
    process's resident size falls back instead of staying at its peak."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        function: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return function
