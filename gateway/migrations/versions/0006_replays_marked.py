"""Replays are marked as such (`is_replay`), and the one-original-per-event index is keyed on
that mark: keyed on `replay_of IS NULL`, deleting an original (its subscription deleted, or
the log pruned) turned its replays into originals, and two of them broke the index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DELIVERIES = "webhook_deliveries"
INDEX = "uq_webhook_deliveries_subscription_event"


def upgrade() -> None:
    op.add_column(
        DELIVERIES,
        sa.Column("is_replay", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    deliveries = sa.table(
        DELIVERIES, sa.column("is_replay", sa.Boolean), sa.column("replay_of", sa.Uuid)
    )
    op.execute(
        deliveries.update().where(deliveries.c.replay_of.is_not(None)).values(is_replay=True)
    )
    op.drop_index(INDEX, table_name=DELIVERIES)
    op.create_index(
        INDEX,
        DELIVERIES,
        ["subscription_id", "event_id"],
        unique=True,
        sqlite_where=sa.text("NOT is_replay"),
        postgresql_where=sa.text("NOT is_replay"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name=DELIVERIES)
    op.create_index(
        INDEX,
        DELIVERIES,
        ["subscription_id", "event_id"],
        unique=True,
        sqlite_where=sa.text("replay_of IS NULL"),
        postgresql_where=sa.text("replay_of IS NULL"),
    )
    with op.batch_alter_table(DELIVERIES) as batch:
        batch.drop_column("is_replay")
