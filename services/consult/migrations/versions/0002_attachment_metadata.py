"""Attachment metadata on cases, as the files service described each file when attached.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A plain ADD COLUMN, not a batch copy: rebuilding `cases` on SQLite would recreate its
# indexes in another order, and SQLite breaks ties between equal indexes by that order.
def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("attachments", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.drop_column("cases", "attachments")
