"""The patient a room was booked for, who may take their own join token.

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


def upgrade() -> None:
    op.add_column("rooms", sa.Column("patient_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    op.drop_column("rooms", "patient_id")
