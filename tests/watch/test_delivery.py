"""Signed webhooks (watch/delivery.py, store/delivery_store.py) to a real threaded HTTP server
on 127.0.0.1 that checks the signature and dedupes by delivery id: one attempt per run,
backoff between runs, leases, redirects, Retry-After, timeouts, the bounded pool - on SQLite
and on PostgreSQL."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from chainwatch.errors import QueryError
from chainwatch.store.app_state import AppState
from chainwatch.store.delivery_store import (
    claim_delivery,
    finish_delivery,
    read_deliveries,
    write_delivery_rows,
)
from chainwatch.watch.delivery import (
    ATTEMPT_HEADER,
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryPolicy,
    deliver_pending,
    sign,
    verify_signature,
)
from chainwatch.watch.secrets import KEY_VARIABLE
from chainwatch.watch.subscriptions import add_subscription, check_subscription, matches
from chainwatch.watch.targets import Answer, TargetPolicy, post
from tests.watch.test_state import BACKENDS, app_database, make_alert
from tests.watch.webhook_receiver import LOOPBACK, SECRET, Behaviour, Receiver, webhook_server

FAST = DeliveryPolicy(timeout_s=0.5, backoff_s=0.0, workers=4)


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, Fernet.generate_key().decode())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_server() as state:
        yield state


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppState]:
    with app_database(request.param, tmp_path) as url, AppState(url) as state:
        state.record_alerts([
            make_alert("g1"),
            make_alert("n1", material="nickel", exporter="IDN", perspective="EU27"),
        ])  # fmt: skip
        yield state


def hook(app: AppState, url: str, kind: str = "material", value: str = "graphite") -> int:
    added = add_subscription(app, kind, value, "webhook", url, SECRET, LOOPBACK)
    return added.subscription_id


def deliver(app: AppState, policy: DeliveryPolicy = FAST) -> list[tuple[str, str, int]]:
    outcomes = deliver_pending(app, policy=policy, targets=LOOPBACK)
    return [(o.alert_id, o.status, o.attempts) for o in outcomes]


def test_signatures_cover_body_timestamp_and_delivery_id() -> None:
    body, stamp, delivery = b'{"alert":"SYNTHETIC"}', str(int(time.time())), "d-1"
    header = sign(body, SECRET, stamp, delivery)
    assert header.startswith("v1=") and len(header) == 3 + 64
    good = {SIGNATURE_HEADER: header, TIMESTAMP_HEADER: stamp, DELIVERY_HEADER: delivery}
    assert verify_signature(body, good, SECRET)
    assert verify_signature(body, {k.lower(): v for k, v in good.items()}, SECRET)
    assert not verify_signature(body + b" ", good, SECRET)
    assert not verify_signature(body, good, "other")
    assert not verify_signature(body, good | {DELIVERY_HEADER: "d-2"}, SECRET)
    assert not verify_signature(body, good | {TIMESTAMP_HEADER: str(int(stamp) + 1)}, SECRET)
    assert not verify_signature(body, {TIMESTAMP_HEADER: stamp, DELIVERY_HEADER: "d"}, SECRET)
    old = str(int(time.time()) - 301)  # a replay outside the window, correctly signed
    replayed = {SIGNATURE_HEADER: sign(body, SECRET, old, delivery), TIMESTAMP_HEADER: old,
                DELIVERY_HEADER: delivery}  # fmt: skip
    assert not verify_signature(body, replayed, SECRET)
    assert verify_signature(body, replayed, SECRET, tolerance_s=400)


def test_a_matching_alert_is_posted_signed_with_its_delivery_id(
    app: AppState, receiver: Receiver
) -> None:
    subscription_id = hook(app, receiver.url)
    assert deliver(app) == [("g1", "delivered", 1)]
    [got] = receiver.accepted
    body, headers = got["body"], got["headers"]
    assert isinstance(body, dict) and isinstance(headers, dict)
    assert body["alert"]["id"] == "g1" and body["alert"]["urn"] == "urn:chainwatch:alert:g1"
    assert body["subscription_id"] == subscription_id
    [delivery] = read_deliveries(app, subscription_id)
    assert headers[DELIVERY_HEADER] == body["delivery_id"] == delivery.delivery_id
    assert headers[TIMESTAMP_HEADER] == str(body["sent_at"]) and headers[ATTEMPT_HEADER] == "1"
    assert (delivery.status, delivery.attempts, delivery.lease_until) == ("delivered", 1, None)
    assert receiver.refused == 0 and receiver.paths == [("POST", "/hook")]


def test_one_attempt_per_run_and_backoff_between_runs(app: AppState, receiver: Receiver) -> None:
    hook(app, receiver.url, "partner", "IDN")
    receiver.script = [Behaviour(status=500), Behaviour(status=503)]
    policy = DeliveryPolicy(timeout_s=0.5, backoff_s=0.8)
    before = datetime.now(UTC)
    assert deliver(app, policy) == [("n1", "failed", 1)]
    [row] = read_deliveries(app)
    assert row.status == "failed" and row.last_error == "HTTP 500 Internal Server Error"
    assert row.next_attempt_at is not None
    assert row.next_attempt_at >= before + timedelta(seconds=0.8)
    assert deliver(app, policy) == [("n1", "waiting", 1)]  # not due: no request
    assert receiver.requests == 1
    time.sleep(0.85)
    assert deliver(app, policy) == [("n1", "failed", 2)]  # the backoff doubles: 1.6 s
    assert deliver(app, policy) == [("n1", "waiting", 2)]
    time.sleep(1.65)
    assert deliver(app, policy) == [("n1", "delivered", 3)]
    ids = {row.delivery_id for row in read_deliveries(app)}
    assert set(receiver.seen) == ids and receiver.requests == 3 and len(receiver.accepted) == 1


def test_a_receiver_slower_than_the_timeout_gets_one_post_per_run(
    app: AppState, receiver: Receiver
) -> None:
    hook(app, receiver.url)
    receiver.script = [Behaviour(delay_s=2.5)]  # takes the alert, answers too late
    started = time.monotonic()
    [(_, status, attempts)] = deliver(app, DeliveryPolicy(timeout_s=0.2, backoff_s=0.0))
    assert time.monotonic() - started < 1.5  # the POST gave up at 0.2 s, not at 2.5 s
    assert (status, attempts, receiver.requests) == ("failed", 1, 1)
    [row] = read_deliveries(app)
    assert row.last_error == "no answer from 127.0.0.1 within 0.2 s"
    assert deliver(app) == [("g1", "delivered", 2)]
    assert receiver.seen == {row.delivery_id: 2}  # the same id: the receiver dropped the copy
    assert len(receiver.accepted) == 1


def test_a_trickling_receiver_cannot_hold_a_sender(app: AppState) -> None:
    stop = threading.Event()

    def trickle(listener: socket.socket) -> None:  # one byte of a header every 50 ms
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"x" * 200:
                if stop.wait(0.05):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        thread = threading.Thread(target=trickle, args=(listener,), daemon=True)
        thread.start()
        hook(app, f"http://127.0.0.1:{listener.getsockname()[1]}/hook")
        started = time.monotonic()
        [(_, status, _)] = deliver(app, DeliveryPolicy(timeout_s=0.3))
        assert status == "failed" and time.monotonic() - started < 1.5  # not 10 s of bytes
        assert read_deliveries(app)[0].last_error == "no answer from 127.0.0.1 within 0.3 s"
        stop.set()
        thread.join()


def test_redirects_are_failures_and_are_not_followed(app: AppState, receiver: Receiver) -> None:
    hook(app, receiver.url)
    elsewhere = receiver.url.replace("/hook", "/elsewhere")
    for status in (302, 307):
        receiver.script = [Behaviour(status=status, headers=(("Location", elsewhere),),
                                     accept=False)]  # fmt: skip
        [(_, outcome, _)] = deliver(app)
        assert outcome == "failed"
        assert read_deliveries(app)[0].last_error == (
            f"HTTP {status} redirect to {elsewhere} not followed (a webhook must answer 2xx "
            "at its own URL)"
        )
    assert all(path == ("POST", "/hook") for path in receiver.paths)
    assert receiver.accepted == []


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(app: AppState, receiver: Receiver, status: int) -> None:
    hook(app, receiver.url)
    receiver.script = [Behaviour(status=status, headers=(("Retry-After", "2"),), accept=False)]
    before = datetime.now(UTC)
    assert deliver(app, DeliveryPolicy(timeout_s=0.5, backoff_s=0.01)) == [("g1", "failed", 1)]
    [row] = read_deliveries(app)
    assert row.next_attempt_at is not None
    assert row.next_attempt_at >= before + timedelta(seconds=2)
    assert deliver(app) == [("g1", "waiting", 1)] and receiver.requests == 1


def test_a_dropped_connection_is_a_failure(app: AppState, receiver: Receiver) -> None:
    hook(app, receiver.url)
    receiver.script = [Behaviour(drop=True)]
    assert deliver(app) == [("g1", "failed", 1)]
    assert str(read_deliveries(app)[0].last_error).startswith("cannot reach 127.0.0.1")
    assert deliver(app) == [("g1", "delivered", 2)] and len(receiver.accepted) == 1


def test_a_sender_killed_mid_post_is_replaced_after_its_lease(
    app: AppState, receiver: Receiver
) -> None:
    subscription_id = hook(app, receiver.url)
    write_delivery_rows(app, [(subscription_id, "g1")])
    dead = claim_delivery(app, subscription_id, "g1", lease_s=1.0)  # then the sender died
    assert dead is not None and dead.attempt == 1
    assert deliver(app) == [("g1", "skipped", 1)]  # held by a live lease
    assert read_deliveries(app)[0].status == "sending" and receiver.requests == 0
    time.sleep(1.05)
    assert deliver(app) == [("g1", "delivered", 2)]
    assert not finish_delivery(app, dead, "SYNTHETIC late failure")  # the dead claim is void
    assert read_deliveries(app)[0].status == "delivered"


def test_only_the_claim_holder_records_a_failure(app: AppState, receiver: Receiver) -> None:
    subscription_id = hook(app, receiver.url)
    write_delivery_rows(app, [(subscription_id, "g1")])
    first = claim_delivery(app, subscription_id, "g1", lease_s=0.01)
    time.sleep(0.02)
    second = claim_delivery(app, subscription_id, "g1", lease_s=30)
    assert first is not None and second is not None and second.attempt == 2
    assert first.delivery_id == second.delivery_id and first.token != second.token
    assert claim_delivery(app, subscription_id, "g1", lease_s=30) is None
    assert not finish_delivery(app, first, "SYNTHETIC timeout")
    assert finish_delivery(app, first)  # a 2xx seen by any sender is a delivery
    assert not finish_delivery(app, second, "SYNTHETIC failure after the delivery")
    [row] = read_deliveries(app)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, None)


def test_thirty_slow_receivers_are_served_by_a_bounded_pool(
    app: AppState, receiver: Receiver
) -> None:
    for _ in range(30):
        hook(app, receiver.url)
    receiver.script = [Behaviour(delay_s=3.0) for _ in range(30)]  # all far slower than 0.2 s
    in_flight, most, lock = [0], [0], threading.Lock()

    def counted(*arguments: Any) -> Answer:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            return post(*arguments)
        finally:
            with lock:
                in_flight[0] -= 1

    policy = DeliveryPolicy(timeout_s=0.2, workers=10, backoff_s=0.0)
    started = time.monotonic()
    outcomes = deliver_pending(app, policy=policy, targets=LOOPBACK, send=counted)
    elapsed = time.monotonic() - started
    assert [o.status for o in outcomes] == ["failed"] * 30 and receiver.requests == 30
    assert 2 <= most[0] <= 10  # concurrent, and bounded by the pool
    assert elapsed < 30 * 0.2 / 2  # serial: at least 6 s
    assert [status for _, status, _ in deliver(app, policy)] == ["delivered"] * 30
    assert receiver.duplicates == 30 and len(receiver.accepted) == 30


def test_an_alert_is_never_delivered_twice(app: AppState, receiver: Receiver) -> None:
    hook(app, receiver.url)
    hook(app, receiver.url, value="nickel")
    assert sorted(status for _, status, _ in deliver(app)) == ["delivered", "delivered"]
    assert [status for _, status, _ in deliver(app)] == ["skipped", "skipped"]
    with AppState(app.url) as other:  # another process, same database
        assert [o.status for o in deliver_pending(other, policy=FAST)] == ["skipped"] * 2
    app.record_alerts([make_alert("g1", year=2024)])  # the alert continues: not re-sent
    assert [status for _, status, _ in deliver(app)] == ["skipped"] * 2
    assert receiver.requests == 2 and receiver.duplicates == 0


def test_open_alerts_of_the_run_and_unfinished_deliveries_are_sent(
    app: AppState, receiver: Receiver
) -> None:
    hook(app, receiver.url)
    hook(app, receiver.url, "partner", "IDN")
    app.transition("g1", "dismissed", actor="ana")
    assert [o.alert_id for o in deliver_pending(app, ["g1", "n1"], FAST, LOOPBACK)] == ["n1"]
    app.record_alerts([make_alert("g2", year=2024)])
    receiver.script = [Behaviour(status=500)]
    assert [o.status for o in deliver_pending(app, ["g2"], FAST, LOOPBACK)] == ["failed"]
    [retried] = deliver_pending(app, ["zzz"], FAST, LOOPBACK)  # a later run, other alerts
    assert (retried.alert_id, retried.status) == ("g2", "delivered")


def test_an_unreachable_webhook_fails_once_per_run(app: AppState) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook(app, f"http://127.0.0.1:{port}/")
    [outcome] = deliver_pending(app, policy=FAST, targets=LOOPBACK)
    assert (outcome.status, outcome.attempts) == ("failed", 1)
    assert outcome.error is not None and outcome.error.startswith("cannot reach 127.0.0.1")


def test_targets_are_checked_again_when_sending(app: AppState, receiver: Receiver) -> None:
    app.subscribe("material", "graphite", "webhook", "http://169.254.169.254/latest", SECRET)
    app.subscribe("material", "nickel", "webhook", receiver.url, SECRET)  # stored unchecked
    outcomes = deliver_pending(app, policy=FAST)  # no allow-list: loopback refused too
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert "link-local, metadata" in str(outcomes[0].error)
    assert "loopback or private" in str(outcomes[1].error) and receiver.requests == 0


def test_unsubscribe_removes_the_subscription_and_its_deliveries(
    app: AppState, receiver: Receiver
) -> None:
    kept, gone = hook(app, receiver.url), hook(app, receiver.url, value="nickel")
    write_delivery_rows(app, [(gone, "n1")])
    claim = claim_delivery(app, gone, "n1", lease_s=30)
    assert claim is not None
    removed, deliveries = app.unsubscribe(gone)
    assert (removed.subscription_id, deliveries) == (gone, 1)
    assert [s.subscription_id for s in app.subscriptions()] == [kept]
    assert not finish_delivery(app, claim)  # the in-flight sender finds nothing to finish
    assert [o.subscription_id for o in deliver_pending(app, policy=FAST, targets=LOOPBACK)] == [
        kept
    ]
    with pytest.raises(QueryError, match="unknown subscription"):
        app.unsubscribe(gone)


def test_subscriptions_match_the_alert_scope(app: AppState) -> None:
    scope = {"material": "graphite;natural graphite", "exporter_iso3": "CHN",
             "perspective": "CAN"}  # fmt: skip
    kinds = [("material", "Graphite"), ("partner", "chn"), ("perspective", "can")]
    for kind, value in kinds:
        assert matches(add_subscription(app, kind, value, "feed"), scope), kind
    for kind, value in [("material", "nickel"), ("partner", "IDN"), ("perspective", "EU27")]:
        assert not matches(add_subscription(app, kind, value, "feed"), scope), kind
    assert not matches(app.subscriptions()[2], {"material": "graphite"})  # no perspective


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("colour", "red", "feed", None, None), "unknown subscription kind"),
        (("material", "graphite", "email", None, None), "unknown channel"),
        (("material", " ", "feed", None, None), "needs a material name"),
        (("partner", "China", "feed", None, None), "not an ISO3 country code"),
        (("material", "graphite", "webhook", "file:///etc/passwd", "s"), "not an absolute http"),
        (("material", "graphite", "webhook", "https://example.org/x", None), "needs --secret"),
        (("material", "graphite", "feed", "https://example.org/x", None), "takes no URL"),
        (("material", "graphite", "webhook", "http://169.254.169.254/", "s"), "metadata"),
        (("material", "graphite", "webhook", "http://[fd00:ec2::254]/", "s"), "metadata"),
        (("material", "graphite", "webhook", "http://127.0.0.1:8/x", "s"), "--allow-host"),
        (("material", "graphite", "webhook", "http://localhost/x", "s"), "--allow-host"),
        (("material", "graphite", "webhook", "http://10.1.2.3/x", "s"), "private"),
        (("material", "graphite", "webhook", "https://u:p@example.org/", "s"), "user name"),
    ],
)
def test_bad_subscriptions_are_refused(
    arguments: tuple[str, str, str, str | None, str | None], message: str
) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        check_subscription(*arguments)
    assert "\n" not in str(caught.value)


def test_allowed_private_hosts_are_accepted_but_metadata_never() -> None:
    allowed = TargetPolicy.parse(["127.0.0.1,10.0.0.0/8", "localhost", "169.254.0.0/16"])
    for url in ("http://127.0.0.1:8/x", "http://10.1.2.3/x", "http://localhost:9/"):
        assert check_subscription("material", "graphite", "webhook", url, "s", allowed)
    with pytest.raises(QueryError, match="metadata"):
        check_subscription("material", "graphite", "webhook", "http://169.254.169.254/", "s",
                           allowed)  # fmt: skip
