"""Bounds of one server process: a full heavy gate answers 503 with Retry-After at once while
cached and cheap requests keep being answered; the caches are bounded by bytes."""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI

from chainwatch.api.limits import HEAVY_RESULTS, Limits
from chainwatch.errors import InputError
from chainwatch.services.cache import MIB
from tests.api.conftest import API, ApiClient

HEAVY_REQUESTS = [
    "/risk?perspective=FRA&year=2011",  # a risk table nobody asked for yet
    "/alerts?year=2012&perspective=NOR&bloc=EU27",  # a monitor that is not precomputed
    "/alerts/feed.atom?year=2011&perspective=SWE",  # the feed of such a monitor
    "/partnerships/coverage?perspective=FRA&year=2011",
]


@pytest.mark.parametrize("path", HEAVY_REQUESTS)
def test_a_full_heavy_gate_is_503_with_retry_after(
    app: FastAPI, client: ApiClient, path: str
) -> None:
    cached = client.get(API + "/materials")  # computed before the gate fills
    gate = app.state.cache.gate("risk")
    with gate.slot():  # this thread holds the only heavy slot: requests run in others
        started = time.monotonic()
        refused = client.get(API + path)
        assert time.monotonic() - started < 5, "refused at once, not queued"
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == str(app.state.limits.heavy_retry_after_s)
        body = refused.json()
        assert body["title"] == "Busy" and "retry in" in body["detail"]
        assert body["instance"] == API + path.split("?")[0]
        again = client.get(API + "/materials")
        assert again.status_code == 200 and again.content == cached.content
        assert client.get(API + "/health").status_code == 200
        cheap = client.get(API + "/countries/NOR?year=2012")  # a table, not a heavy one
        assert cheap.status_code == 200
    assert gate.in_use == 0


def test_heavy_results_share_one_gate_and_tables_another(app: FastAPI) -> None:
    cache = app.state.cache
    gates = {cache.gate(name) for name in HEAVY_RESULTS}
    assert len(gates) == 1
    (heavy,) = gates
    assert heavy.slots == 1 and heavy.wait_s == 0
    table = cache.gate("metrics")
    assert table is cache.gate("countries") and table is not heavy and table.slots == 2
    assert app.state.bodies.waits_only and app.state.bodies.gate("risk") is heavy


def test_the_caches_are_bounded_by_bytes(app: FastAPI, client: ApiClient) -> None:
    for path in ("/materials", "/countries", "/perspectives", "/sources"):
        client.get(API + path)
    tables, bodies = app.state.cache, app.state.bodies
    assert tables.max_bytes == 384 * MIB and bodies.max_bytes == 64 * MIB
    assert 0 < tables.bytes_held <= tables.max_bytes
    assert 0 < bodies.bytes_held <= bodies.max_bytes


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINWATCH_CACHE_MB", "100")
    monkeypatch.setenv("CHAINWATCH_HEAVY_SLOTS", "2")
    limits = Limits.from_environment()
    assert (limits.cache_bytes, limits.heavy_slots, limits.table_slots) == (100 * MIB, 2, 2)
    monkeypatch.setenv("CHAINWATCH_TABLE_SLOTS", "none")
    with pytest.raises(InputError, match="CHAINWATCH_TABLE_SLOTS: 'none' is not a whole number"):
        Limits.from_environment()


def test_cacheable_answers_are_replayed_before_routing(app: FastAPI, client: ApiClient) -> None:
    first = client.get(API + "/materials?format=csv")
    kept = app.state.responses.peek("response", {"path": API + "/materials", "query": "format=csv"})
    assert kept is not None and kept.body == first.content and kept.etag == first.headers["etag"]
    again = client.get(API + "/materials?format=csv")
    assert again.content == first.content
    assert again.headers["content-disposition"] == first.headers["content-disposition"]
    assert again.headers["x-content-type-options"] == "nosniff"
    tag = first.headers["etag"]
    not_modified = client.get(API + "/materials?format=csv", headers={"If-None-Match": tag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == tag and "cache-control" in not_modified.headers
    for path, query in ((API + "/health", ""), (API + "/partnerships", ""),
                        (API + "/materials", "page=0")):  # fmt: skip
        client.get(path + ("?" + query if query else ""))
        assert app.state.responses.peek("response", {"path": path, "query": query}) is None, path
