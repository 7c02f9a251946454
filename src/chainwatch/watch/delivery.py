"""Signed webhooks: each alert a subscription matches is POSTed once, with bounded retries.

The body is JSON; ``X-Chainwatch-Signature: sha256=<hex>`` is the HMAC-SHA256 of the exact
body bytes keyed with the subscription's secret, ``X-Chainwatch-Timestamp`` the Unix time of
the attempt (also in the signed body as ``sent_at``). Every attempt is counted in the
``delivery`` table; a (subscription, alert) pair has one row, claimed before sending, so an
alert is never delivered twice to a subscription.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from chainwatch.store.app_state import AlertRecord, AppState, Subscription
from chainwatch.watch.alerts import AlertState
from chainwatch.watch.subscriptions import check_webhook_url, matching_alerts

SIGNATURE_HEADER = "X-Chainwatch-Signature"
TIMESTAMP_HEADER = "X-Chainwatch-Timestamp"
DELIVERED_STATES = frozenset({AlertState.new, AlertState.confirmed})
"""Alerts in these states are delivered; dismissed and resolved ones are not."""


@dataclass(frozen=True)
class RetryPolicy:
    """Up to ``attempts`` tries per delivery, waiting ``backoff_s``·2^(n−1) after try n."""

    attempts: int = 4
    backoff_s: float = 1.0
    timeout_s: float = 10.0

    def delay(self, attempt: int) -> float:
        return float(self.backoff_s * 2 ** (attempt - 1))


@dataclass(frozen=True)
class DeliveryOutcome:
    subscription_id: int
    alert_id: str
    status: str
    """delivered, failed, or skipped (delivered before, or being sent by another process)"""
    attempts: int
    error: str | None = None


class WebhookError(Exception):
    """A failed POST; ``retryable`` for network errors, 429 and 5xx answers."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def sign(body: bytes, secret: str) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``header`` is the signature of ``body`` with ``secret`` (constant-time)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())


def payload(alert: AlertRecord, subscription: Subscription, sent_at: int) -> bytes:
    """The JSON body of one delivery (keys sorted, compact)."""
    document: dict[str, Any] = {
        "type": "chainwatch.alert",
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


def post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
    """POST ``body``; the HTTP status of a 2xx answer, else :class:`WebhookError`."""
    request = urllib.request.Request(
        check_webhook_url(url),
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "chainwatch-webhook", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        retryable = error.code == 429 or error.code >= 500
        raise WebhookError(f"HTTP {error.code} {error.reason}", retryable) from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise WebhookError(f"cannot reach {url}: {reason}", retryable=True) from error


Poster = Callable[[str, bytes, dict[str, str], float], int]


def deliver_alert(
    app: AppState,
    subscription: Subscription,
    alert: AlertRecord,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    send: Poster = post,
) -> DeliveryOutcome:
    """Deliver one alert to one webhook subscription, at most once, with bounded retries."""
    if not app.claim_delivery(subscription.subscription_id, alert.alert_id):
        return DeliveryOutcome(subscription.subscription_id, alert.alert_id, "skipped", 0)
    error: str | None = None
    for attempt in range(1, policy.attempts + 1):
        sent_at = int(time.time())
        body = payload(alert, subscription, sent_at)
        headers = {
            SIGNATURE_HEADER: sign(body, subscription.secret or ""),
            TIMESTAMP_HEADER: str(sent_at),
        }
        try:
            send(str(subscription.url), body, headers, policy.timeout_s)
        except WebhookError as failure:
            error = str(failure)
            app.record_attempt(subscription.subscription_id, alert.alert_id, error)
            if not failure.retryable or attempt == policy.attempts:
                break
            sleep(policy.delay(attempt))
            continue
        app.record_attempt(subscription.subscription_id, alert.alert_id, None)
        return DeliveryOutcome(subscription.subscription_id, alert.alert_id, "delivered", attempt)
    app.release_delivery(subscription.subscription_id, alert.alert_id)
    return DeliveryOutcome(subscription.subscription_id, alert.alert_id, "failed", attempt, error)


def deliver_pending(
    app: AppState,
    alert_ids: Iterable[str] | None = None,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    send: Poster = post,
) -> list[DeliveryOutcome]:
    """Deliver the stored alerts (all, or ``alert_ids``) in a delivered state to every
    webhook subscription they match; alerts delivered before are skipped."""
    wanted = set(alert_ids) if alert_ids is not None else None
    alerts = [
        alert
        for alert in app.alerts()
        if alert.state in DELIVERED_STATES and (wanted is None or alert.alert_id in wanted)
    ]
    outcomes = []
    for subscription in app.subscriptions():
        if subscription.channel != "webhook":
            continue
        for alert in matching_alerts(subscription, alerts):
            outcomes.append(deliver_alert(app, subscription, alert, policy, sleep, send))
    return outcomes
