"""App state: alerts and their workflow, subscriptions and deliveries, through SQLAlchemy.

The only code that opens the app database. The analytic data stay in DuckDB (ADR 0001); the
app state is small, row-oriented and written by several processes, so it lives in SQLite (a
file beside the DuckDB store: ``<store>.app.sqlite``) or in PostgreSQL when
``$CHAINWATCH_APP_DB`` holds a SQLAlchemy URL (ADR 0005). Opening an :class:`AppState`
creates or upgrades the schema (``store/app_database.py``: Alembic migrations under a lock, a
0600 SQLite file). Webhook secrets are stored encrypted (a ``SecretCipher``, by default
``watch.secrets.KeyRing``; ADR 0009); deliveries are in ``store/delivery_store.py``.

:class:`AppState` is a :class:`chainwatch.watch.alerts.StateStore`: the workflow rules
(``check_transition``) come from the watch package, every change is audited in ``alert_event``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from chainwatch.errors import QueryError
from chainwatch.store.app_database import (
    app_database_url,
    default_key_file,
    insert_new,
    open_engine,
)
from chainwatch.watch.alerts import Alert, AlertState, check_transition

SUBSCRIPTION_KINDS = ("material", "partner", "perspective")
CHANNELS = ("webhook", "feed")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed")


class Base(DeclarativeBase):
    pass


class AlertRow(Base):
    __tablename__ = "alert"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_year: Mapped[int] = mapped_column(Integer)
    last_year: Mapped[int] = mapped_column(Integer)
    sentence: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertEventRow(Base):
    __tablename__ = "alert_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alert.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class SubscriptionRow(Base):
    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str | None] = mapped_column(Text)
    """Clear text, from before revision 0003 only (``seal_secrets`` encrypts it)."""
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeliveryRow(Base):
    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "alert_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id"))
    alert_id: Mapped[str] = mapped_column(ForeignKey("alert.id"))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_key: Mapped[str] = mapped_column(String(36), unique=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_token: Mapped[str | None] = mapped_column(String(32))


@dataclass(frozen=True)
class AlertRecord:
    """A persisted alert: the latest year it fired in and its workflow state."""

    alert_id: str
    rule_id: str
    severity: str
    scope: dict[str, Any]
    first_year: int
    last_year: int
    sentence: str
    state: AlertState
    updated_at: datetime


@dataclass(frozen=True)
class AlertEvent:
    """One audited state change (``from_state`` is None when the alert was first stored)."""

    alert_id: str
    from_state: AlertState | None
    to_state: AlertState
    actor: str
    at: datetime
    note: str | None


@dataclass(frozen=True)
class Subscription:
    subscription_id: int
    kind: str
    value: str
    channel: str
    url: str | None
    has_secret: bool
    """Whether a signing secret is stored (``AppState.webhook_secret`` reads it)."""
    created_at: datetime


class SecretCipher(Protocol):
    """What encrypts the secrets at rest (``chainwatch.watch.secrets.KeyRing``)."""

    def encrypt(self, clear: str) -> str: ...

    def decrypt(self, token: str) -> str: ...

    def rotate(self, token: str) -> str: ...


def now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


class AppState:
    """The app database: alerts with their workflow, subscriptions, deliveries.

    Opening it (``AppState(url)``) upgrades the schema to the latest migration. ``secrets``
    encrypts the webhook secrets (default: a ``KeyRing`` over ``$CHAINWATCH_SECRET_KEY`` or
    the default key file, looked up only when a secret is stored or read).
    """

    def __init__(
        self,
        url: str | None = None,
        store_path: Path | str | None = None,
        secrets: SecretCipher | None = None,
    ) -> None:
        self.url = url or app_database_url(store_path)
        self._store_path = store_path
        self._secrets = secrets
        self.engine = open_engine(self.url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> AppState:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction on the app database, for the other modules of the store layer."""
        with self._session() as session:
            yield session

    # --- alerts ----------------------------------------------------------------------------

    def record_alerts(self, alerts: Iterable[Alert], actor: str = "monitor") -> list[AlertRecord]:
        """Insert new alerts (state ``new``, audited) and bring known ones up to date.

        A known alert keeps its workflow state; its last year, severity and sentence follow
        the latest year it fired in. Inserts are upserts (``ON CONFLICT DO NOTHING``) in alert
        id order, so concurrent runs recording the same alerts neither fail nor deadlock.
        """
        stamp = now()
        chosen = {alert.alert_id: alert for alert in alerts}
        with self._session() as session:
            for alert_id in sorted(chosen):
                alert = chosen[alert_id]
                row = {"id": alert_id, "rule_id": alert.rule_id, "severity": str(alert.severity),
                       "scope": alert_scope(alert), "first_year": alert.first_year,
                       "last_year": alert.year, "sentence": alert.sentence,
                       "state": str(AlertState.new), "updated_at": stamp}  # fmt: skip
                if insert_new(session, AlertRow, [row], ["id"]):
                    event = AlertEventRow(alert_id=alert_id, from_state=None, actor=actor,
                                          to_state=str(AlertState.new), at=stamp,
                                          note=f"raised for {alert.year}")  # fmt: skip
                    session.add(event)
                    continue
                session.execute(
                    update(AlertRow)
                    .where(AlertRow.id == alert_id, AlertRow.last_year < alert.year)
                    .values(
                        last_year=alert.year,
                        severity=str(alert.severity),
                        sentence=alert.sentence,
                        updated_at=stamp,
                    )
                )
        return [record for record in self.alerts() if record.alert_id in chosen]

    def alert(self, alert_id: str) -> AlertRecord:
        with self._session() as session:
            row = session.get(AlertRow, alert_id)
            if row is None:
                raise QueryError(
                    f"unknown alert {alert_id!r}: `chainwatch watch deliver` stores "
                    "the alerts of a year"
                )
            return _alert_record(row)

    def alerts(self) -> list[AlertRecord]:
        """Every stored alert, most recently updated first."""
        with self._session() as session:
            rows = session.scalars(
                select(AlertRow).order_by(AlertRow.updated_at.desc(), AlertRow.id)
            )
            return [_alert_record(row) for row in rows]

    def get(self, alert_id: str) -> AlertState | None:
        """:class:`StateStore`: the stored state, None for an alert never stored."""
        with self._session() as session:
            row = session.get(AlertRow, alert_id)
            return None if row is None else AlertState(row.state)

    def set(self, alert_id: str, state: AlertState) -> None:
        """:class:`StateStore`: move an alert to ``state`` (the monitor is the actor)."""
        self.transition(alert_id, state, actor="monitor")

    def transition(
        self, alert_id: str, state: AlertState | str, actor: str, note: str | None = None
    ) -> AlertRecord:
        """Move a stored alert to ``state`` if the workflow allows it, and audit the move.

        Setting the state an alert already has changes nothing (no event). A move the workflow
        refuses, or an unknown alert or state, is a :class:`QueryError`.
        """
        try:
            target = AlertState(state)
        except ValueError as error:
            allowed = ", ".join(AlertState)
            raise QueryError(f"unknown state {state!r} (states: {allowed})") from error
        stamp = now()
        with self._session() as session:
            row = session.get(AlertRow, alert_id, with_for_update=True)
            if row is None:
                raise QueryError(f"unknown alert {alert_id!r}")
            current = AlertState(row.state)
            if current != target:
                try:
                    check_transition(current, target)
                except ValueError as error:
                    raise QueryError(f"alert {alert_id}: {error}") from error
                row.state = str(target)
                row.updated_at = stamp
                session.add(
                    AlertEventRow(
                        alert_id=alert_id,
                        from_state=str(current),
                        to_state=str(target),
                        actor=actor,
                        at=stamp,
                        note=note,
                    )
                )
            return _alert_record(row)

    def events(self, alert_id: str) -> list[AlertEvent]:
        """The audit trail of one alert, oldest first."""
        with self._session() as session:
            rows = session.scalars(
                select(AlertEventRow)
                .where(AlertEventRow.alert_id == alert_id)
                .order_by(AlertEventRow.id)
            )
            return [
                AlertEvent(
                    alert_id=row.alert_id,
                    from_state=None if row.from_state is None else AlertState(row.from_state),
                    to_state=AlertState(row.to_state),
                    actor=row.actor,
                    at=_utc(row.at),
                    note=row.note,
                )
                for row in rows
            ]

    # --- subscriptions ---------------------------------------------------------------------

    def subscribe(
        self,
        kind: str,
        value: str,
        channel: str,
        url: str | None = None,
        secret: str | None = None,
    ) -> Subscription:
        """Store a subscription (validated by ``watch.subscriptions.check_subscription``);
        the secret is stored encrypted."""
        sealed = None if secret is None else self.cipher().encrypt(secret)
        with self._session() as session:
            row = SubscriptionRow(kind=kind, value=value, channel=channel, url=url,
                                  secret_encrypted=sealed, created_at=now())  # fmt: skip
            session.add(row)
            session.flush()
            return _subscription(row)

    def subscription(self, subscription_id: int) -> Subscription:
        with self._session() as session:
            return _subscription(_subscription_row(session, subscription_id))

    def subscriptions(self) -> list[Subscription]:
        with self._session() as session:
            rows = session.scalars(select(SubscriptionRow).order_by(SubscriptionRow.id))
            return [_subscription(row) for row in rows]

    def unsubscribe(self, subscription_id: int) -> tuple[Subscription, int]:
        """Remove a subscription and its delivery records; (the subscription, how many
        delivery records went with it). A delivery in flight elsewhere finds no row to finish."""
        with self._session() as session:
            row = _subscription_row(session, subscription_id, lock=True)
            removed = _subscription(row)
            result = session.execute(
                delete(DeliveryRow).where(DeliveryRow.subscription_id == subscription_id)
            )
            session.delete(row)
            return removed, int(getattr(result, "rowcount", 0) or 0)

    def cipher(self) -> SecretCipher:
        """The cipher of the secrets (the default ``KeyRing`` is built on first use)."""
        if self._secrets is None:
            from chainwatch.watch.secrets import KeyRing

            self._secrets = KeyRing(default_key_file(self.url, self._store_path))
        return self._secrets

    def webhook_secret(self, subscription_id: int) -> str | None:
        """The clear signing secret of a subscription (decrypted here, never stored clear)."""
        with self._session() as session:
            row = _subscription_row(session, subscription_id)
            sealed, legacy = row.secret_encrypted, row.secret
        if sealed is not None:
            return self.cipher().decrypt(sealed)
        return legacy

    def seal_secrets(self) -> int:
        """Encrypt the secrets stored in clear by versions before revision 0003; how many."""
        with self._session() as session:
            rows = list(session.scalars(select(SubscriptionRow)
                                        .where(SubscriptionRow.secret.is_not(None))
                                        .with_for_update()))  # fmt: skip
            for row in rows:
                row.secret_encrypted = self.cipher().encrypt(str(row.secret))
                row.secret = None
            return len(rows)

    def rotate_secrets(self) -> int:
        """Re-encrypt every stored secret with the first key (after adding a new key in
        front); legacy clear secrets are encrypted too. How many secrets were rewritten."""
        self.seal_secrets()
        with self._session() as session:
            rows = list(session.scalars(select(SubscriptionRow)
                                        .where(SubscriptionRow.secret_encrypted.is_not(None))
                                        .with_for_update()))  # fmt: skip
            for row in rows:
                row.secret_encrypted = self.cipher().rotate(str(row.secret_encrypted))
            return len(rows)

    def counts(self) -> dict[str, int]:
        """Rows per app table (for consistency checks and the soak report)."""
        counted = {}
        with self._session() as session:
            for model in (AlertRow, AlertEventRow, SubscriptionRow, DeliveryRow):
                counted[model.__tablename__] = int(
                    session.scalar(select(func.count()).select_from(model)) or 0
                )
        return counted


