"""Home-visit calls, and the catchment saying which polyclinic serves an address.

Revision ID: 0015
Revises: 0014
Create Date: 2027-03-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_visit_catchment",
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("territory_code", sa.String(length=32), nullable=False),
        sa.Column("settlement", sa.String(length=128), nullable=False),
        sa.Column("street", sa.String(length=128), nullable=False),
        sa.Column("settlement_key", sa.String(length=128), nullable=False),
        sa.Column("street_key", sa.String(length=128), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_visit_catchment")),
        sa.UniqueConstraint(
            "region",
            "territory_code",
            "settlement_key",
            "street_key",
            name="uq_home_visit_catchment_address",
        ),
    )
    op.create_table(
        "home_visits",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("territory_code", sa.String(length=32), nullable=False),
        sa.Column("settlement", sa.String(length=128), nullable=False),
        sa.Column("street", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("caller_name", sa.String(length=255), nullable=False),
        sa.Column("patient_name", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("appeal_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("visit_day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("window_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_by_role", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("assignee_name", sa.String(length=255), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=32), nullable=True),
        sa.Column("cancel_note", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_visits")),
    )
    # A polyclinic's list for a day, and its figures over a range of days.
    op.create_index(
        "ix_home_visits_list", "home_visits", ["organization_id", "visit_day", "status"]
    )
    op.create_index("ix_home_visits_assignee", "home_visits", ["assignee_id", "visit_day"])


def downgrade() -> None:
    op.drop_index("ix_home_visits_assignee", table_name="home_visits")
    op.drop_index("ix_home_visits_list", table_name="home_visits")
    op.drop_table("home_visits")
    op.drop_table("home_visit_catchment")
