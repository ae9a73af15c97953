"""Notify persistence: each message once, as its event or request produced it (the outbox)."""

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.models import Base
from gateway.notify.enums import Template
from services.common.db import IdMixin, TimestampMixin, string_enum


class Message(IdMixin, TimestampMixin, Base):
    """What to tell whom: written in the transaction of the change it announces, so a message
    exists exactly when its change does. `key` makes producing it twice (a relayed event seen
    again, a request retried) a no-op."""

    __tablename__ = "notify_messages"

    key: Mapped[str] = mapped_column(String(255), unique=True)
    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    template: Mapped[Template] = mapped_column(string_enum(Template))
    # What the template fills in; never clinical details beyond what the template shows.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
