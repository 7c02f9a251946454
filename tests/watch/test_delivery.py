"""Signed webhooks (watch/delivery.py) to a real HTTP server on 127.0.0.1 that checks the
HMAC signature; retries, bounds, no double delivery; subscription matching."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from chainwatch.errors import QueryError
from chainwatch.store.app_state import AppState
from chainwatch.watch.delivery import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    RetryPolicy,
    deliver_pending,
    sign,
    verify_signature,
)
from chainwatch.watch.subscriptions import add_subscription, check_subscription, matches
from tests.watch.test_state import BACKENDS, app_database, make_alert

SECRET = "SYNTHETIC-secret"
FAST = RetryPolicy(attempts=3, backoff_s=0.25, timeout_s=5.0)


@dataclass
class Receiver:
    """What the local webhook server got, and the statuses it answers in turn (then 200)."""

    secret: str = SECRET
    statuses: list[int] = field(default_factory=list)
    received: list[dict[str, object]] = field(default_factory=list)
    refused: int = 0
    url: str = ""


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver = self.server.receiver  # type: ignore[attr-defined]
        if not verify_signature(body, self.headers.get(SIGNATURE_HEADER), receiver.secret):
            receiver.refused += 1
            status = 401
        else:
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            if status == 200:
                receiver.received.append({
                    "body": json.loads(body), "timestamp": self.headers.get(TIMESTAMP_HEADER),
                })  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@contextmanager
def webhook_server() -> Iterator[Receiver]:
    """A webhook receiver on a free port of 127.0.0.1, in a thread, for the with-block."""
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    server.receiver = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


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


def test_signatures_verify_only_the_exact_body_and_secret() -> None:
    body = b'{"alert":"SYNTHETIC"}'
    header = sign(body, SECRET)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature(body, header, SECRET)
    assert not verify_signature(body + b" ", header, SECRET)
    assert not verify_signature(body, header, "other")
    assert not verify_signature(body, None, SECRET)
    assert not verify_signature(body, header.replace("sha256=", "sha1="), SECRET)


def test_a_matching_alert_is_posted_signed(app: AppState, receiver: Receiver) -> None:
    hook = add_subscription(app, "material", "graphite", "webhook", receiver.url, SECRET)
    outcomes = deliver_pending(app, policy=FAST)
    assert [(o.alert_id, o.status, o.attempts) for o in outcomes] == [("g1", "delivered", 1)]
    [got] = receiver.received
    body = got["body"]
    assert isinstance(body, dict) and body["alert"]["id"] == "g1"
    assert body["alert"]["urn"] == "urn:chainwatch:alert:g1"
    assert body["subscription_id"] == hook.subscription_id
    assert got["timestamp"] == str(body["sent_at"])
    assert receiver.refused == 0
    [delivery] = app.deliveries(hook.subscription_id)
    assert (delivery.alert_id, delivery.status, delivery.attempts) == ("g1", "delivered", 1)


def test_a_server_error_is_retried_with_backoff(app: AppState, receiver: Receiver) -> None:
    add_subscription(app, "partner", "IDN", "webhook", receiver.url, SECRET)
    receiver.statuses = [500]
    waits: list[float] = []
    [outcome] = deliver_pending(app, policy=FAST, sleep=waits.append)
    assert (outcome.alert_id, outcome.status, outcome.attempts) == ("n1", "delivered", 2)
    assert waits == [0.25] and len(receiver.received) == 1
    [delivery] = app.deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, None)


def test_retries_are_bounded_and_a_failure_is_retried_later(
    app: AppState, receiver: Receiver
) -> None:
    add_subscription(app, "perspective", "EU27", "webhook", receiver.url, SECRET)
    receiver.statuses = [503, 503, 503]
    waits: list[float] = []
    [outcome] = deliver_pending(app, policy=FAST, sleep=waits.append)
    assert (outcome.status, outcome.attempts, outcome.error) == (
        "failed", 3, "HTTP 503 Service Unavailable"
    )  # fmt: skip
    assert waits == [0.25, 0.5] and receiver.received == []
    [delivery] = app.deliveries()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    [later] = deliver_pending(app, policy=FAST, sleep=waits.append)
    assert later.status == "delivered" and len(receiver.received) == 1
    assert app.deliveries()[0].attempts == 4


def test_a_client_error_is_not_retried(app: AppState, receiver: Receiver) -> None:
    add_subscription(app, "material", "graphite", "webhook", receiver.url, "wrong secret")
    [outcome] = deliver_pending(app, policy=FAST, sleep=lambda _: None)
    assert (outcome.status, outcome.attempts, outcome.error) == (
        "failed", 1, "HTTP 401 Unauthorized"
    )  # fmt: skip
    assert receiver.refused == 1


def test_an_alert_is_never_delivered_twice(app: AppState, receiver: Receiver) -> None:
    add_subscription(app, "material", "graphite", "webhook", receiver.url, SECRET)
    add_subscription(app, "material", "nickel", "webhook", receiver.url, SECRET)
    first = deliver_pending(app, policy=FAST)
    assert sorted(o.status for o in first) == ["delivered", "delivered"]
    again = deliver_pending(app, policy=FAST)
    assert [o.status for o in again] == ["skipped", "skipped"]
    with AppState(app.url) as other:  # another process, same database
        assert [o.status for o in deliver_pending(other, policy=FAST)] == ["skipped"] * 2
    app.record_alerts([make_alert("g1", year=2024)])  # the alert continues: not re-sent
    assert [o.status for o in deliver_pending(app, policy=FAST)] == ["skipped"] * 2
    assert len(receiver.received) == 2


def test_only_open_alerts_of_the_run_are_delivered(app: AppState, receiver: Receiver) -> None:
    add_subscription(app, "material", "graphite", "webhook", receiver.url, SECRET)
    add_subscription(app, "partner", "IDN", "webhook", receiver.url, SECRET)
    app.transition("g1", "dismissed", actor="ana")
    assert [o.alert_id for o in deliver_pending(app, ["g1", "n1"], FAST)] == ["n1"]
    app.record_alerts([make_alert("g2", year=2024)])
    assert deliver_pending(app, ["zzz"], FAST) == []


def test_an_unreachable_webhook_fails_after_the_attempts(app: AppState) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    add_subscription(app, "material", "graphite", "webhook", f"http://127.0.0.1:{port}/", SECRET)
    [outcome] = deliver_pending(app, policy=FAST, sleep=lambda _: None)
    assert outcome.status == "failed" and outcome.attempts == 3
    assert outcome.error is not None and outcome.error.startswith("cannot reach")


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
        (("material", "graphite", "webhook", "http://127.0.0.1/x", None), "needs --secret"),
        (("material", "graphite", "feed", "http://127.0.0.1/x", None), "takes no URL"),
    ],
)
def test_bad_subscriptions_are_refused(
    arguments: tuple[str, str, str, str | None, str | None], message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        check_subscription(*arguments)
