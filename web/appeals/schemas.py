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


class DoneBy(Answer):
    organization_id: uuid.UUID
    name: str
    position: str


class Resolution(Answer):
    """What was done, by whom, with what result (the answer itself is the appeal's)."""

    actions: list[str]
    details: str | None
    done_by: DoneBy
    result: str
    result_reason: str | None


class ResolutionChoice(Answer):
    """An action a resolution may name (`GET /api/consult/appeal-resolution-actions`)."""

    action: str
    categories: list[str]


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
    resolution: Resolution | None = None
    first_contact_resolution: bool | None
    article_id: uuid.UUID | None = None  # the knowledge-base article the answer rests on
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
    appeal_id: uuid.UUID | None  # None: a dropped PBX call nobody has filed an appeal on yet
    call_id: uuid.UUID | None = None
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
    call_refused: str | None = None


class Recording(Answer):
    file_id: uuid.UUID
    media_type: str
    size: int


class Call(Answer):
    """A PBX call (`/api/consult/calls`): who called, when, how it went, its recording."""

    id: uuid.UUID
    line: str
    caller: str | None
    extension: str | None
    outcome: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    talk_seconds: int | None
    appeal_id: uuid.UUID | None
    linked_by: uuid.UUID | None
    recording: Recording | None
    callback_id: uuid.UUID | None


class RecordingsGrant(Answer):
    grant: str
    file_ids: list[uuid.UUID]


class Delivery(Answer):
    status: str
    attempts: int
    last_error: str | None


class ThreadMessage(Answer):
    """One message of an appeal's thread: the first is the appeal's own text."""

    id: int | None
    kind: str
    direction: str
    author_id: uuid.UUID | None
    author_name: str | None
    text: str
    at: datetime
    delivery: Delivery | None


class DeliveryState(Delivery):
    """The sending of an outgoing message the page already shows."""

    message_id: int


class ThreadNews(Answer):
    """What is new in a thread after the last message a page shows."""

    status: str
    messages: list[ThreadMessage]
    deliveries: list[DeliveryState]


class RedirectAnswer(Answer):
    """What an organisation's callers are told on a topic the channels do not handle."""

    topic: str
    language: str
    text: str
    built_in: bool  # the built-in wording: the organisation has none of its own
    updated_by: uuid.UUID | None
    updated_at: datetime | None
