"""Signed webhooks, each alert delivered once per subscription (sender side: leases, delivery
ids, one attempt per run, backoff between runs, a bounded pool of senders).

Every POST carries:

* ``X-Chainwatch-Delivery``: the delivery id, a UUID fixed per (subscription, alert) and the
  same on every attempt: receivers keep the ids they accepted and answer 2xx to a repeat
  without acting on it again (a sender that timed out, or died before recording the answer,
  sends the alert again under the same id);
* ``X-Chainwatch-Timestamp``: Unix seconds of this attempt;
* ``X-Chainwatch-Attempt``: 1 for the first attempt, then 2, 3, ...;
* ``X-Chainwatch-Signature: v1=<hex>``: HMAC-SHA256, keyed with the subscription secret, of
  ``"<timestamp>.<delivery id>." + body``. Timestamp and id are signed, so a receiver that
  refuses timestamps older than a few minutes (:func:`verify_signature`, 300 s) bounds replays.

A run (``deliver_pending``) makes at most one attempt per delivery; a failed one is retried by
a later run once ``backoff_s``·2^(attempts−1) (capped) has passed, or the receiver's
``Retry-After`` on 429/503 if later. Only a 2xx answer counts as delivered: a redirect is a
failure (never followed), a timeout too (the receiver may have the alert; the retry carries
the same id). The store side (leases, claims) is ``store/delivery_store.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chainwatch.errors import QueryError
from chainwatch.store.app_state import AlertRecord, AppState, Subscription
from chainwatch.store.delivery_store import (
    DeliveryClaim,
    claim_delivery,
    finish_delivery,
    read_deliveries,
    read_open_alert_ids,
    write_delivery_rows,
)
from chainwatch.watch.alerts import AlertState
from chainwatch.watch.subscriptions import matching_alerts
from chainwatch.watch.targets import PUBLIC_ONLY, Answer, TargetPolicy, WebhookError, post

DELIVERY_HEADER = "X-Chainwatch-Delivery"
TIMESTAMP_HEADER = "X-Chainwatch-Timestamp"
ATTEMPT_HEADER = "X-Chainwatch-Attempt"
SIGNATURE_HEADER = "X-Chainwatch-Signature"
SIGNATURE_VERSION = "v1"
REPLAY_WINDOW_S = 300
DELIVERED_STATES = frozenset({AlertState.new, AlertState.confirmed})
"""Alerts in these states are delivered; dismissed and resolved ones are not."""


@dataclass(frozen=True)
class DeliveryPolicy:
    """How a run delivers: ``timeout_s`` for a whole POST, ``workers`` concurrent POSTs, a
    lease of ``lease_s`` (default: timeout + 30 s) on each claimed delivery, and the waits
    before a failed delivery is tried again by a later run."""

    timeout_s: float = 10.0
    workers: int = 8
    lease_s: float | None = None
    backoff_s: float = 60.0
    max_backoff_s: float = 6 * 3600.0
    max_retry_after_s: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if not 0 < self.timeout_s <= 600:
            raise QueryError(f"timeout {self.timeout_s} s: give 0 < timeout <= 600")
        if not 1 <= self.workers <= 64:
            raise QueryError(f"workers {self.workers}: give 1 to 64")
        if self.lease_s is not None and self.lease_s <= self.timeout_s:
            raise QueryError(f"lease {self.lease_s} s must be longer than the timeout")
        if self.backoff_s < 0 or self.max_backoff_s < self.backoff_s:
            raise QueryError("backoff must be >= 0 and at most the maximal backoff")

    @property
    def lease(self) -> float:
        return self.lease_s if self.lease_s is not None else self.timeout_s + 30.0

    def retry_delay(self, attempts: int, retry_after_s: float | None = None) -> float:
        """Seconds before attempt ``attempts`` + 1: the backoff, or Retry-After if longer."""
        delay = min(self.max_backoff_s, self.backoff_s * 2 ** max(0, attempts - 1))
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.max_retry_after_s))
        return float(delay)


@dataclass(frozen=True)
class DeliveryOutcome:
    subscription_id: int
    alert_id: str
    status: str
    """delivered; failed (retried by a later run); skipped (delivered before, or being sent
    by another process); waiting (failed before, next attempt not due yet)"""
    attempts: int
    error: str | None = None
    delivery_id: str | None = None


def signed_message(body: bytes, timestamp: str, delivery_id: str) -> bytes:
    """What the signature covers: ``"<timestamp>.<delivery id>." + body``."""
    return f"{timestamp}.{delivery_id}.".encode("ascii") + body


def sign(body: bytes, secret: str, timestamp: str, delivery_id: str) -> str:
    """The ``X-Chainwatch-Signature`` value: ``v1=`` + hex HMAC-SHA256."""
    message = signed_message(body, timestamp, delivery_id)
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    tolerance_s: float = REPLAY_WINDOW_S,
    at: float | None = None,
) -> bool:
    """For receivers: whether ``headers`` (case-insensitive names) sign ``body`` with
    ``secret`` (constant-time compare) at a timestamp within ``tolerance_s`` of now."""
    found = {name.lower(): value for name, value in headers.items()}
    signature = found.get(SIGNATURE_HEADER.lower(), "").strip()
    timestamp = found.get(TIMESTAMP_HEADER.lower(), "").strip()
    delivery_id = found.get(DELIVERY_HEADER.lower(), "").strip()
    if not (signature and timestamp.isdigit() and delivery_id.isascii() and delivery_id):
        return False
    if abs((time.time() if at is None else at) - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(sign(body, secret, timestamp, delivery_id), signature)


def payload(
    alert: AlertRecord, subscription: Subscription, sent_at: int, delivery_id: str
) -> bytes:
    """The JSON body of one attempt (keys sorted, compact)."""
    document: dict[str, Any] = {
        "type": "chainwatch.alert",
        "delivery_id": delivery_id,
        "subscription_id": subscription.subscription_id,
        "sent_at": sent_at,
        "alert": {
            "id": alert.alert_id,
            "urn": f"urn:chainwatch:alert:{alert.alert_id}",
            "rule_id": alert.rule_id,
            "severity": alert.severity,
            "state": str(alert.state),
            "first_year": alert.first_year,
            "last_year": alert.last_year,
            "sentence": alert.sentence,
            "scope": alert.scope,
            "updated_at": alert.updated_at.isoformat(),
        },
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


Poster = Callable[[str, bytes, dict[str, str], float, TargetPolicy], Answer]


def attempt_delivery(
    app: AppState,
    subscription: Subscription,
    secret: str,
    alert: AlertRecord,
    policy: DeliveryPolicy = DeliveryPolicy(),
    targets: TargetPolicy = PUBLIC_ONLY,
    send: Poster = post,
) -> DeliveryOutcome:
    """Claim one delivery and make one attempt; the outcome of this run for the pair."""
    subscription_id, alert_id = subscription.subscription_id, alert.alert_id
    claim = claim_delivery(app, subscription_id, alert_id, policy.lease)
    if claim is None:
        return _unclaimed(app, subscription_id, alert_id)
    sent_at = int(time.time())
    body = payload(alert, subscription, sent_at, claim.delivery_id)
    headers = {
        DELIVERY_HEADER: claim.delivery_id,
        TIMESTAMP_HEADER: str(sent_at),
        ATTEMPT_HEADER: str(claim.attempt),
        SIGNATURE_HEADER: sign(body, secret, str(sent_at), claim.delivery_id),
    }
    retry_after: float | None = None
    try:
        answer = send(str(subscription.url), body, headers, policy.timeout_s, targets)
        error = _failure(answer)
        retry_after = answer.retry_after_s if answer.status in (429, 503) else None
    except WebhookError as failure:
        error = str(failure)
    return _finish(app, claim, policy, error, retry_after)


def _failure(answer: Answer) -> str | None:
    """None for a 2xx answer, else why it is not a delivery."""
    if 200 <= answer.status < 300:
        return None
    if 300 <= answer.status < 400:
        return (f"HTTP {answer.status} redirect to {answer.location or '?'} not followed "
                "(a webhook must answer 2xx at its own URL)")  # fmt: skip
    return f"HTTP {answer.status} {answer.reason}".strip()


def _finish(
    app: AppState,
    claim: DeliveryClaim,
    policy: DeliveryPolicy,
    error: str | None,
    retry_after: float | None,
) -> DeliveryOutcome:
    stamp = datetime.now(UTC)
    retry_at = None
    if error is not None:
        retry_at = stamp + timedelta(seconds=policy.retry_delay(claim.attempt, retry_after))
    finish_delivery(app, claim, error, retry_at, at=stamp)
    status = "delivered" if error is None else "failed"
    return DeliveryOutcome(claim.subscription_id, claim.alert_id, status, claim.attempt, error,
                           claim.delivery_id)  # fmt: skip


def _unclaimed(app: AppState, subscription_id: int, alert_id: str) -> DeliveryOutcome:
    found = read_deliveries(app, subscription_id, alert_id)
    if not found:  # removed by `watch unsubscribe` meanwhile
        return DeliveryOutcome(subscription_id, alert_id, "skipped", 0)
    row = found[0]
    status = "waiting" if row.status == "failed" else "skipped"
    return DeliveryOutcome(subscription_id, alert_id, status, row.attempts, row.last_error,
                           row.delivery_id)  # fmt: skip


def deliver_pending(
    app: AppState,
    alert_ids: Iterable[str] | None = None,
    policy: DeliveryPolicy = DeliveryPolicy(),
    targets: TargetPolicy = PUBLIC_ONLY,
    send: Poster = post,
) -> list[DeliveryOutcome]:
    """One delivery run: the stored alerts in a delivered state (all, or ``alert_ids`` plus
    any with an unfinished delivery) to every webhook subscription they match, at most one
    attempt each, ``policy.workers`` at a time. Outcomes in (subscription, alert) order."""
    app.seal_secrets()
    wanted = None if alert_ids is None else set(alert_ids) | read_open_alert_ids(app)
    alerts = [
        alert
        for alert in app.alerts()
        if alert.state in DELIVERED_STATES and (wanted is None or alert.alert_id in wanted)
    ]
    work = []
    for subscription in app.subscriptions():
        if subscription.channel != "webhook":
            continue
        matched = matching_alerts(subscription, alerts)
        if matched:
            secret = app.webhook_secret(subscription.subscription_id) or ""
            work += [(subscription, secret, alert) for alert in matched]
    write_delivery_rows(app, [(s.subscription_id, a.alert_id) for s, _, a in work])
    if not work:
        return []
    with ThreadPoolExecutor(max_workers=min(policy.workers, len(work))) as pool:
        futures = [pool.submit(attempt_delivery, app, subscription, secret, alert, policy,
                               targets, send) for subscription, secret, alert in work]  # fmt: skip
        return [future.result() for future in futures]
