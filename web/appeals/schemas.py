"""Consult's appeal and callback answers as the hotline screens read them (docs/api.md);
fields the screens do not use are ignored."""

import uuid
from datetime import datetime, time

from web.cases.schemas import Answer


class Territory(Answer):
    region: str
    code: str
    name: str
    organization_id: uuid.UUID


class Preview(Answer):
    """What filing an appeal now would do (`GET /api/consult/appeal-preview`)."""

    territory: str | None
    territory_name: str | None
    organization_id: uuid.UUID | None
    clock_starts_at: datetime | None
    due_at: datetime | None
    answer: str | None


class OpeningHours(Answer):
    weekday: int  # Monday is 0
    opens: time
    closes: time


class OrganizationHours(Answer):
    id: uuid.UUID
    name: str
    timezone: str
    working_hours: list[OpeningHours] = []


class Contact(Answer):
    name: str
    phone: str | None = None
    email: str | None = None


class AppealSummary(Answer):
    id: uuid.UUID
    region: str
    channel: str
    category: str
    status: str
    territory_code: str
    organization_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    received_at: datetime
    due_at: datetime
    escalated_at: datetime | None
    overdue: bool


class AppealPage(Answer):
    items: list[AppealSummary]
    next_cursor: str | None


class Appeal(AppealSummary):
    redirect_topic: str | None
    contact: Contact
    text: str
    created_by: uuid.UUID
    answer: str | None
    first_contact_resolution: bool | None
    close_reason: str | None
    resolved_at: datetime | None
    closed_at: datetime | None


class AppealEvent(Answer):
    kind: str
    at: datetime
    actor_id: uuid.UUID | None
    from_organization_id: uuid.UUID | None
    to_organization_id: uuid.UUID | None
    note: str | None


class CallbackAttempt(Answer):
    operator_id: uuid.UUID
    outcome: str
    note: str | None
    at: datetime


class Callback(Answer):
    id: uuid.UUID
    appeal_id: uuid.UUID
    organization_id: uuid.UUID
    phone: str
    reason: str
    status: str
    due_at: datetime
    attempts: int
    max_attempts: int
    last_outcome: str | None
    attempt_log: list[CallbackAttempt]


class CallbackPage(Answer):
    items: list[Callback]
    next_cursor: str | None


class FiledAppeal(Appeal):
    """A new appeal as filing answers it, with the call asked for with it (a dropped call)."""

    callback: Callback | None = None
    callback_refused: str | None = None
