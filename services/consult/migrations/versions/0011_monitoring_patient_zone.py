"""Monitored patients may live in another time zone than the organisation watching them.

Revision ID: 0011
Revises: 0010
Create Date: 2027-02-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitoring_enrolments") as batch:
        batch.add_column(sa.Column("patient_timezone", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitoring_enrolments") as batch:
        batch.drop_column("patient_timezone")
