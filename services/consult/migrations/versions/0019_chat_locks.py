"""The chats a bot has heard from (the row a chat's message is taken in under), the updates'
index the pruning job reads, and appeals opened by a chat filed by its binding.

Revision ID: 0019
Revises: 0018
Create Date: 2027-03-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("bot", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot", "chat_id", name=op.f("pk_chats")),
    )
    op.create_index("ix_chat_updates_received_at", "chat_updates", ["received_at"])
    # A chat's appeal named its messenger where the filer's role goes; the messenger is the
    # appeal's `reply_channel`, the filer the chat's binding. (A chat's row is made by its
    # next message: none is needed before.)
    op.execute(
        "UPDATE appeals SET created_by_role = 'chat_binding' WHERE created_by_role = 'telegram'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE appeals SET created_by_role = reply_channel WHERE created_by_role = 'chat_binding'"
    )
    op.drop_index("ix_chat_updates_received_at", table_name="chat_updates")
    op.drop_table("chats")
