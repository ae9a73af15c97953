"""Identity hardening: scopes cleaned, service clients, refresh-token families, revocations.

Scopes stored before the allow-list are split on whitespace (`"consult:read events:relay"`
was one string that a token's space-separated scope turned into two) and kept only if allowed;
`events:relay` goes. A client already holding `video:rooms` was given it by an administrator
for the scheduling service, so it becomes a service client and keeps it: review them with
`GET /api/directory/api-clients`. Each existing refresh token starts a family of its own.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The allow-list as of this revision (gateway/scopes.py may grow; this must not move).
CLIENT_SCOPES = {"consult:read", "consult:write", "files:read", "files:write", "webhooks:manage"}
SERVICE_SCOPE = "video:rooms"


def _clean_scopes() -> None:
    clients = sa.table(
        "api_clients",
        sa.column("id", sa.Uuid()),
        sa.column("scopes", sa.JSON()),
        sa.column("is_service", sa.Boolean()),
    )
    bind = op.get_bind()
    for client_id, scopes in bind.execute(sa.select(clients.c.id, clients.c.scopes)).all():
        tokens = {token for scope in scopes or [] for token in str(scope).split()}
        is_service = SERVICE_SCOPE in tokens
        kept = sorted(tokens & (CLIENT_SCOPES | ({SERVICE_SCOPE} if is_service else set())))
        bind.execute(
            clients.update()
            .where(clients.c.id == client_id)
            .values(scopes=kept, is_service=is_service)
        )


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(
            sa.Column("is_service", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("api_clients") as batch:
        batch.alter_column("is_service", server_default=None)
    _clean_scopes()

    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("family_id", sa.Uuid(), nullable=True))
    op.execute("UPDATE refresh_tokens SET family_id = id")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.alter_column("family_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_index(op.f("ix_refresh_tokens_family_id"), ["family_id"])

    op.create_table(
        "revocations",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocations")),
    )
    op.create_index(op.f("ix_revocations_revoked_at"), "revocations", ["revoked_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_revocations_revoked_at"), table_name="revocations")
    op.drop_table("revocations")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_index(op.f("ix_refresh_tokens_family_id"))
        batch.drop_column("family_id")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("is_service")
