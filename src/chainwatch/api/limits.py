"""How much a server computes and keeps at once (ADR 0010).

* Result caches are bounded by bytes, per process: the computed tables
  (``CHAINWATCH_CACHE_MB``, default 384 MiB), the rendered bodies and the whole cacheable
  answers (64 MiB each).
* Computations go through gates (:class:`~chainwatch.services.cache.ComputeGate`) whose slots
  are lock files beside the store, so they bound the whole server, every worker together.
  Heavy ones (a monitor, a risk table: seconds to tens of seconds) take one of
  ``CHAINWATCH_HEAVY_SLOTS`` slots (default 1) or are refused at once with 503 and
  ``Retry-After``; other tables take one of ``CHAINWATCH_TABLE_SLOTS`` slots (default 2),
  waiting up to 20 s for one. A cached answer needs no slot, so cached requests keep flowing
  while the slots are full.
* Computing threads run at ``nice`` +10 (Linux, per thread), so the event loops answering
  cached requests win the CPU from them.
* Worker threads: enough for every waiting request (anyio's default of 40 would let waiting
  computations hold every thread).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from chainwatch.errors import InputError
from chainwatch.services.alerts import MONITOR, STORED
from chainwatch.services.cache import MIB, ComputeGate, ResultCache
from chainwatch.services.precompute import results_root
from chainwatch.store import Store

HEAVY_RESULTS = (MONITOR, "risk", "ui.risk", "partnerships.risk")
"""Result names whose computation is heavy: a monitor, a risk table (the API's, the
dashboard's and the partnership coverage's). A backtest is scored from precomputed alerts."""
PERSISTED_RESULTS = ("ui.risk", "partnerships.risk")
"""Heavy results that are DataFrames, kept on disk per store version (the API's risk table
is a rendered table: its pages and CSV are cached in memory only)."""


@dataclass(frozen=True)
class Limits:
    """Bounds of one server process (see the module docstring)."""

    cache_bytes: int = 384 * MIB
    body_cache_bytes: int = 64 * MIB
    heavy_slots: int = 1
    heavy_retry_after_s: int = 15
    table_slots: int = 2
    table_wait_s: float = 20.0
    table_retry_after_s: int = 2
    stored_slots: int = 4
    stored_wait_s: float = 120.0
    """A request for the precomputed alerts while they are being computed (a first start not
    through ``chainwatch serve``, or a load while serving) waits for them this long."""
    stored_retry_after_s: int = 30
    threads: int = 128
    compute_nice: int = 10
    switch_interval_s: float = 0.001

    @classmethod
    def from_environment(cls) -> Limits:
        """Defaults, with ``CHAINWATCH_CACHE_MB``, ``CHAINWATCH_HEAVY_SLOTS`` and
        ``CHAINWATCH_TABLE_SLOTS`` applied when set."""
        return cls(
            cache_bytes=_positive("CHAINWATCH_CACHE_MB", cls.cache_bytes // MIB) * MIB,
            heavy_slots=_positive("CHAINWATCH_HEAVY_SLOTS", cls.heavy_slots),
            table_slots=_positive("CHAINWATCH_TABLE_SLOTS", cls.table_slots),
        )

    def table_cache(self, store: Store) -> ResultCache:
        """The cache of computed tables, with the gates its computations go through (heavy
        and table slots shared by every worker serving the store)."""
        shared = _slot_directory(store)
        heavy = ComputeGate("heavy", self.heavy_slots, 0, self.heavy_retry_after_s, shared,
                            self.compute_nice)  # fmt: skip
        stored = ComputeGate("precomputed", self.stored_slots, self.stored_wait_s,
                             self.stored_retry_after_s)  # fmt: skip
        table = ComputeGate("table", self.table_slots, self.table_wait_s,
                            self.table_retry_after_s, shared, self.compute_nice)  # fmt: skip
        gates = dict.fromkeys(HEAVY_RESULTS, heavy) | {STORED: stored}
        return ResultCache(store, max_bytes=self.cache_bytes, gates=gates, default_gate=table,
                           persisted=PERSISTED_RESULTS)  # fmt: skip

    def response_cache(self, store: Store) -> ResultCache:
        """Whole cacheable answers, replayed before routing (weighed by their body)."""
        return ResultCache(store, max_bytes=self.body_cache_bytes,
                           weigh=lambda kept: len(kept.body) + 64 * len(kept.headers))  # fmt: skip

    def body_cache(self, store: Store, tables: ResultCache) -> ResultCache:
        """The cache of rendered bodies (weighed by their length). Rendering takes its slot
        in the table cache; here the gates bound how long identical requests wait for the
        first one's body (a heavy one: a second, then 503), so they do not pile up."""
        return ResultCache(
            store, max_bytes=self.body_cache_bytes, weigh=lambda rendered: len(rendered.body),
            gates=tables.gates, default_gate=tables.default_gate, waits_only=True,
        )  # fmt: skip


def _slot_directory(store: Store) -> Path | None:
    """Where the server's workers share their slots (beside the store's precomputed results);
    None where it cannot be created (each worker then bounds itself)."""
    directory = results_root(store) / ".slots"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return directory


def _positive(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"environment variable {name}", f"{text!r} is not a whole number >= 1")
    return value
