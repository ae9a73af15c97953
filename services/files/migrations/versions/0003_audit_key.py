"""Keyed audit chains, and on PostgreSQL only the owner may change or delete audit records.

Each chain's head gets its keyed epoch (services/common/migrations.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from services.common.migrations import key_audit_chains, unkey_audit_chains

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    key_audit_chains()


def downgrade() -> None:
    unkey_audit_chains()
