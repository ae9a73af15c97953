"""Pydantic shapes of the notify API: a person's preferences and the delivery log."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.notify.enums import (
    AttemptOutcome,
    Category,
    Channel,
    DeliveryStatus,
    MessageStatus,
    Template,
)

# enums.OPTIONAL_CATEGORIES: account messages are always sent.
OptOut = Literal["visits", "cases"]


class PreferencesUpdate(BaseModel):
    """Replaces the caller's choices. Account messages (password resets, invitations, new
    sign-ins) are sent whatever they say."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": True, "sms": False, "opted_out": ["cases"]}]}
    )

    email: bool = Field(default=True, description="false: no email but account messages")
    sms: bool = Field(default=True, description="false: no SMS but account messages")
    opted_out: list[OptOut] = Field(default_factory=list, max_length=2, examples=[["cases"]])


class Preferences(PreferencesUpdate):
    # The example of the body it was made from would lack the `user_id`.
    model_config = ConfigDict(json_schema_extra=None)

    user_id: uuid.UUID


class Attempt(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    outcome: AttemptOutcome
    error: str | None
    duration_ms: int


class Delivery(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="Also the email's Message-ID (`<id@sender's domain>`).")
    channel: Channel
    address: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None = Field(description="The last failure, or why it was skipped.")
    sent_at: datetime | None
    provider_message_id: str | None
    created_at: datetime
    resent_by: uuid.UUID | None = Field(description="The administrator who resent it.")


class DeliveryDetail(Delivery):
    attempt_log: list[Attempt] = Field(description="Every attempt, oldest first.")


class Message(BaseModel):
    id: uuid.UUID
    recipient_id: uuid.UUID
    template: Template
    category: Category
    status: MessageStatus
    undeliverable: str | None = Field(description="Why no delivery was made, if none was.")
    created_at: datetime


class MessageDetail(Message):
    params: dict[str, Any] = Field(
        description="What the template was filled with; links that let their holder in "
        "(password links, join links) are shown as `[redacted]`."
    )
    deliveries: list[DeliveryDetail]


class MessagePage(BaseModel):
    items: list[Message]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")
