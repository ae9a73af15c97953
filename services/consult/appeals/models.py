"""Persistence of patients' appeals: the territory map, appeals, their history, threads,
resolutions, callbacks, the PBX calls they came by and each organisation's redirect answers."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
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
    AnswerLanguage,
    AppealCategory,
    AppealChannel,
    AppealEventKind,
    AppealStatus,
    CallbackOutcome,
    CallbackReason,
    CallbackStatus,
    CallEventKind,
    CallOutcome,
    DeliveryStatus,
    MessageKind,
    RedirectTopic,
    ResolutionResult,
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
        # First-contact resolution per knowledge-base article (consult's stats).
        Index("ix_appeals_article", "article_id", "resolved_at"),
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
    # The language the person is answered in (templated answers, automatic replies).
    language: Mapped[AnswerLanguage] = mapped_column(
        string_enum(AnswerLanguage), default=AnswerLanguage.RU
    )
    # The chat channel ("telegram") whose conversation the thread's outgoing messages go to;
    # None: the thread is read in telemed only.
    reply_channel: Mapped[str | None] = mapped_column(String(32), nullable=True)

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
    # The knowledge-base article the resolution cites, if any.
    article_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("knowledge_articles.id"), nullable=True
    )
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
        # One callback per PBX call however often the PBX reports it dropped.
        UniqueConstraint("call_id", name="uq_appeal_callbacks_call_id"),
    )

    # None for a dropped call nobody filed an appeal on (yet): linking the call links it.
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appeals.id"), nullable=True)
    # The dropped PBX call that left it; None when an operator scheduled it.
    call_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appeal_calls.id"), nullable=True)
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


class Resolution(Base):
    """What was done for the person who appealed, by whom and with what result; the text they
    were told is the appeal's `answer`. One per resolved appeal, written once."""

    __tablename__ = "appeal_resolutions"

    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id"), primary_key=True)
    # `ResolutionAction` values, in the order given; the figures count each.
    actions: Mapped[list[str]] = mapped_column(JSON)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # whose person did it
    person_name: Mapped[str] = mapped_column(String(255))
    person_position: Mapped[str] = mapped_column(String(255))
    result: Mapped[ResolutionResult] = mapped_column(string_enum(ResolutionResult))
    result_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)  # the operator who resolved it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Call(IdMixin, TimestampMixin, Base):
    """One PBX call to a hotline line, as the PBX's events told it: who called, who answered
    and when, the appeal it was about, its recording once stored in the files service."""

    __tablename__ = "appeal_calls"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_appeal_calls_source_external"),
        # The new-appeal form's list: an organisation's calls not yet linked, newest first.
        Index("ix_appeal_calls_organization", "organization_id", "started_at"),
        Index("ix_appeal_calls_appeal", "appeal_id", "started_at"),
    )

    source_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the telephony client that reported it
    external_id: Mapped[str] = mapped_column(String(128))  # the PBX's own call id
    line: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # the line's hotline
    region: Mapped[str] = mapped_column(String(8))
    caller: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None: withheld
    extension: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[CallOutcome] = mapped_column(string_enum(CallOutcome))
    # The `started` event's time, or the first event's when `started` never came.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("appeals.id"), nullable=True)
    linked_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)  # the operator
    recording_file_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    recording_media_type: Mapped[str | None] = mapped_column(String(128), nullable=True)
    recording_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CallEvent(Base):
    """Each event a PBX reported, once: a second delivery of (call, event) finds it and gets
    the answer the first one got."""

    __tablename__ = "appeal_call_events"
    __table_args__ = (UniqueConstraint("call_id", "kind", name="uq_appeal_call_events_call_kind"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeal_calls.id"))
    kind: Mapped[CallEventKind] = mapped_column(string_enum(CallEventKind))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the PBX's time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # the answer to replay


class AppealMessage(Base):
    """One message of an appeal's thread after its first text (which is the appeal's `text`):
    from the person, or to them. Never edited."""

    __tablename__ = "appeal_messages"
    __table_args__ = (Index("ix_appeal_messages_appeal", "appeal_id", "id"),)

    # A sequence: an incoming message and its automatic reply share a timestamp.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id"))
    kind: Mapped[MessageKind] = mapped_column(string_enum(MessageKind))
    channel: Mapped[AppealChannel] = mapped_column(string_enum(AppealChannel))
    author_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)  # staff who wrote
    author_name: Mapped[str | None] = mapped_column(String(255), nullable=True)  # as the chat says
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the chat's id


class MessageDelivery(IdMixin, Base):
    """An outgoing message owed to the chat the appeal came from: the chats' courier leases it,
    sends it and settles it, so a reply is sent once and not lost to a failed attempt."""

    __tablename__ = "appeal_message_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", name="uq_appeal_message_deliveries_message_id"),
        # The courier's look for due deliveries.
        Index("ix_appeal_message_deliveries_due", "status", "next_attempt_at"),
        # An appeal's earlier pending delivery holds back its later ones (order per chat).
        Index("ix_appeal_message_deliveries_appeal", "appeal_id", "status"),
    )

    message_id: Mapped[int] = mapped_column(ForeignKey("appeal_messages.id"))
    appeal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appeals.id"))
    channel: Mapped[str] = mapped_column(String(32))  # the appeal's `reply_channel`
    status: Mapped[DeliveryStatus] = mapped_column(string_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    message: Mapped[AppealMessage] = relationship(lazy="raise")


class RedirectAnswer(Base):
    """An organisation's own wording of the answer to a topic the channels do not handle, in
    one language; without one, the built-in answer (`settings.DEFAULT_REDIRECT_ANSWERS`)."""

    __tablename__ = "appeal_redirect_answers"

    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    topic: Mapped[RedirectTopic] = mapped_column(string_enum(RedirectTopic), primary_key=True)
    language: Mapped[AnswerLanguage] = mapped_column(string_enum(AnswerLanguage), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
