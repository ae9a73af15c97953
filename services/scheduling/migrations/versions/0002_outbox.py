"""The transactional outbox: events written with the changes they announce, for webhooks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from services.common.migrations import create_outbox_table, drop_outbox_table

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_outbox_table()


def downgrade() -> None:
    drop_outbox_table()
