"""Patient appeals: the territory map, appeals and their history, callback tasks and attempts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum() -> sa.String:
    # Enums are stored as plain strings, so adding a value never needs ALTER TYPE.
    return sa.String(length=32)


def _timestamps() -> list[sa.Column[datetime]]:
    return [
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "appeal_territories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_territories")),
        sa.UniqueConstraint("region", "code", name="uq_appeal_territories_region_code"),
    )
    op.create_table(
        "appeals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("channel", _enum(), nullable=False),
        sa.Column("category", _enum(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("redirect_topic", _enum(), nullable=True),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("contact_name", sa.String(length=255), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=True),
        sa.Column("contact_email", sa.String(length=255), nullable=True),
        sa.Column("territory_code", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_by_role", sa.String(length=32), nullable=False),
        sa.Column("received_at", _datetime(), nullable=False),
        sa.Column("clock_starts_at", _datetime(), nullable=True),
        sa.Column("due_at", _datetime(), nullable=False),
        sa.Column("escalated_at", _datetime(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("first_contact_resolution", sa.Boolean(), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("resolved_at", _datetime(), nullable=True),
        sa.Column("closed_at", _datetime(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    # The queues: a region's, an organisation's, by (due_at, id) for keyset pagination; a
    # patient's and an API client's own, newest first; open ones by deadline for escalation.
    op.create_index("ix_appeals_region_queue", "appeals", ["region", "due_at", "id"])
    op.create_index("ix_appeals_organization_queue", "appeals", ["organization_id", "due_at", "id"])
    op.create_index("ix_appeals_patient", "appeals", ["patient_id", "created_at"])
    op.create_index("ix_appeals_created_by", "appeals", ["created_by", "created_at"])
    op.create_index("ix_appeals_status_due", "appeals", ["status", "due_at"])
    op.create_table(
        "appeal_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("at", _datetime(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(length=32), nullable=True),
        sa.Column("from_organization_id", sa.Uuid(), nullable=True),
        sa.Column("to_organization_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_events_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_events")),
    )
    op.create_index("ix_appeal_events_appeal", "appeal_events", ["appeal_id", "id"])
    op.create_table(
        "appeal_callbacks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("reason", _enum(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("due_at", _datetime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", _enum(), nullable=True),
        sa.Column("closed_at", _datetime(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_callbacks_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_callbacks")),
    )
    # An organisation's due callbacks by time; an appeal's callbacks.
    op.create_index(
        "ix_appeal_callbacks_queue",
        "appeal_callbacks",
        ["organization_id", "status", "due_at", "id"],
    )
    op.create_index("ix_appeal_callbacks_appeal", "appeal_callbacks", ["appeal_id"])
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("callback_id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", _enum(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["appeal_callbacks.id"],
            name=op.f("fk_callback_attempts_callback_id_appeal_callbacks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
    )
    op.create_index("ix_callback_attempts_callback", "callback_attempts", ["callback_id", "at"])


def downgrade() -> None:
    op.drop_table("callback_attempts")
    op.drop_table("appeal_callbacks")
    op.drop_table("appeal_events")
    op.drop_table("appeals")
    op.drop_table("appeal_territories")
