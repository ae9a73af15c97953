"""Initial video schema: rooms, participants, and the kernel's audit and idempotency tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.migrations import create_kernel_tables, drop_kernel_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum() -> sa.String:
    return sa.String(length=32)  # enums are plain strings: a new value needs no ALTER TYPE


def upgrade() -> None:
    create_kernel_tables()
    op.create_table(
        "rooms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("host_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", _datetime(), nullable=False),
        sa.Column("opened_at", _datetime(), nullable=True),
        sa.Column("closed_at", _datetime(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_rooms_appointment_id")),
    )
    op.create_index(op.f("ix_rooms_status"), "rooms", ["status"])
    op.create_index(op.f("ix_rooms_case_id"), "rooms", ["case_id"])
    op.create_table(
        "participants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", _enum(), nullable=False),
        sa.Column("state", _enum(), nullable=False),
        sa.Column("consented", sa.Boolean(), nullable=False),
        sa.Column("audio_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_participants_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participants")),
        sa.UniqueConstraint("room_id", "identity", name=op.f("uq_participants_room_id")),
    )


def downgrade() -> None:
    op.drop_table("participants")
    op.drop_table("rooms")
    drop_kernel_tables()
