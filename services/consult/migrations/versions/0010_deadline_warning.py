"""Cases remember when `case.deadline_soon` was announced, and the deadline job's index.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The predicate of the open-case indexes, as `services.consult.cases.models.is_open` writes it.
OPEN_CASES = "status IN ('submitted', 'accepted', 'in_progress', 'info_requested')"


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("deadline_warned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_cases_open_due",
        "cases",
        ["due_at"],
        postgresql_where=sa.text(OPEN_CASES),
        sqlite_where=sa.text(OPEN_CASES),
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_due", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("deadline_warned_at")
