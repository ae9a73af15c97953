"""Consult's monitoring answers as the monitoring screens read them (docs/api.md); fields the
screens do not use are ignored."""

import uuid
from datetime import date, datetime

from web.cases.schemas import Answer, Patient


class Rule(Answer):
    name: str
    escalation: str
    vital: str | None = None
    at_least: float | None = None
    below: float | None = None
    days: int = 1
    symptoms: list[str] = []


class Programme(Answer):
    key: str
    title: str
    interval_hours: int
    symptoms: list[str]
    rules: list[Rule]


class Enrolment(Answer):
    id: uuid.UUID
    programme: str
    status: str
    organization_id: uuid.UUID
    patient_id: uuid.UUID | None
    patient: Patient
    contact_phone: str
    patient_timezone: str | None = None
    indication: str
    interval_hours: int
    operator_id: uuid.UUID | None
    enrolled_at: datetime
    next_due_at: datetime
    overdue: bool
    last_check_in_at: datetime | None
    discharged_at: datetime | None
    discharge_reason: str | None
    discharge_note: str | None


class CheckIn(Answer):
    id: uuid.UUID
    checked_at: datetime
    recorded_by: uuid.UUID
    vital_signs: dict[str, float | None]
    symptoms: list[str]
    wellbeing: str
    note: str
    escalation: str | None
    fired_rules: list[str]
    task_id: uuid.UUID | None


class Task(Answer):
    id: uuid.UUID
    enrolment_id: uuid.UUID
    kind: str
    urgency: str
    status: str
    reasons: list[str]
    created_at: datetime
    completed_at: datetime | None
    completed_by: uuid.UUID | None
    outcome: str | None
    programme: str
    patient_full_name: str
    contact_phone: str


class DueCheckIn(Answer):
    enrolment_id: uuid.UUID
    programme: str
    patient_full_name: str
    contact_phone: str
    operator_id: uuid.UUID | None
    due_at: datetime
    overdue: bool
    timezone: str
    day: date


class DueList(Answer):
    timezone: str
    day: date
    items: list[DueCheckIn]
