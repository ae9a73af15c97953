"""The patient's name and birth date kept with each episode and appointment at booking, as the
directory showed them: the specialist, whom the directory does not show another organisation's
patients, sees whom they see. Older rows keep nulls.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("episodes", "appointments")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("patient_name", sa.String(255), nullable=True))
        op.add_column(table, sa.Column("patient_birth_date", sa.Date(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE DROP COLUMN (SQLite 3.35+), not a batch copy, which would lose the
    # appointments' overlap trigger.
    for table in TABLES:
        op.drop_column(table, "patient_birth_date")
        op.drop_column(table, "patient_name")
