"""An appeal's resolution says what was done, by whom and with what result.

Revision ID: 0014
Revises: 0013
Create Date: 2027-03-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Appeals resolved before this have no resolution: their answer alone says what was done.
    op.create_table(
        "appeal_resolutions",
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("person_name", sa.String(length=255), nullable=False),
        sa.Column("person_position", sa.String(length=255), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("result_reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_resolutions_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("appeal_id", name=op.f("pk_appeal_resolutions")),
    )


def downgrade() -> None:
    op.drop_table("appeal_resolutions")
