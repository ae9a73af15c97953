"""Uploads no longer carry a case: only consult binds a file to a case, by pinning it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite drops a column by copying the table.
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("case_id")


def downgrade() -> None:
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("case_id", sa.Uuid(), nullable=True))
