"""The member of staff a room's host invited (a case's requesting medic), who may take their own
join token.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rooms", sa.Column("invitee_id", sa.Uuid(), nullable=True))
    # The rooms a person is invited to: `GET /api/video/rooms` lists them.
    op.create_index(op.f("ix_rooms_invitee_id"), "rooms", ["invitee_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rooms_invitee_id"), table_name="rooms")
    op.drop_column("rooms", "invitee_id")
