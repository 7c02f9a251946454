"""Subscriptions: who wants which alerts, and through which channel.

A subscription follows a **material** (``graphite``: alerts whose scope names it), a
**partner** (an exporter ISO3 code: alerts about that supplier) or a **perspective** (``CAN``,
``EU27``: alerts computed for that importer). Its channel is a signed **webhook** (URL and
secret; the host is checked by ``watch.targets``) or the Atom **feed**
(``chainwatch watch feed --subscription ID``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from chainwatch.errors import QueryError
from chainwatch.store.app_state import (
    CHANNELS,
    SUBSCRIPTION_KINDS,
    AlertRecord,
    AppState,
    Subscription,
)
from chainwatch.watch.targets import PUBLIC_ONLY, TargetPolicy, check_webhook_url

_ISO3 = re.compile(r"^[A-Z]{3}$")
_PERSPECTIVE = re.compile(r"^[A-Z][A-Z0-9_]{2,15}$")


def check_subscription(
    kind: str,
    value: str,
    channel: str,
    url: str | None,
    secret: str | None,
    targets: TargetPolicy = PUBLIC_ONLY,
) -> tuple[str, str]:
    """The normalised (kind, value) of a valid subscription, else a one-line ``QueryError``;
    a webhook host must pass ``targets`` (loopback and private hosts only when allowed)."""
    if kind not in SUBSCRIPTION_KINDS:
        raise QueryError(
            f"unknown subscription kind {kind!r} (kinds: {', '.join(SUBSCRIPTION_KINDS)})"
        )
    if channel not in CHANNELS:
        raise QueryError(f"unknown channel {channel!r} (channels: {', '.join(CHANNELS)})")
    cleaned = value.strip()
    if kind == "material":
        cleaned = cleaned.lower()
        if not cleaned:
            raise QueryError("a material subscription needs a material name")
    else:
        cleaned = cleaned.upper()
        if kind == "partner" and not _ISO3.match(cleaned):
            raise QueryError(f"partner {value!r} is not an ISO3 country code (e.g. CHN)")
        if not _PERSPECTIVE.match(cleaned):
            raise QueryError(f"perspective {value!r} is not an ISO3 code or a group id (e.g. EU27)")
    if channel == "webhook":
        check_webhook_url(url, targets)
        if not secret:
            raise QueryError("a webhook subscription needs --secret (the HMAC signing key)")
    elif url or secret:
        raise QueryError("a feed subscription takes no URL or secret")
    return kind, cleaned


def add_subscription(
    app: AppState,
    kind: str,
    value: str,
    channel: str,
    url: str | None = None,
    secret: str | None = None,
    targets: TargetPolicy = PUBLIC_ONLY,
) -> Subscription:
    """Validate and store a subscription (its secret encrypted by the app state)."""
    kind, cleaned = check_subscription(kind, value, channel, url, secret, targets)
    return app.subscribe(kind, cleaned, channel, url, secret)


def remove_subscription(app: AppState, subscription_id: int) -> str:
    """Remove a subscription and its delivery records; one line saying what went."""
    removed, deliveries = app.unsubscribe(subscription_id)
    return f"removed subscription {describe(removed)} ({deliveries} delivery records)"


def matches(subscription: Subscription, scope: Mapping[str, Any]) -> bool:
    """Whether an alert with this ``scope`` (``AlertRecord.scope``) concerns the subscription.

    Materials are ``;``-joined in a scope (a code may serve several materials).
    """
    if subscription.kind == "material":
        materials = str(scope.get("material") or "").split(";")
        return subscription.value in {part.strip().lower() for part in materials if part}
    if subscription.kind == "partner":
        return str(scope.get("exporter_iso3") or "").upper() == subscription.value
    return str(scope.get("perspective") or "").upper() == subscription.value


def matching_alerts(subscription: Subscription, alerts: Iterable[AlertRecord]) -> list[AlertRecord]:
    return [alert for alert in alerts if matches(subscription, alert.scope)]


def describe(subscription: Subscription) -> str:
    """One line: ``3: material graphite -> webhook https://...``."""
    target = subscription.url if subscription.channel == "webhook" else "Atom feed"
    return (
        f"{subscription.subscription_id}: {subscription.kind} {subscription.value} -> "
        f"{subscription.channel} {target}"
    )
