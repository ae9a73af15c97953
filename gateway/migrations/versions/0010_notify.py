"""Messages to people: the outbox, delivery attempts and channel preferences.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notify_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_notify_messages_recipient_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_notify_messages_key")),
    )
    op.create_index(op.f("ix_notify_messages_recipient_id"), "notify_messages", ["recipient_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notify_messages_recipient_id"), table_name="notify_messages")
    op.drop_table("notify_messages")
