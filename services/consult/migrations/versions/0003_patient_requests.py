"""Patient requests on cases: whose request it is, its care episode, worsening signs and flag,
and the follow-up visit that answered it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMNs, not a batch copy: rebuilding `cases` on SQLite would recreate its indexes
# in another order, and SQLite breaks ties between equal indexes by that order.
def upgrade() -> None:
    op.add_column("cases", sa.Column("patient_id", sa.Uuid(), nullable=True))
    op.add_column("cases", sa.Column("episode_id", sa.Uuid(), nullable=True))
    op.add_column(
        "cases",
        sa.Column("worsening_signs", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column(
        "cases", sa.Column("flagged", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("cases", sa.Column("follow_up_appointment_id", sa.Uuid(), nullable=True))
    # A patient's own requests, newest first.
    op.create_index("ix_cases_patient", "cases", ["patient_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_patient", table_name="cases")
    for name in (
        "follow_up_appointment_id",
        "flagged",
        "worsening_signs",
        "episode_id",
        "patient_id",
    ):
        op.drop_column("cases", name)
