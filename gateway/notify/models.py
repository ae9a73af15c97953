"""Notify persistence: each message once, as its event or request produced it (the outbox),
its deliveries by channel with every attempt, and each person's choices."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models import Base
from gateway.notify.enums import AttemptOutcome, Channel, DeliveryStatus, Template
from services.common.db import IdMixin, TimestampMixin, UTCDateTime, string_enum, utcnow

MAX_ERROR = 500


class Message(IdMixin, TimestampMixin, Base):
    """What to tell whom: written in the transaction of the change it announces, so a message
    exists exactly when its change does. `key` makes producing it twice (a relayed event seen
    again, a request retried) a no-op."""

    __tablename__ = "notify_messages"
    # Serves the delivery log, newest first.
    __table_args__ = (Index("ix_notify_messages_created", "created_at", "id"),)

    key: Mapped[str] = mapped_column(String(255), unique=True)
    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    template: Mapped[Template] = mapped_column(string_enum(Template))
    # What the template fills in; never clinical details beyond what the template shows.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Why no delivery was made (no address, every channel opted out); None when there is one.
    undeliverable: Mapped[str | None] = mapped_column(String(MAX_ERROR))


class Delivery(IdMixin, Base):
    """One message on one channel to one address. Its id is the email's Message-ID, so every
    attempt (a retry, a resend after a crash mid-send) carries the same one."""

    __tablename__ = "notify_deliveries"
    # Serves the workers' claim: due deliveries by time.
    __table_args__ = (Index("ix_notify_deliveries_due", "status", "next_attempt_at"),)

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notify_messages.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[Channel] = mapped_column(string_enum(Channel))
    # As the directory had it when the message was made (an email address, a phone number).
    address: Mapped[str] = mapped_column(String(254))
    status: Mapped[DeliveryStatus] = mapped_column(string_enum(DeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A worker (of any gateway replica) owns a `sending` delivery until `lease_until`.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(MAX_ERROR))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The administrator who asked for this delivery again (POST .../resend); None: the outbox.
    resent_by: Mapped[uuid.UUID | None] = mapped_column()


class DeliveryAttempt(IdMixin, Base):
    __tablename__ = "notify_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notify_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[AttemptOutcome] = mapped_column(string_enum(AttemptOutcome))
    error: Mapped[str | None] = mapped_column(String(MAX_ERROR))
    duration_ms: Mapped[int] = mapped_column(Integer)


class Preferences(TimestampMixin, Base):
    """A person's choices; no row means every channel and category on."""

    __tablename__ = "notify_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=True)
    # Category values (enums.OPTIONAL_CATEGORIES) the person receives nothing of.
    opted_out: Mapped[list[str]] = mapped_column(JSON, default=list)
