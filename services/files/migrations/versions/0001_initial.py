"""Initial files schema: stored files, tus uploads, and the kernel's audit and idempotency.

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
    # Enums are stored as plain strings, so adding a value never needs ALTER TYPE.
    return sa.String(length=32)


def _ownership() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("object_key", sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    create_kernel_tables()
    op.create_table(
        "files",
        *_ownership(),
        sa.Column("media_type", sa.String(length=128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("dicom", sa.JSON(), nullable=True),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", _datetime(), nullable=True),
        sa.Column("deleted_by", sa.Uuid(), nullable=True),
        sa.Column("purge_after", _datetime(), nullable=True),
        sa.Column("purged_at", _datetime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("object_key", name=op.f("uq_files_object_key")),
    )
    op.create_index("ix_files_case_id", "files", ["case_id"])
    op.create_index(op.f("ix_files_organization_id"), "files", ["organization_id"])
    op.create_index(op.f("ix_files_purge_after"), "files", ["purge_after"])
    op.create_table(
        "uploads",
        *_ownership(),
        sa.Column("expected_sha256", sa.String(length=64), nullable=True),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("expires_at", _datetime(), nullable=False),
        sa.Column("multipart_id", sa.String(length=1024), nullable=True),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("tail_key", sa.String(length=64), nullable=True),
        sa.Column("tail_size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=128), nullable=True),
        sa.Column("lease_token", sa.Uuid(), nullable=True),
        sa.Column("lease_expires_at", _datetime(), nullable=True),
        sa.Column("file_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
        sa.UniqueConstraint("object_key", name=op.f("uq_uploads_object_key")),
    )
    op.create_index("ix_uploads_status_expires_at", "uploads", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("uploads")
    op.drop_table("files")
    drop_kernel_tables()
