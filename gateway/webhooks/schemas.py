"""Pydantic shapes of the webhooks API: subscriptions and the delivery log."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    UrlConstraints,
    field_validator,
)

from gateway.webhooks.models import DeliveryStatus
from services.common.outbox import EventResource, EventType

EVENT_TYPES = tuple(event_type.value for event_type in EventType)
_URL_EXAMPLE = "https://mis.example.org/telemed/webhooks"
URL_LENGTH = 2048  # `WebhookSubscription.url`'s column


def _stored_fits(url: HttpUrl) -> HttpUrl:
    # As stored: normalising (a trailing slash, a punycoded host) can lengthen what was sent.
    if len(str(url)) > URL_LENGTH:
        raise ValueError(f"the URL must be at most {URL_LENGTH} characters")
    return url


WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=URL_LENGTH), AfterValidator(_stored_fits)]


def _known_event_types(values: list[str]) -> list[str]:
    unknown = [value for value in values if value not in EVENT_TYPES]
    if unknown:
        raise ValueError(
            f"unknown event type {unknown[0]!r}; known types are {', '.join(EVENT_TYPES)}"
        )
    return sorted(set(values), key=EVENT_TYPES.index)


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://mis.kuzbass.example/telemed/webhooks",
                    "event_types": ["case.submitted", "case.concluded", "appointment.booked"],
                    "description": "Kuzbass regional MIS: conclusions into the patient's record",
                }
            ]
        }
    )

    url: WebhookUrl = Field(examples=[_URL_EXAMPLE])
    event_types: list[str] = Field(
        min_length=1, max_length=len(EVENT_TYPES), examples=[["case.submitted", "case.concluded"]]
    )
    description: str = Field(default="", max_length=500, examples=["Regional MIS"])

    _event_types = field_validator("event_types")(_known_event_types)


class SubscriptionUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"event_types": ["case.concluded", "case.info_requested"], "active": True}]
        }
    )

    url: WebhookUrl | None = Field(default=None, examples=[_URL_EXAMPLE])
    event_types: list[str] | None = Field(
        default=None, min_length=1, max_length=len(EVENT_TYPES), examples=[["case.concluded"]]
    )
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = Field(default=None, description="false pauses deliveries")

    @field_validator("event_types")
    @classmethod
    def _event_types(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _known_event_types(values)


class Subscription(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str
    active: bool
    organization_id: uuid.UUID | None = Field(
        description="Events of this organisation are sent; none (an admin's) means all."
    )
    created_at: datetime


class SubscriptionWithSecret(Subscription):
    secret: str = Field(
        description="Signs every delivery (`webhook-signature`, Standard Webhooks): the HMAC "
        "key is the base64 after `whsec_`. Shown only on creation and on rotation.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/3Gz1x6A0ew="],
    )


class Delivery(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str = Field(examples=["case.submitted"])
    resource: EventResource
    status: DeliveryStatus
    attempts: int = Field(description="How many times it was sent.")
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    replay_of: uuid.UUID | None = Field(description="The delivery this one replays.")


class Attempt(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryDetail(Delivery):
    attempt_log: list[Attempt] = Field(description="Every attempt, oldest first.")


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")