def alert_scope(alert: Alert) -> dict[str, Any]:
    """What an alert is about, as stored in ``alert.scope`` and matched by subscriptions."""
    return {
        "scope": alert.scope,
        "signal": alert.signal,
        "perspective": alert.perspective,
        "exporter_iso3": alert.exporter_iso3,
        "material": alert.material,
        "stage": alert.stage,
        "hs6": alert.hs6,
    }


def _alert_record(row: AlertRow) -> AlertRecord:
    return AlertRecord(
        alert_id=row.id,
        rule_id=row.rule_id,
        severity=row.severity,
        scope=dict(row.scope),
        first_year=row.first_year,
        last_year=row.last_year,
        sentence=row.sentence,
        state=AlertState(row.state),
        updated_at=_utc(row.updated_at),
    )


def _subscription_row(
    session: Session, subscription_id: int, lock: bool = False
) -> SubscriptionRow:
    row = session.get(SubscriptionRow, subscription_id, with_for_update=lock)
    if row is None:
        raise QueryError(
            f"unknown subscription {subscription_id} (see `chainwatch watch subscriptions`)"
        )
    return row


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        subscription_id=row.id,
        kind=row.kind,
        value=row.value,
        channel=row.channel,
        url=row.url,
        has_secret=row.secret_encrypted is not None or row.secret is not None,
        created_at=_utc(row.created_at),
    )
