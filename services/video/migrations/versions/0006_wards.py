"""ICU video monitoring: wards, the organisations that watch them, beds and their alarms.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _ward_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["ward_id"], ["wards.id"], name=op.f(f"fk_{table}_ward_id_wards"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "wards",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("recording_allowed", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wards")),
    )
    # The wards of an organisation.
    op.create_index(op.f("ix_wards_organization_id"), "wards", ["organization_id"])
    op.create_table(
        "beds",
        sa.Column("ward_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("patient_ref", sa.String(length=64), nullable=True),
        sa.Column("patient_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recording_consent", sa.Boolean(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("tablet", "rtsp", name="sourcekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rtsp_url", sa.String(length=500), nullable=True),
        sa.Column("device_secret_hash", sa.String(length=64), nullable=True),
        sa.Column("device_issued_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        _ward_key("beds"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beds")),
        sa.UniqueConstraint("ward_id", "label", name=op.f("uq_beds_ward_id")),
    )
    op.create_table(
        "ward_watchers",
        sa.Column("ward_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        _ward_key("ward_watchers"),
        sa.PrimaryKeyConstraint("ward_id", "organization_id", name=op.f("pk_ward_watchers")),
    )
    # The wards an organisation watches.
    op.create_index(op.f("ix_ward_watchers_organization_id"), "ward_watchers", ["organization_id"])
    op.create_table(
        "bed_alarms",
        sa.Column("ward_id", sa.Uuid(), nullable=False),
        sa.Column("bed_id", sa.Uuid(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_frame_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _ward_key("bed_alarms"),
        sa.ForeignKeyConstraint(
            ["bed_id"], ["beds.id"], name=op.f("fk_bed_alarms_bed_id_beds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed_alarms")),
    )
    # A ward's open alarms.
    op.create_index("ix_bed_alarms_ward_id_cleared_at", "bed_alarms", ["ward_id", "cleared_at"])


def downgrade() -> None:
    op.drop_index("ix_bed_alarms_ward_id_cleared_at", table_name="bed_alarms")
    op.drop_table("bed_alarms")
    op.drop_index(op.f("ix_ward_watchers_organization_id"), table_name="ward_watchers")
    op.drop_table("ward_watchers")
    op.drop_table("beds")
    op.drop_index(op.f("ix_wards_organization_id"), table_name="wards")
    op.drop_table("wards")
