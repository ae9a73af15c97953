"""Messages to patients about their visits, from scheduling's appointment events: the
invitation, the reminders, a move and a cancellation. Only visits the patient attends (in
person, remote) are told; a remote one's messages carry the patient's personal visit link."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import User
from gateway.notify.enums import Template
from gateway.notify.producers import people
from gateway.notify.producers.context import Producing
from gateway.visits.links import VisitLinks

PATIENT_VISITS = frozenset({"remote", "in_person"})
REMOTE = "remote"
REMINDERS = {"day_before": Template.VISIT_REMINDER_DAY, "hour_before": Template.VISIT_REMINDER_HOUR}


class AppointmentData(BaseModel):
    """The part of an appointment event's data the messages need (scheduling's
    `outbox_events.appointment_event`); events from before it named the patient have none."""

    model_config = ConfigDict(extra="ignore")

    kind: str
    start: datetime
    organization_id: uuid.UUID | None = None
    practitioner_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    patient_timezone: str | None = None
    replaces_id: uuid.UUID | None = None
    replaces_start: datetime | None = None
    replaced_by_id: uuid.UUID | None = None
    reminder: str | None = None


@dataclass(frozen=True)
class Visit:
    """A patient's visit as a message shows it."""

    appointment_id: uuid.UUID
    kind: str
    start: datetime
    organization_id: uuid.UUID | None
    practitioner_id: uuid.UUID | None
    timezone: str | None


async def visit_params(
    session: AsyncSession, links: VisitLinks, visit: Visit, patient: User
) -> dict[str, Any]:
    """The parameters of an invitation or a reminder (and, less what they do not show, of a
    move or a cancellation): times in the patient's zone, names from the directory."""
    host = await people.organization(session, visit.organization_id)
    params: dict[str, Any] = {
        "start": people.utc_text(visit.start),
        "timezone": visit.timezone or await people.zone_of(session, patient),
        "visit_type": visit.kind,
        "organization_name": host.name if host else "",
        "practitioner_name": await people.full_name(session, visit.practitioner_id),
    }
    if visit.kind == REMOTE:
        params["join_link"] = links.url(visit.appointment_id, patient.id)
    return params


async def _patient_visit(produce: Producing) -> tuple[AppointmentData, Visit, User] | None:
    data = AppointmentData.model_validate(produce.event.data)
    if data.kind not in PATIENT_VISITS:
        return None
    patient = await people.recipient(produce.session, data.patient_id)
    if patient is None:
        return None
    visit = Visit(
        appointment_id=produce.event.resource.id,
        kind=data.kind,
        start=data.start,
        organization_id=data.organization_id,
        practitioner_id=data.practitioner_id,
        timezone=data.patient_timezone,
    )
    return data, visit, patient


async def booked(produce: Producing) -> int:
    """A fresh booking invites the patient; the new half of a move tells them the new time."""
    found = await _patient_visit(produce)
    if found is None:
        return 0
    data, visit, patient = found
    params = await visit_params(produce.session, produce.links.visits, visit, patient)
    if data.replaces_id is None:
        return await produce.tell(patient, Template.VISIT_INVITATION, params)
    moved = {
        "old_start": people.utc_text(data.replaces_start) if data.replaces_start else None,
        "start": params["start"],
        "timezone": params["timezone"],
        "organization_name": params["organization_name"],
    }
    if "join_link" in params:
        moved["join_link"] = params["join_link"]
    return await produce.tell(patient, Template.VISIT_RESCHEDULED, moved)


async def cancelled(produce: Producing) -> int:
    """A visit called off; the old half of a move says nothing (its new half tells)."""
    found = await _patient_visit(produce)
    if found is None or found[0].replaced_by_id is not None:
        return 0
    _, visit, patient = found
    params = await visit_params(produce.session, produce.links.visits, visit, patient)
    shown = {name: params[name] for name in ("start", "timezone", "organization_name")}
    return await produce.tell(patient, Template.VISIT_CANCELLED, shown)


async def reminder_due(produce: Producing) -> int:
    found = await _patient_visit(produce)
    template = REMINDERS.get(found[0].reminder or "") if found else None
    if found is None or template is None:
        return 0
    _, visit, patient = found
    params = await visit_params(produce.session, produce.links.visits, visit, patient)
    return await produce.tell(patient, template, params)
