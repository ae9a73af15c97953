"""Persistence of the scheduling service: schedules, exceptions, episodes, appointments, reminders.

Free slots are never stored: they are computed from schedules, exceptions and appointments.
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    column,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, new_metadata, string_enum
from services.common.outbox import Outbox
from services.common.tables import define_kernel_tables
from services.scheduling.enums import (
    FREEING_STATUSES,
    AppointmentStatus,
    EpisodeStatus,
    ExceptionKind,
    ReminderKind,
    ReminderState,
    RoomState,
    ScheduleKind,
    VisitType,
)


class Base(DeclarativeBase):
    metadata = new_metadata()


KERNEL_TABLES = define_kernel_tables(Base.metadata)
OUTBOX = Outbox(Base.metadata, "scheduling")

# `status NOT IN ('cancelled', 'entered_in_error')`: the appointments that hold their time.
HOLDS_TIME = "status NOT IN ({})".format(
    ", ".join(f"'{status.value}'" for status in FREEING_STATUSES)
)
# The time an appointment keeps from others: its visit widened by the visit type's buffers.
BUSY_RANGE = "tstzrange(busy_from, busy_until, '[)')"


class Schedule(IdMixin, TimestampMixin, Base):
    """When a practitioner (or a room) can be booked, in its organisation's time zone."""

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_specialty_organization", "specialty", "organization_id"),)

    kind: Mapped[ScheduleKind] = mapped_column(string_enum(ScheduleKind))
    # One schedule per practitioner: their time is one resource, whatever they are booked for.
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    specialty: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # [{"weekday": 0, "start": "09:00", "end": "13:00"}, ...] in the schedule's local time.
    weekly_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{"type": "in_person", "duration_minutes": 30, "buffer_before_minutes": 0, ...}, ...]
    visit_types: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    slot_step_minutes: Mapped[int] = mapped_column(Integer)
    min_notice_minutes: Mapped[int] = mapped_column(Integer)
    horizon_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)


class ScheduleException(IdMixin, Base):
    """Leave, holidays (no slots) or one-off extra hours, as UTC instants."""

    __tablename__ = "schedule_exceptions"
    __table_args__ = (Index("ix_schedule_exceptions_schedule_starts", "schedule_id", "starts_at"),)

    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    kind: Mapped[ExceptionKind] = mapped_column(string_enum(ExceptionKind))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Episode(IdMixin, TimestampMixin, Base):
    """A chain of visits of one patient with one specialist: in person first, remote after."""

    __tablename__ = "episodes"

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # The patient as the directory showed them to whoever opened the episode; every visit
    # booked in it takes them on (`Appointment.patient_name`). Null on older episodes.
    patient_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    patient_birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    requesting_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    patient_timezone: Mapped[str] = mapped_column(String(64))
    specialty: Mapped[str] = mapped_column(String(64))
    # Set by the episode's first booking when only a specialty was given.
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True, nullable=True)
    consult_case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    status: Mapped[EpisodeStatus] = mapped_column(string_enum(EpisodeStatus))
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Appointment(IdMixin, TimestampMixin, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        # Conflict-free by construction on PostgreSQL: no two appointments that hold their
        # time may overlap on one schedule (SQLite: a trigger, created by the migration).
        ExcludeConstraint(
            (column("schedule_id"), "="),
            (text(BUSY_RANGE), "&&"),
            name="ex_appointments_schedule_busy",
            using="gist",
            where=text(HOLDS_TIME),
        ).ddl_if(dialect="postgresql"),
        CheckConstraint("busy_from < busy_until", name="busy_span"),
        Index("ix_appointments_schedule_busy", "schedule_id", "busy_from", "busy_until"),
        Index("ix_appointments_practitioner_starts", "practitioner_id", "starts_at"),
        Index("ix_appointments_organization_starts", "organization_id", "starts_at"),
        Index("ix_appointments_requesting_starts", "requesting_organization_id", "starts_at"),
        Index("ix_appointments_patient_starts", "patient_id", "starts_at"),
        Index("ix_appointments_starts", "starts_at"),
        Index("ix_appointments_status_hold", "status", "hold_expires_at"),
    )

    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id"))
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the host: where the visit is
    specialty: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))  # the schedule's, at booking
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    # Whom the practitioner sees, as the directory named the patient at booking: it does not
    # show patients to a specialist of another organisation. Null on older rows (and the
    # birth date where the patient has no registration record).
    patient_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    patient_birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Whose patient: the organisation the visit was booked for.
    requesting_organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    patient_timezone: Mapped[str] = mapped_column(String(64))
    episode_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("episodes.id"), index=True, nullable=True
    )
    consult_case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    series_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)

    visit_type: Mapped[VisitType] = mapped_column(string_enum(VisitType))
    status: Mapped[AppointmentStatus] = mapped_column(string_enum(AppointmentStatus))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    busy_from: Mapped[datetime] = mapped_column(UTCDateTime)
    busy_until: Mapped[datetime] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    replaces_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id"), nullable=True
    )
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    booked_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    # The video room of a video visit, as the video service gave it (`rooms.py`). Join links
    # hold short-lived tokens and are made on request, so `room_join_url` stays empty.
    room_state: Mapped[RoomState | None] = mapped_column(string_enum(RoomState), nullable=True)
    room_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    room_join_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    room_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Reminder(IdMixin, Base):
    """The reminder outbox: one row per appointment and kind, delivered at least once with its
    id as the idempotency key, so a channel that deduplicates delivers it exactly once."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("appointment_id", "kind", name="uq_reminders_appointment_kind"),
        Index("ix_reminders_state_next_attempt", "state", "next_attempt_at"),
    )

    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointments.id"))
    kind: Mapped[ReminderKind] = mapped_column(string_enum(ReminderKind))
    recipient_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[ReminderState] = mapped_column(string_enum(ReminderState))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
