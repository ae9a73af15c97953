"""Persistence of patients' appeals: the territory map, appeals, their history and callbacks."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, string_enum
from services.consult.appeals.enums import (
    AppealCategory,
    AppealChannel,
    AppealEventKind,
    AppealStatus,
    CallbackOutcome,
    CallbackReason,
    CallbackStatus,
    RedirectTopic,
)
from services.consult.db import Base


class Territory(IdMixin, TimestampMixin, Base):
    """One line of a region's map: which organisation answers the callers of a territory."""

    __tablename__ = "appeal_territories"
    __table_args__ = (UniqueConstraint("region", "code", name="uq_appeal_territories_region_code"),)

    region: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class Appeal(IdMixin, TimestampMixin, Base):
    __tablename__ = "appeals"
    __table_args__ = (
        Index("ix_appeals_region_queue", "region", "due_at", "id"),
        Index("ix_appeals_organization_queue", "organization_id", "due_at", "id"),
        Index("ix_appeals_patient", "patient_id", "created_at"),
        Index("ix_appeals_created_by", "created_by", "created_at"),
        Index("ix_appeals_status_due", "status", "due_at"),
    )

    region: Mapped[str] = mapped_column(String(8))
    channel: Mapped[AppealChannel] = mapped_column(string_enum(AppealChannel))
    category: Mapped[AppealCategory] = mapped_column(string_enum(AppealCategory))
    status: Mapped[AppealStatus] = mapped_column(string_enum(AppealStatus))
    redirect_topic: Mapped[RedirectTopic | None] = mapped_column(
        string_enum(RedirectTopic), nullable=True
    )

    # The caller: a registered patient when known, and how to reach them in any case.
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    contact_name: Mapped[str] = mapped_column(String(255))
    contact_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    territory_code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)

    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_by_role: Mapped[str] = mapped_column(String(32))

    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The organisation's next opening when the appeal came outside its hours; None until routed.
    clock_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    answer: Mapped[str | None] = mapped_column(Text, nullable=True)  # what the patient is told
    first_contact_resolution: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    events: Mapped[list["AppealEvent"]] = relationship(
        back_populates="appeal", lazy="raise", order_by="AppealEvent.id"
    )


class AppealEvent(Base):
    """The appeal's history: routing, reassignments, escalations, answers and callbacks."""

    __tablename__ = "appeal_events"
    __table_args__ = (Index("ix_appeal_events_appeal", "appeal_id", "id"),)

    # A sequence, not a UUID: events of one request share a timestamp and keep their order.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id"))
    kind: Mapped[AppealEventKind] = mapped_column(string_enum(AppealEventKind))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)  # None: the system
    actor_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    from_organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    to_organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    appeal: Mapped[Appeal] = relationship(back_populates="events", lazy="raise")


class Callback(IdMixin, TimestampMixin, Base):
    """A call the organisation owes the patient: after a dropped call, or to give an answer."""

    __tablename__ = "appeal_callbacks"
    __table_args__ = (
        Index("ix_appeal_callbacks_queue", "organization_id", "status", "due_at", "id"),
        Index("ix_appeal_callbacks_appeal", "appeal_id"),
    )

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id"))
    region: Mapped[str] = mapped_column(String(8))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    phone: Mapped[str] = mapped_column(String(32))
    reason: Mapped[CallbackReason] = mapped_column(string_enum(CallbackReason))
    status: Mapped[CallbackStatus] = mapped_column(string_enum(CallbackStatus))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    last_outcome: Mapped[CallbackOutcome | None] = mapped_column(
        string_enum(CallbackOutcome), nullable=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    attempt_log: Mapped[list["CallbackAttempt"]] = relationship(
        back_populates="callback", lazy="raise", order_by="(CallbackAttempt.at, CallbackAttempt.id)"
    )


class CallbackAttempt(IdMixin, Base):
    __tablename__ = "callback_attempts"
    __table_args__ = (Index("ix_callback_attempts_callback", "callback_id", "at"),)

    callback_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeal_callbacks.id"))
    operator_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    outcome: Mapped[CallbackOutcome] = mapped_column(string_enum(CallbackOutcome))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    callback: Mapped[Callback] = relationship(back_populates="attempt_log", lazy="raise")
