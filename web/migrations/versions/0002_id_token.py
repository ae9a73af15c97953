"""Browser sessions keep the sign-in's ID token, the hint of a one-step sign-out.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("browser_sessions", sa.Column("id_token", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("browser_sessions", "id_token")
