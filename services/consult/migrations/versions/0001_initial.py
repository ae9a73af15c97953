"""Initial consult schema: cases, messages, conclusions, and the kernel's audit and idempotency.

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


# The predicate of the open-case indexes, as `services.consult.models.is_open` writes it.
OPEN_CASES = "status IN ('submitted', 'accepted', 'in_progress', 'info_requested')"


def _datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum() -> sa.String:
    # Enums are stored as plain strings, so adding a value never needs ALTER TYPE.
    return sa.String(length=32)


def upgrade() -> None:
    create_kernel_tables()
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("resume_status", _enum(), nullable=True),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("requesting_organization_id", sa.Uuid(), nullable=False),
        sa.Column("target_organization_id", sa.Uuid(), nullable=False),
        sa.Column("specialty", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("patient_reference", sa.String(length=128), nullable=False),
        sa.Column("patient_full_name", sa.String(length=255), nullable=False),
        sa.Column("patient_birth_date", sa.Date(), nullable=False),
        sa.Column("patient_sex", _enum(), nullable=False),
        sa.Column("patient_insurance_policy", sa.String(length=32), nullable=False),
        sa.Column("urgency", _enum(), nullable=False),
        sa.Column("mode", _enum(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("attachment_ids", sa.JSON(), nullable=False),
        sa.Column("due_at", _datetime(), nullable=False),
        sa.Column("submitted_at", _datetime(), nullable=True),
        sa.Column("accepted_at", _datetime(), nullable=True),
        sa.Column("concluded_at", _datetime(), nullable=True),
        sa.Column("closed_at", _datetime(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    # The queues: a specialist's by organisation and specialty, a medic's by organisation,
    # a coordinator's by region; each ordered by (due_at, id) for keyset pagination.
    queues = {
        "target": ["target_organization_id", "specialty", "due_at", "id"],
        "requester": ["requesting_organization_id", "due_at", "id"],
        "region": ["region", "due_at", "id"],
    }
    for name, columns in queues.items():
        op.create_index(f"ix_cases_{name}_queue", "cases", columns)
    # A specialist's queue filtered to one status, a rare closed one especially.
    op.create_index(
        "ix_cases_target_status_due",
        "cases",
        ["target_organization_id", "specialty", "status", "due_at"],
    )
    # Their open cases alone (partial indexes), for open-status and overdue pages and counts.
    # Created after the full ones on purpose: SQLite, without statistics, breaks the cost tie
    # between two indexes on the same columns in favour of the one created last.
    for name, columns in queues.items():
        op.create_index(
            f"ix_cases_{name}_open",
            "cases",
            columns,
            postgresql_where=sa.text(OPEN_CASES),
            sqlite_where=sa.text(OPEN_CASES),
        )
    op.create_table(
        "case_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_role", sa.String(length=32), nullable=False),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_messages_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_messages")),
    )
    op.create_index(op.f("ix_case_messages_case_id"), "case_messages", ["case_id"])
    op.create_table(
        "conclusions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("issued_at", _datetime(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("amends_version", sa.Integer(), nullable=True),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_conclusions_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conclusions")),
        sa.UniqueConstraint("case_id", "version", name="uq_conclusions_case_version"),
    )


def downgrade() -> None:
    op.drop_table("conclusions")
    op.drop_table("case_messages")
    op.drop_table("cases")
    drop_kernel_tables()
