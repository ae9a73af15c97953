"""What the administrator's screens read of the gateway's and services' answers."""

import uuid
from datetime import datetime, time

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class OpeningHours(Answer):
    weekday: int
    opens: time
    closes: time


class Organization(Answer):
    id: uuid.UUID
    name: str
    kind: str
    region: str
    timezone: str
    working_hours: list[OpeningHours] = Field(default_factory=list)
    serves: list[uuid.UUID] = Field(default_factory=list)


class User(Answer):
    id: uuid.UUID
    username: str
    full_name: str
    role: str
    organization_id: uuid.UUID | None = None
    specialty: str | None = None
    is_active: bool


class Account(User):
    """A user as administrators see them: contacts and whether they have a password."""

    email: str | None = None
    phone: str | None = None
    language: str = "ru"
    can_sign_in: bool = True
    password_changed_at: datetime | None = None


class LinkSent(Answer):
    channels: list[str]
    expires_at: datetime


class Unlocked(Answer):
    failures_cleared: int


class ApiClient(Answer):
    id: uuid.UUID
    client_id: str
    name: str
    organization_id: uuid.UUID
    scopes: list[str]
    is_service: bool
    is_active: bool


class ApiClientCreated(ApiClient):
    client_secret: str


class Subscription(Answer):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str
    active: bool
    organization_id: uuid.UUID | None = None
    created_at: datetime


class SubscriptionWithSecret(Subscription):
    secret: str


class Delivery(Answer):
    id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None = None
    last_error: str | None = None
    created_at: datetime
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None
    replay_of: uuid.UUID | None = None


class DeliveryPage(Answer):
    items: list[Delivery]
    next_cursor: str | None = None


class AuditVerification(Answer):
    service: str
    intact: bool
    records: int
    unkeyed: int = 0
    broken_chain: int | None = None
    first_broken_seq: int | None = None
    reason: str | None = None
    verified_at: datetime
