"""The statistics' roll-up holds several time zones' days side by side: the deployment's, and
each zone whose organisations' own figures are asked for.

The roll-up is derived from the cases and appeals, so its tables are made anew rather than
converted: the next run rolls every day up again (a year in a few short transactions).

Revision ID: 0017
Revises: 0016
Create Date: 2027-03-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(zoned: bool) -> None:
    """The three tables; `zoned`: each row names its zone, part of the days' and months' keys."""
    day_key = ("day", "timezone") if zoned else ("day",)
    month_key = ("month", "timezone") if zoned else ("month",)
    op.create_table(
        "stats_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*day_key, name=op.f("pk_stats_days")),
    )
    op.create_table(
        "stats_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*month_key, name=op.f("pk_stats_months")),
    )
    zone = [sa.Column("timezone", sa.String(length=64), nullable=False)] if zoned else []
    op.create_table(
        "stats_figures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("span", sa.String(length=32), nullable=False),
        *zone,
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("specialty", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("low_seconds", sa.Float(), nullable=True),
        sa.Column("high_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_figures")),
    )
    index = ["timezone", "day", "region"] if zoned else ["day", "region"]
    op.create_index("ix_stats_figures_day", "stats_figures", index)


def _drop() -> None:
    op.drop_table("stats_figures")
    op.drop_table("stats_months")
    op.drop_table("stats_days")


def upgrade() -> None:
    _drop()
    _create(zoned=True)


def downgrade() -> None:
    _drop()
    _create(zoned=False)
