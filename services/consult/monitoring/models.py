"""Persistence of patient monitoring: enrolments, their check-ins and the urgent tasks that
worsening check-ins create."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, string_enum
from services.consult.db import Base
from services.consult.monitoring.enums import (
    DischargeReason,
    EnrolmentStatus,
    EscalationKind,
    TaskStatus,
    Wellbeing,
)
from services.consult.values import Sex, Urgency

# One active enrolment of a patient per programme and organisation (a partial unique index).
ACTIVE_ENROLMENT = text("status = 'active'")


class Enrolment(IdMixin, TimestampMixin, Base):
    """A patient under a monitoring programme of the organisation responsible for them."""

    __tablename__ = "monitoring_enrolments"
    __table_args__ = (
        # The day's due check-ins of an organisation, by when they are due.
        Index("ix_monitoring_enrolments_due", "organization_id", "status", "next_due_at"),
        Index("ix_monitoring_enrolments_patient", "patient_id", "enrolled_at"),
        Index(
            "uq_monitoring_enrolments_active",
            "organization_id",
            "programme",
            "patient_reference",
            unique=True,
            postgresql_where=ACTIVE_ENROLMENT,
            sqlite_where=ACTIVE_ENROLMENT,
        ),
    )

    programme: Mapped[str] = mapped_column(String(64))
    status: Mapped[EnrolmentStatus] = mapped_column(string_enum(EnrolmentStatus))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # The patient's own account, when they have one: they see and check in themselves.
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    patient_reference: Mapped[str] = mapped_column(String(128))
    patient_full_name: Mapped[str] = mapped_column(String(255))
    patient_birth_date: Mapped[date] = mapped_column(Date)
    patient_sex: Mapped[Sex] = mapped_column(string_enum(Sex))
    patient_insurance_policy: Mapped[str] = mapped_column(String(32))
    contact_phone: Mapped[str] = mapped_column(String(32))
    # The patient's IANA zone, when it is not the organisation's: their day of check-ins.
    patient_timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    indication: Mapped[str] = mapped_column(Text)
    interval_hours: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    enrolled_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_check_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    discharged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    discharged_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    discharge_reason: Mapped[DischargeReason | None] = mapped_column(
        string_enum(DischargeReason), nullable=True
    )
    discharge_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class CheckIn(IdMixin, Base):
    """One check-in's answers and vital signs, and what its thresholds arranged."""

    __tablename__ = "monitoring_check_ins"
    __table_args__ = (Index("ix_monitoring_check_ins_enrolment", "enrolment_id", "checked_at"),)

    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_enrolments.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorder_role: Mapped[str] = mapped_column(String(32))
    vital_signs: Mapped[dict[str, Any]] = mapped_column(JSON)
    symptoms: Mapped[list[str]] = mapped_column(JSON)
    wellbeing: Mapped[Wellbeing] = mapped_column(string_enum(Wellbeing))
    note: Mapped[str] = mapped_column(Text)
    escalation: Mapped[EscalationKind | None] = mapped_column(
        string_enum(EscalationKind), nullable=True
    )
    fired_rules: Mapped[list[str]] = mapped_column(JSON)
    # The task it created, or the open one as severe that already covered it.
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class Task(IdMixin, Base):
    """An urgent home visit or ambulance call for the responsible organisation to arrange."""

    __tablename__ = "monitoring_tasks"
    __table_args__ = (
        Index("ix_monitoring_tasks_queue", "organization_id", "status", "created_at"),
        Index("ix_monitoring_tasks_enrolment", "enrolment_id", "status"),
    )

    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_enrolments.id"))
    check_in_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("monitoring_check_ins.id"))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[EscalationKind] = mapped_column(string_enum(EscalationKind))
    urgency: Mapped[Urgency] = mapped_column(string_enum(Urgency))
    status: Mapped[TaskStatus] = mapped_column(string_enum(TaskStatus))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
