"""Deliveries exactly once: a delivery id per row, leases for ``sending``, the time of the next
attempt; webhook secrets encrypted (``subscription.secret_encrypted``; ``secret`` keeps the
clear secrets of older versions until ``AppState.seal_secrets`` encrypts them).

Rows left ``sending`` by a killed sender get no lease, so the next run may claim them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("delivery_key", sa.String(36), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
    connection = op.get_bind()
    delivery = sa.table("delivery", sa.column("id", sa.Integer()),
                        sa.column("delivery_key", sa.String(36)))  # fmt: skip
    for (row_id,) in connection.execute(sa.select(delivery.c.id)).all():
        connection.execute(
            delivery.update().where(delivery.c.id == row_id).values(delivery_key=str(uuid.uuid4()))
        )
    with op.batch_alter_table("delivery") as batch:
        batch.alter_column("delivery_key", existing_type=sa.String(36), nullable=False)
        batch.create_unique_constraint("uq_delivery_key", ["delivery_key"])
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("secret_encrypted", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.drop_column("secret_encrypted")
    with op.batch_alter_table("delivery") as batch:
        batch.drop_constraint("uq_delivery_key", type_="unique")
        batch.drop_column("claim_token")
        batch.drop_column("next_attempt_at")
        batch.drop_column("lease_until")
        batch.drop_column("delivery_key")
