"""A conclusion's signature names its form: the ones signed before are form 1.

Revision ID: 0018
Revises: 0017
Create Date: 2027-03-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every conclusion stored so far was signed over form 1's sorted-keys JSON.
    op.add_column(
        "conclusions",
        sa.Column("signature_form", sa.Integer(), nullable=False, server_default="1"),
    )


def downgrade() -> None:
    op.drop_column("conclusions", "signature_form")
