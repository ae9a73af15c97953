"""The directory and scheduling answers the registry and schedule screens read, as the public
API documents them; fields the screens do not use are ignored."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from web.cases.schemas import Answer


class ActingOrganization(Answer):
    """An organisation the caller acts for: their own, or one theirs serves."""

    id: uuid.UUID
    name: str
    timezone: str
    relation: str


class Patient(Answer):
    id: uuid.UUID
    full_name: str
    organization_id: uuid.UUID | None
    birth_date: date
    sex: str
    policy_number: str | None
    phone: str | None
    email: str | None
    can_sign_in: bool = False


class PatientPage(Answer):
    items: list[Patient]
    next_offset: int | None = None


class Duplicate(Answer):
    """A patient on record a registration would duplicate, as the API's 409 names them."""

    id: uuid.UUID
    full_name: str
    birth_date: date
    organization_id: uuid.UUID | None


class LocalSpan(Answer):
    start: datetime
    end: datetime
    timezone: str


class Slot(Answer):
    schedule_id: uuid.UUID
    practitioner_id: uuid.UUID | None
    organization_id: uuid.UUID
    specialty: str | None
    start: datetime
    end: datetime
    local: LocalSpan
    requested: LocalSpan | None = None


class Availability(Answer):
    slots: list[Slot]
    truncated: bool


class Appointment(Answer):
    id: uuid.UUID
    status: str
    visit_type: str
    schedule_id: uuid.UUID
    practitioner_id: uuid.UUID | None
    organization_id: uuid.UUID
    specialty: str | None
    patient_id: uuid.UUID | None
    # As the directory named the patient at booking; null on older visits.
    patient_name: str | None = None
    patient_birth_date: date | None = None
    episode_id: uuid.UUID | None
    series_id: uuid.UUID | None = None
    start: datetime
    end: datetime
    local: LocalSpan
    patient_local: LocalSpan
    replaces_id: uuid.UUID | None = None
    replaced_by_id: uuid.UUID | None = None
    cancel_reason: str | None = None


class AppointmentPage(Answer):
    items: list[Appointment]
    next_cursor: str | None = None


class Episode(Answer):
    id: uuid.UUID
    patient_id: uuid.UUID
    specialty: str
    practitioner_id: uuid.UUID | None
    status: str
    first_visit_fulfilled: bool
    appointments: list[Appointment]
    created_at: datetime


class SeriesItem(Answer):
    start: datetime
    outcome: Literal["booked", "conflict", "unavailable"]
    detail: str | None = None


class Series(Answer):
    booked: int
    items: list[SeriesItem]


class WorkingHours(Answer):
    weekday: int
    start: str
    end: str


class VisitType(Answer):
    type: str
    duration_minutes: int
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0


class Schedule(Answer):
    id: uuid.UUID
    practitioner_id: uuid.UUID | None
    organization_id: uuid.UUID
    specialty: str | None
    timezone: str
    weekly_hours: list[WorkingHours]
    visit_types: list[VisitType]
    slot_step_minutes: int
    min_notice_minutes: int
    horizon_days: int


class ScheduleException(Answer):
    id: uuid.UUID
    kind: str
    start: datetime
    end: datetime
    local: LocalSpan
    reason: str | None = None


class Invitation(Answer):
    appointment_id: uuid.UUID
    recipient_id: uuid.UUID = Field(description="The patient.")
