"""Idempotency keys stored before responses were kept without their secrets: the ones that
hold an API client's secret, a webhook signing secret, or a plain SHA-256 of a body with a
password are deleted (services/common/idempotency.py keeps neither any more).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITH_SECRETS = (
    "POST /api/directory/api-clients",
    "POST /api/webhooks/subscriptions",
    "POST /api/directory/users",
)


def upgrade() -> None:
    keys = sa.table("idempotency_keys", sa.column("endpoint", sa.String))
    op.execute(keys.delete().where(keys.c.endpoint.in_(WITH_SECRETS)))


def downgrade() -> None:
    """What was deleted is not restored: it should not have been kept."""
