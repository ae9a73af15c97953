"""Patients registered by staff, and the organisations that serve others.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization_services",
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("served_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "provider_id <> served_id", name=op.f("ck_organization_services_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organizations.id"],
            name=op.f("fk_organization_services_provider_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["served_id"],
            ["organizations.id"],
            name=op.f("fk_organization_services_served_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", "served_id", name=op.f("pk_organization_services")),
    )
    op.create_index(
        op.f("ix_organization_services_served_id"), "organization_services", ["served_id"]
    )
    op.create_table(
        "patients",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(32), nullable=False),
        sa.Column("policy_number", sa.String(16), nullable=True),
        sa.Column("name_key", sa.String(255), nullable=False),
        sa.Column("registered_by", sa.Uuid(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_patients_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"], ["users.id"], name=op.f("fk_patients_registered_by_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_patients")),
        sa.UniqueConstraint("policy_number", name=op.f("uq_patients_policy_number")),
    )
    op.create_index("ix_patients_birth_date_name_key", "patients", ["birth_date", "name_key"])


def downgrade() -> None:
    op.drop_index("ix_patients_birth_date_name_key", table_name="patients")
    op.drop_table("patients")
    op.drop_index(op.f("ix_organization_services_served_id"), table_name="organization_services")
    op.drop_table("organization_services")
