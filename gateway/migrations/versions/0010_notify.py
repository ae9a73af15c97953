"""Messages to people: the outbox, delivery attempts and channel preferences.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

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
        sa.Column("undeliverable", sa.String(500), nullable=True),
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
    op.create_index("ix_notify_messages_created", "notify_messages", ["created_at", "id"])

    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        # Enums are stored as plain strings, so adding a value never needs ALTER TYPE.
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("provider_message_id", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resent_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["notify_messages.id"],
            name=op.f("fk_notify_deliveries_message_id_notify_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_deliveries")),
    )
    op.create_index(op.f("ix_notify_deliveries_message_id"), "notify_deliveries", ["message_id"])
    op.create_index("ix_notify_deliveries_due", "notify_deliveries", ["status", "next_attempt_at"])

    op.create_table(
        "notify_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notify_deliveries.id"],
            name=op.f("fk_notify_attempts_delivery_id_notify_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_attempts")),
    )
    op.create_index(op.f("ix_notify_attempts_delivery_id"), "notify_attempts", ["delivery_id"])

    op.create_table(
        "notify_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notify_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notify_preferences")),
    )


def downgrade() -> None:
    op.drop_table("notify_preferences")
    op.drop_index(op.f("ix_notify_attempts_delivery_id"), table_name="notify_attempts")
    op.drop_table("notify_attempts")
    op.drop_index("ix_notify_deliveries_due", table_name="notify_deliveries")
    op.drop_index(op.f("ix_notify_deliveries_message_id"), table_name="notify_deliveries")
    op.drop_table("notify_deliveries")
    op.drop_index("ix_notify_messages_created", table_name="notify_messages")
    op.drop_index(op.f("ix_notify_messages_recipient_id"), table_name="notify_messages")
    op.drop_table("notify_messages")
