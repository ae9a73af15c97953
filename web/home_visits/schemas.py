"""Consult's home-visit answers as the screens read them (docs/api.md); fields the screens do
not use are ignored."""

import uuid
from datetime import date, datetime, time

from web.cases.schemas import Answer


class Window(Answer):
    visit_day: date
    timezone: str
    window_starts_at: datetime
    window_ends_at: datetime
    window_opens: time
    window_closes: time


class Preview(Answer):
    organization_id: uuid.UUID | None
    organization_name: str | None
    window: Window | None


class HomeVisit(Answer):
    id: uuid.UUID
    status: str
    organization_id: uuid.UUID
    settlement: str
    street: str
    address: str
    caller_name: str
    patient_name: str
    phone: str
    reason: str
    urgency: str
    patient_id: uuid.UUID | None
    window: Window
    received_at: datetime
    assignee_id: uuid.UUID | None
    assignee_name: str | None
    done_at: datetime | None
    done_note: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    cancel_note: str | None


class DayList(Answer):
    organization_id: uuid.UUID
    visit_day: date
    items: list[HomeVisit]


class DayFigures(Answer):
    day: date
    requests: int
    done: int
    cancelled: int
    cancelled_by_reason: dict[str, int]
    done_same_day: int
    median_minutes_to_done: float | None


class Figures(Answer):
    organization_id: uuid.UUID
    timezone: str
    days: list[DayFigures]
    total: DayFigures


class Staff(Answer):
    """A doctor or nurse the polyclinic may send, from the directory."""

    id: uuid.UUID
    full_name: str
    role: str
    is_active: bool = True
