"""The members of staff a room's host invited (a case's requesting medic, a consilium's
members), who may see the room and take their own join tokens.

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
    op.create_table(
        "room_invitees",
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_room_invitees_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_id", "user_id", name=op.f("pk_room_invitees")),
    )
    # The rooms a person is invited to: `GET /api/video/rooms` lists them.
    op.create_index(op.f("ix_room_invitees_user_id"), "room_invitees", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_room_invitees_user_id"), table_name="room_invitees")
    op.drop_table("room_invitees")
