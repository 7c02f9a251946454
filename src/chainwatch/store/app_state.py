"""App state: alerts and their workflow, subscriptions and deliveries, through SQLAlchemy.

The only code that opens the app database. The analytic data stay in DuckDB (ADR 0001); the
app state is small, row-oriented and written by several processes, so it lives in SQLite (a
file beside the DuckDB store: ``<store>.app.sqlite``) or in PostgreSQL when
``$CHAINWATCH_APP_DB`` holds a SQLAlchemy URL (ADR 0005). The schema is created and upgraded
by the Alembic migrations in ``store/migrations`` when an :class:`AppState` is first opened.

:class:`AppState` is a :class:`chainwatch.watch.alerts.StateStore`: the workflow rules
(``check_transition``) come from the watch package, every change is audited in ``alert_event``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    select,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from chainwatch.errors import QueryError, StoreError
from chainwatch.watch.alerts import Alert, AlertState, check_transition

APP_DB_VARIABLE = "CHAINWATCH_APP_DB"
MIGRATIONS = Path(__file__).with_name("migrations")
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
    secret: str | None
    created_at: datetime


@dataclass(frozen=True)
class Delivery:
    subscription_id: int
    alert_id: str
    status: str
    attempts: int
    last_error: str | None
    delivered_at: datetime | None


def now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def app_database_url(store_path: Path | str | None = None) -> str:
    """``$CHAINWATCH_APP_DB``, else a SQLite file beside the DuckDB store."""
    configured = os.environ.get(APP_DB_VARIABLE, "").strip()
    if configured:
        return configured
    if store_path is None:
        from chainwatch.store.duckdb_store import default_store_path

        store_path = default_store_path()
    path = Path(store_path)
    sqlite = path.with_name(path.stem + ".app.sqlite")
    return URL.create("sqlite", database=str(sqlite)).render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "<unparseable URL>"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` on ``engine`` (programmatic, no ini)."""
    _migrate(engine, revision, up=True)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _migrate(engine, revision, up=False)


def _migrate(engine: Engine, revision: str, up: bool) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if up:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)


class AppState:
    """The app database: alerts with their workflow, subscriptions, deliveries.

    Opening it (``AppState(url)``) upgrades the schema to the latest migration.
    """

    def __init__(self, url: str | None = None, store_path: Path | str | None = None) -> None:
        self.url = url or app_database_url(store_path)
        try:
            parsed = make_url(self.url)
        except SQLAlchemyError as error:
            raise StoreError(f"app database URL {self.url!r} is not a SQLAlchemy URL") from error
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(parsed)
        try:
            upgrade(self.engine)
        except SQLAlchemyError as error:
            self.engine.dispose()
            reason = str(error.orig if hasattr(error, "orig") else error).splitlines()[0]
            raise StoreError(f"cannot open the app database {shown_url(self.url)}: {reason}") from (
                error
            )

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
        the latest year it fired in.
        """
        stamp = now()
        ids = []
        with self._session() as session:
            for alert in alerts:
                ids.append(alert.alert_id)
                row = session.get(AlertRow, alert.alert_id)
                if row is None:
                    session.add(
                        AlertRow(
                            id=alert.alert_id,
                            rule_id=alert.rule_id,
                            severity=str(alert.severity),
                            scope=alert_scope(alert),
                            first_year=alert.first_year,
                            last_year=alert.year,
                            sentence=alert.sentence,
                            state=str(AlertState.new),
                            updated_at=stamp,
                        )
                    )
                    session.flush()
                    session.add(
                        AlertEventRow(
                            alert_id=alert.alert_id,
                            from_state=None,
                            to_state=str(AlertState.new),
                            actor=actor,
                            at=stamp,
                            note=f"raised for {alert.year}",
                        )
                    )
                elif alert.year > row.last_year:
                    row.last_year = alert.year
                    row.severity = str(alert.severity)
                    row.sentence = alert.sentence
                    row.updated_at = stamp
        stored = set(ids)
        return [record for record in self.alerts() if record.alert_id in stored]

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
        """Store a subscription (validated by ``watch.subscriptions.check_subscription``)."""
        with self._session() as session:
            row = SubscriptionRow(
                kind=kind, value=value, channel=channel, url=url, secret=secret, created_at=now()
            )
            session.add(row)
            session.flush()
            return _subscription(row)

    def subscription(self, subscription_id: int) -> Subscription:
        with self._session() as session:
            row = session.get(SubscriptionRow, subscription_id)
            if row is None:
                raise QueryError(f"unknown subscription {subscription_id}")
            return _subscription(row)

    def subscriptions(self) -> list[Subscription]:
        with self._session() as session:
            rows = session.scalars(select(SubscriptionRow).order_by(SubscriptionRow.id))
            return [_subscription(row) for row in rows]

    # --- deliveries ------------------------------------------------------------------------

    def claim_delivery(self, subscription_id: int, alert_id: str) -> bool:
        """Reserve the delivery of an alert to a subscription; False if it was delivered or
        another process is sending it. A row per pair (unique) makes a second delivery of
        the same alert impossible."""
        try:
            with self._session() as session:
                session.add(
                    DeliveryRow(
                        subscription_id=subscription_id,
                        alert_id=alert_id,
                        status="pending",
                        attempts=0,
                    )
                )
        except IntegrityError:
            pass  # the row exists: claimed below only if still open
        with self._session() as session:
            claimed = session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.subscription_id == subscription_id,
                    DeliveryRow.alert_id == alert_id,
                    DeliveryRow.status.in_(("pending", "failed")),
                )
                .values(status="sending")
            )
            return bool(getattr(claimed, "rowcount", 0))

    def record_attempt(self, subscription_id: int, alert_id: str, error: str | None) -> None:
        """Count one attempt of a claimed delivery: delivered when ``error`` is None."""
        values: dict[str, Any] = {"attempts": DeliveryRow.attempts + 1, "last_error": error}
        if error is None:
            values |= {"status": "delivered", "delivered_at": now()}
        with self._session() as session:
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.subscription_id == subscription_id, DeliveryRow.alert_id == alert_id
                )
                .values(**values)
            )

    def release_delivery(self, subscription_id: int, alert_id: str) -> None:
        """A claimed delivery that ran out of attempts: ``failed`` (retried on a later run)."""
        with self._session() as session:
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.subscription_id == subscription_id,
                    DeliveryRow.alert_id == alert_id,
                    DeliveryRow.status == "sending",
                )
                .values(status="failed")
            )

    def deliveries(self, subscription_id: int | None = None) -> list[Delivery]:
        with self._session() as session:
            query = select(DeliveryRow).order_by(DeliveryRow.id)
            if subscription_id is not None:
                query = query.where(DeliveryRow.subscription_id == subscription_id)
            return [
                Delivery(
                    subscription_id=row.subscription_id,
                    alert_id=row.alert_id,
                    status=row.status,
                    attempts=row.attempts,
                    last_error=row.last_error,
                    delivered_at=None if row.delivered_at is None else _utc(row.delivered_at),
                )
                for row in session.scalars(query)
            ]


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


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        subscription_id=row.id,
        kind=row.kind,
        value=row.value,
        channel=row.channel,
        url=row.url,
        secret=row.secret,
        created_at=_utc(row.created_at),
    )
