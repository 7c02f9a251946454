"""Webhook deliveries in the app database: one row per (subscription, alert), claimed under a
lease, so each alert reaches each subscription once even when senders die mid-POST.

A row's life: ``pending`` (created by an upsert) -> ``sending`` (claimed: a lease until a
time, a claim token, ``attempts`` + 1) -> ``delivered`` (a 2xx answer was seen) or ``failed``
(with the time of the next attempt). A claim is one conditional ``UPDATE``, so two processes
never hold the same row; it succeeds only for a pending row, a failed row whose next attempt is
due, or a ``sending`` row whose lease ran out (its sender was killed or hung). Only the holder
of the claim token may record a failure; a success from any sender records the delivery (the
receiver has it; the delivery id, the same on every attempt, lets it drop the copies).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from chainwatch.errors import StoreError
from chainwatch.store.app_database import database_reason, insert_new, shown_url
from chainwatch.store.app_state import AppState, DeliveryRow, SubscriptionRow, now, utc_or_none


@dataclass(frozen=True)
class Delivery:
    subscription_id: int
    alert_id: str
    delivery_id: str
    """The idempotency key sent as ``X-Chainwatch-Delivery`` (the same on every attempt)."""
    status: str
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    lease_until: datetime | None


@dataclass(frozen=True)
class DeliveryClaim:
    """The right to make attempt number ``attempt`` of a delivery, until ``lease_until``."""

    subscription_id: int
    alert_id: str
    delivery_id: str
    attempt: int
    token: str
    lease_until: datetime


@contextmanager
def _transaction(state: AppState) -> Iterator[Session]:
    """A transaction; a database failure (locked, gone) becomes a one-line StoreError."""
    try:
        with state.session() as session:
            yield session
    except IntegrityError:
        raise
    except SQLAlchemyError as error:
        raise StoreError(f"app database {shown_url(state.url)}: {database_reason(error)}") from (
            error
        )


def write_delivery_rows(state: AppState, pairs: Iterable[tuple[int, str]]) -> int:
    """A ``pending`` row, with a new delivery id, for each (subscription, alert) pair that has
    none; how many were created. A subscription removed meanwhile is passed over."""
    by_subscription: dict[int, list[str]] = {}
    for subscription_id, alert_id in pairs:
        by_subscription.setdefault(subscription_id, []).append(alert_id)
    created = 0
    for subscription_id, alert_ids in sorted(by_subscription.items()):
        rows = [{"subscription_id": subscription_id, "alert_id": alert_id, "status": "pending",
                 "attempts": 0, "delivery_key": str(uuid.uuid4())}
                for alert_id in sorted(set(alert_ids))]  # fmt: skip
        try:
            with _transaction(state) as session:
                created += insert_new(session, DeliveryRow, rows, ["subscription_id", "alert_id"])
        except IntegrityError:
            continue  # unsubscribed while this run was starting (PostgreSQL foreign key)
    return created


def _row(subscription_id: int, alert_id: str) -> ColumnElement[bool]:
    return and_(DeliveryRow.subscription_id == subscription_id, DeliveryRow.alert_id == alert_id)


def claim_delivery(
    state: AppState,
    subscription_id: int,
    alert_id: str,
    lease_s: float,
    at: datetime | None = None,
) -> DeliveryClaim | None:
    """Claim a delivery for one attempt, or None when it is delivered, held by a live lease,
    not due yet, or gone. The attempt is counted now, so a sender killed mid-POST counts."""
    stamp = at or now()
    token = uuid.uuid4().hex
    lease_until = stamp + timedelta(seconds=lease_s)
    claimable = or_(
        and_(
            DeliveryRow.status.in_(("pending", "failed")),
            or_(DeliveryRow.next_attempt_at.is_(None), DeliveryRow.next_attempt_at <= stamp),
        ),
        and_(
            DeliveryRow.status == "sending",
            or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= stamp),
        ),
    )
    with _transaction(state) as session:
        claimed = session.execute(
            update(DeliveryRow)
            .where(_row(subscription_id, alert_id), claimable)
            .values(
                status="sending",
                lease_until=lease_until,
                claim_token=token,
                attempts=DeliveryRow.attempts + 1,
            )
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return None
        key, attempts = session.execute(
            select(DeliveryRow.delivery_key, DeliveryRow.attempts).where(
                _row(subscription_id, alert_id)
            )
        ).one()
    return DeliveryClaim(subscription_id, alert_id, key, attempts, token, lease_until)


def finish_delivery(
    state: AppState,
    claim: DeliveryClaim,
    error: str | None = None,
    retry_at: datetime | None = None,
    at: datetime | None = None,
) -> bool:
    """Record the attempt of ``claim``: delivered when ``error`` is None, else failed with
    its next attempt at ``retry_at``. False when nothing changed (a failure reported after the
    lease passed to another sender, a delivery recorded already, a removed subscription)."""
    stamp = at or now()
    cleared = {"lease_until": None, "claim_token": None}
    if error is None:
        statement = (
            update(DeliveryRow)
            .where(_row(claim.subscription_id, claim.alert_id), DeliveryRow.status != "delivered")
            .values(
                status="delivered",
                delivered_at=stamp,
                last_error=None,
                next_attempt_at=None,
                **cleared,
            )
        )
    else:
        statement = (
            update(DeliveryRow)
            .where(
                _row(claim.subscription_id, claim.alert_id),
                DeliveryRow.status == "sending",
                DeliveryRow.claim_token == claim.token,
            )
            .values(status="failed", last_error=error[:2000], next_attempt_at=retry_at, **cleared)
        )
    with _transaction(state) as session:
        return bool(getattr(session.execute(statement), "rowcount", 0))


def read_deliveries(
    state: AppState, subscription_id: int | None = None, alert_id: str | None = None
) -> list[Delivery]:
    """The delivery records (of one subscription, of one alert), oldest first."""
    query = select(DeliveryRow).order_by(DeliveryRow.id)
    if subscription_id is not None:
        query = query.where(DeliveryRow.subscription_id == subscription_id)
    if alert_id is not None:
        query = query.where(DeliveryRow.alert_id == alert_id)
    with _transaction(state) as session:
        return [
            Delivery(
                subscription_id=row.subscription_id,
                alert_id=row.alert_id,
                delivery_id=row.delivery_key,
                status=row.status,
                attempts=row.attempts,
                last_error=row.last_error,
                delivered_at=utc_or_none(row.delivered_at),
                next_attempt_at=utc_or_none(row.next_attempt_at),
                lease_until=utc_or_none(row.lease_until),
            )
            for row in session.scalars(query)
        ]


def read_open_alert_ids(state: AppState) -> set[str]:
    """Alerts with a delivery not yet made (pending, failed, or sending under a lease) to a
    subscription that still exists."""
    query = (
        select(DeliveryRow.alert_id)
        .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
        .where(DeliveryRow.status != "delivered")
        .distinct()
    )
    with _transaction(state) as session:
        return set(session.scalars(query))
