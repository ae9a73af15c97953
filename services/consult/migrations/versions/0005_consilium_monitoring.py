"""Consilia (invitations, signed opinions, the chair's protocol) and the monitoring of at-risk
patients (enrolments, check-ins, urgent tasks).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The predicate of the one-active-enrolment index, as `monitoring_models` writes it.
ACTIVE_ENROLMENT = "status = 'active'"


def _datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum() -> sa.String:
    # Enums are stored as plain strings, so adding a value never needs ALTER TYPE.
    return sa.String(length=32)


def _id(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _foreign_key(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _signed() -> list[sa.Column[Any]]:
    """The columns of a document signed with the conclusion key."""
    return [
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("issued_at", _datetime(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
    ]


def _create_consilia() -> None:
    op.create_table(
        "consilia",
        *_id("consilia"),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("chair_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("convened_at", _datetime(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=True),
        sa.Column("room_starts_at", _datetime(), nullable=True),
        _foreign_key("consilia", "case_id", "cases"),
        sa.UniqueConstraint("case_id", name=op.f("uq_consilia_case_id")),
    )
    op.create_table(
        "consilium_invitations",
        *_id("consilium_invitations"),
        sa.Column("consilium_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("invitee_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("specialty", sa.String(length=64), nullable=True),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("invited_at", _datetime(), nullable=False),
        sa.Column("answered_at", _datetime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _foreign_key("consilium_invitations", "consilium_id", "consilia"),
        _foreign_key("consilium_invitations", "case_id", "cases"),
    )
    invitations = "consilium_invitations"
    op.create_index(op.f("ix_consilium_invitations_consilium_id"), invitations, ["consilium_id"])
    op.create_index(op.f("ix_consilium_invitations_case_id"), invitations, ["case_id"])
    # A specialist's invitations: addressed to them, or to their organisation's specialty.
    op.create_index("ix_consilium_invitations_invitee", invitations, ["invitee_id", "status"])
    op.create_index(
        "ix_consilium_invitations_pool", invitations, ["organization_id", "specialty", "status"]
    )
    op.create_table(
        "consilium_opinions",
        *_id("consilium_opinions"),
        *_signed(),
        sa.Column("consilium_id", sa.Uuid(), nullable=False),
        sa.Column("invitation_id", sa.Uuid(), nullable=False),
        sa.Column("specialty", sa.String(length=64), nullable=False),
        _foreign_key("consilium_opinions", "consilium_id", "consilia"),
        _foreign_key("consilium_opinions", "invitation_id", "consilium_invitations"),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_consilium_opinions_invitation_id")),
    )
    op.create_index(
        op.f("ix_consilium_opinions_consilium_id"), "consilium_opinions", ["consilium_id"]
    )
    op.create_table(
        "consilium_protocols",
        *_id("consilium_protocols"),
        *_signed(),
        sa.Column("consilium_id", sa.Uuid(), nullable=False),
        _foreign_key("consilium_protocols", "consilium_id", "consilia"),
        sa.UniqueConstraint("consilium_id", name=op.f("uq_consilium_protocols_consilium_id")),
    )


def _create_monitoring() -> None:
    enrolments = "monitoring_enrolments"
    op.create_table(
        enrolments,
        *_id(enrolments),
        sa.Column("programme", sa.String(length=64), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("patient_reference", sa.String(length=128), nullable=False),
        sa.Column("patient_full_name", sa.String(length=255), nullable=False),
        sa.Column("patient_birth_date", sa.Date(), nullable=False),
        sa.Column("patient_sex", _enum(), nullable=False),
        sa.Column("patient_insurance_policy", sa.String(length=32), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("indication", sa.Text(), nullable=False),
        sa.Column("interval_hours", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=True),
        sa.Column("enrolled_by", sa.Uuid(), nullable=False),
        sa.Column("enrolled_at", _datetime(), nullable=False),
        sa.Column("next_due_at", _datetime(), nullable=False),
        sa.Column("last_check_in_at", _datetime(), nullable=True),
        sa.Column("discharged_at", _datetime(), nullable=True),
        sa.Column("discharged_by", sa.Uuid(), nullable=True),
        sa.Column("discharge_reason", _enum(), nullable=True),
        sa.Column("discharge_note", sa.Text(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
    )
    # The day's due check-ins of an organisation, by when they are due.
    op.create_index(
        "ix_monitoring_enrolments_due", enrolments, ["organization_id", "status", "next_due_at"]
    )
    op.create_index("ix_monitoring_enrolments_patient", enrolments, ["patient_id", "enrolled_at"])
    # One active enrolment of a patient per programme and organisation.
    op.create_index(
        "uq_monitoring_enrolments_active",
        enrolments,
        ["organization_id", "programme", "patient_reference"],
        unique=True,
        postgresql_where=sa.text(ACTIVE_ENROLMENT),
        sqlite_where=sa.text(ACTIVE_ENROLMENT),
    )
    op.create_table(
        "monitoring_check_ins",
        *_id("monitoring_check_ins"),
        sa.Column("enrolment_id", sa.Uuid(), nullable=False),
        sa.Column("checked_at", _datetime(), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recorder_role", sa.String(length=32), nullable=False),
        sa.Column("vital_signs", sa.JSON(), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("wellbeing", _enum(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("escalation", _enum(), nullable=True),
        sa.Column("fired_rules", sa.JSON(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        _foreign_key("monitoring_check_ins", "enrolment_id", enrolments),
    )
    op.create_index(
        "ix_monitoring_check_ins_enrolment", "monitoring_check_ins", ["enrolment_id", "checked_at"]
    )
    op.create_table(
        "monitoring_tasks",
        *_id("monitoring_tasks"),
        sa.Column("enrolment_id", sa.Uuid(), nullable=False),
        sa.Column("check_in_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("urgency", _enum(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("completed_at", _datetime(), nullable=True),
        sa.Column("completed_by", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        _foreign_key("monitoring_tasks", "enrolment_id", enrolments),
        _foreign_key("monitoring_tasks", "check_in_id", "monitoring_check_ins"),
    )
    op.create_index(
        "ix_monitoring_tasks_queue", "monitoring_tasks", ["organization_id", "status", "created_at"]
    )
    op.create_index("ix_monitoring_tasks_enrolment", "monitoring_tasks", ["enrolment_id", "status"])


def upgrade() -> None:
    _create_consilia()
    _create_monitoring()


def downgrade() -> None:
    for table in (
        "monitoring_tasks",
        "monitoring_check_ins",
        "monitoring_enrolments",
        "consilium_protocols",
        "consilium_opinions",
        "consilium_invitations",
        "consilia",
    ):
        op.drop_table(table)
