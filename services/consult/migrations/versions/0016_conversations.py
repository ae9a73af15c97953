"""Conversations: an appeal's thread and its deliveries to chats, the organisations' redirect
answers per language, and the chat channels' bindings, conversations and updates.

Revision ID: 0016
Revises: 0015
Create Date: 2027-03-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Appeals filed before this were answered in English, the only language there was.
    op.add_column(
        "appeals",
        sa.Column("language", sa.String(length=32), nullable=False, server_default="en"),
    )
    op.add_column("appeals", sa.Column("reply_channel", sa.String(length=32), nullable=True))
    op.create_table(
        "appeal_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(length=255), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_messages_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_messages")),
    )  # fmt: skip
    op.create_index("ix_appeal_messages_appeal", "appeal_messages", ["appeal_id", "id"])
    op.create_table(
        "appeal_message_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"],
            name=op.f("fk_appeal_message_deliveries_appeal_id_appeals"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["appeal_messages.id"],
            name=op.f("fk_appeal_message_deliveries_message_id_appeal_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_message_deliveries")),
        sa.UniqueConstraint("message_id", name="uq_appeal_message_deliveries_message_id"),
    )  # fmt: skip
    op.create_index(
        "ix_appeal_message_deliveries_due",
        "appeal_message_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        "ix_appeal_message_deliveries_appeal", "appeal_message_deliveries", ["appeal_id", "status"]
    )
    op.create_table(
        "appeal_redirect_answers",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "organization_id", "topic", "language", name=op.f("pk_appeal_redirect_answers")
        ),
    )
    op.create_table(
        "chat_bindings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("bot", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("territory_code", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_bindings")),
        sa.UniqueConstraint("bot", "chat_id", name="uq_chat_bindings_bot_chat_id"),
    )
    op.create_table(
        "chat_conversations",
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("bot", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_chat_conversations_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("appeal_id", name=op.f("pk_chat_conversations")),
    )
    op.create_index(
        "ix_chat_conversations_chat", "chat_conversations", ["bot", "chat_id", "started_at"]
    )
    op.create_table(
        "chat_updates",
        sa.Column("bot", sa.String(length=64), nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appeal_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_chat_updates_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("bot", "update_id", name=op.f("pk_chat_updates")),
    )


def downgrade() -> None:
    op.drop_table("chat_updates")
    op.drop_index("ix_chat_conversations_chat", table_name="chat_conversations")
    op.drop_table("chat_conversations")
    op.drop_table("chat_bindings")
    op.drop_table("appeal_redirect_answers")
    op.drop_index("ix_appeal_message_deliveries_appeal", table_name="appeal_message_deliveries")
    op.drop_index("ix_appeal_message_deliveries_due", table_name="appeal_message_deliveries")
    op.drop_table("appeal_message_deliveries")
    op.drop_index("ix_appeal_messages_appeal", table_name="appeal_messages")
    op.drop_table("appeal_messages")
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("reply_channel")
        batch.drop_column("language")
