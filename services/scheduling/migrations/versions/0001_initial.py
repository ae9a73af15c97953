"""Initial scheduling schema: schedules, exceptions, episodes, appointments, the reminder outbox,
and the kernel's audit and idempotency tables.

Appointments cannot overlap on one schedule: on PostgreSQL an exclusion constraint (btree_gist)
over the schedule and the buffered time range, on SQLite a trigger refusing the insert.

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

# As `services.scheduling.models` writes them; the statuses are those of FREEING_STATUSES.
HOLDS_TIME = "status NOT IN ('cancelled', 'entered_in_error')"
BUSY_RANGE = "tstzrange(busy_from, busy_until, '[)')"
SQLITE_OVERLAP_TRIGGER = """
CREATE TRIGGER tr_appointments_no_overlap BEFORE INSERT ON appointments
WHEN NEW.status NOT IN ('cancelled', 'entered_in_error')
BEGIN
    SELECT RAISE(ABORT, 'appointment overlaps another')
    WHERE EXISTS (
        SELECT 1 FROM appointments
        WHERE schedule_id = NEW.schedule_id
          AND status NOT IN ('cancelled', 'entered_in_error')
          AND busy_from < NEW.busy_until
          AND busy_until > NEW.busy_from
    );
END
"""


def _datetime() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum() -> sa.String:
    # Enums are stored as plain strings, so adding a value never needs ALTER TYPE.
    return sa.String(length=32)


def upgrade() -> None:
    create_kernel_tables()
    op.create_table(
        "schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("specialty", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekly_hours", sa.JSON(), nullable=False),
        sa.Column("visit_types", sa.JSON(), nullable=False),
        sa.Column("slot_step_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("practitioner_id", name=op.f("uq_schedules_practitioner_id")),
    )
    op.create_index(
        "ix_schedules_specialty_organization", "schedules", ["specialty", "organization_id"]
    )
    op.create_table(
        "schedule_exceptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("starts_at", _datetime(), nullable=False),
        sa.Column("ends_at", _datetime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_exceptions_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_exceptions")),
    )
    op.create_index(
        "ix_schedule_exceptions_schedule_starts",
        "schedule_exceptions",
        ["schedule_id", "starts_at"],
    )
    op.create_table(
        "episodes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("requesting_organization_id", sa.Uuid(), nullable=False),
        sa.Column("patient_timezone", sa.String(length=64), nullable=False),
        sa.Column("specialty", sa.String(length=64), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("consult_case_id", sa.Uuid(), nullable=True),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("closed_at", _datetime(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_episodes")),
    )
    for column in ("patient_id", "requesting_organization_id", "practitioner_id"):
        op.create_index(op.f(f"ix_episodes_{column}"), "episodes", [column])
    op.create_table(
        "appointments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("specialty", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("requesting_organization_id", sa.Uuid(), nullable=False),
        sa.Column("patient_timezone", sa.String(length=64), nullable=False),
        sa.Column("episode_id", sa.Uuid(), nullable=True),
        sa.Column("consult_case_id", sa.Uuid(), nullable=True),
        sa.Column("series_id", sa.Uuid(), nullable=True),
        sa.Column("visit_type", _enum(), nullable=False),
        sa.Column("status", _enum(), nullable=False),
        sa.Column("starts_at", _datetime(), nullable=False),
        sa.Column("ends_at", _datetime(), nullable=False),
        sa.Column("busy_from", _datetime(), nullable=False),
        sa.Column("busy_until", _datetime(), nullable=False),
        sa.Column("hold_expires_at", _datetime(), nullable=True),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("replaced_by_id", sa.Uuid(), nullable=True),
        sa.Column("booked_by", sa.Uuid(), nullable=False),
        sa.Column("status_changed_at", _datetime(), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("room_state", _enum(), nullable=True),
        sa.Column("room_id", sa.String(length=128), nullable=True),
        sa.Column("room_join_url", sa.String(length=1024), nullable=True),
        sa.Column("room_updated_at", _datetime(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("updated_at", _datetime(), nullable=False),
        sa.CheckConstraint("busy_from < busy_until", name=op.f("ck_appointments_busy_span")),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["schedules.id"], name=op.f("fk_appointments_schedule_id_schedules")
        ),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.id"], name=op.f("fk_appointments_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["appointments.id"],
            name=op.f("fk_appointments_replaces_id_appointments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    indexes = {
        "ix_appointments_schedule_busy": ["schedule_id", "busy_from", "busy_until"],
        "ix_appointments_practitioner_starts": ["practitioner_id", "starts_at"],
        "ix_appointments_organization_starts": ["organization_id", "starts_at"],
        "ix_appointments_requesting_starts": ["requesting_organization_id", "starts_at"],
        "ix_appointments_patient_starts": ["patient_id", "starts_at"],
        "ix_appointments_starts": ["starts_at"],
        "ix_appointments_status_hold": ["status", "hold_expires_at"],
        "ix_appointments_episode_id": ["episode_id"],
    }
    for name, columns in indexes.items():
        op.create_index(name, "appointments", columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_schedule_busy "
            f"EXCLUDE USING gist (schedule_id WITH =, {BUSY_RANGE} WITH &&) "
            f"WHERE ({HOLDS_TIME})"
        )
    else:
        op.execute(SQLITE_OVERLAP_TRIGGER)
    op.create_table(
        "reminders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", _enum(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", _datetime(), nullable=False),
        sa.Column("state", _enum(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _datetime(), nullable=False),
        sa.Column("lease_until", _datetime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", _datetime(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_reminders_appointment_id_appointments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("appointment_id", "kind", name="uq_reminders_appointment_kind"),
    )
    op.create_index("ix_reminders_state_next_attempt", "reminders", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("reminders")
    op.drop_table("appointments")  # its constraint or trigger goes with it
    op.drop_table("episodes")
    op.drop_table("schedule_exceptions")
    op.drop_table("schedules")
    drop_kernel_tables()
