"""PBX calls of the hotlines and the events reported of each; a dropped call's callback may
stand without an appeal until the call is linked to one.

Revision ID: 0013
Revises: 0012
Create Date: 2027-03-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "appeal_calls",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("line", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=True),
        sa.Column("extension", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("started_at", _datetime(), nullable=False),
        sa.Column("answered_at", _datetime(), nullable=True),
        sa.Column("ended_at", _datetime(), nullable=True),
        sa.Column("appeal_id", sa.Uuid(), nullable=True),
        sa.Column("linked_by", sa.Uuid(), nullable=True),
        sa.Column("recording_file_id", sa.Uuid(), nullable=True),
        sa.Column("recording_media_type", sa.String(length=128), nullable=True),
        sa.Column("recording_size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_calls_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_calls")),
        sa.UniqueConstraint("source_id", "external_id", name="uq_appeal_calls_source_external"),
    )
    # The new-appeal form's recent calls of a hotline; an appeal's calls.
    op.create_index(
        "ix_appeal_calls_organization", "appeal_calls", ["organization_id", "started_at"]
    )
    op.create_index("ix_appeal_calls_appeal", "appeal_calls", ["appeal_id", "started_at"])
    op.create_table(
        "appeal_call_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", _datetime(), nullable=False),
        sa.Column("received_at", _datetime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["appeal_calls.id"],
            name=op.f("fk_appeal_call_events_call_id_appeal_calls"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_call_events")),
        sa.UniqueConstraint("call_id", "kind", name="uq_appeal_call_events_call_kind"),
    )
    with op.batch_alter_table("appeal_callbacks") as batch:
        batch.alter_column("appeal_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(sa.Column("call_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_appeal_callbacks_call_id_appeal_calls"), "appeal_calls", ["call_id"], ["id"]
        )
        batch.create_unique_constraint("uq_appeal_callbacks_call_id", ["call_id"])


def downgrade() -> None:
    op.execute("DELETE FROM callback_attempts WHERE callback_id IN "
               "(SELECT id FROM appeal_callbacks WHERE appeal_id IS NULL)")  # fmt: skip
    op.execute("DELETE FROM appeal_callbacks WHERE appeal_id IS NULL")
    with op.batch_alter_table("appeal_callbacks") as batch:
        batch.drop_constraint("uq_appeal_callbacks_call_id", type_="unique")
        batch.drop_constraint(op.f("fk_appeal_callbacks_call_id_appeal_calls"), type_="foreignkey")
        batch.drop_column("call_id")
        batch.alter_column("appeal_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_table("appeal_call_events")
    op.drop_table("appeal_calls")
