"""FHIR R4 renderings of scheduling's records: Appointment, Schedule, computed Slots, and
rooms as Location. Pure functions, no I/O."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.common.auth import Principal, Role
from services.common.fhir import (
    FhirTerms,
    coding,
    concept,
    hyphenated,
    instant,
    patient_reference,
    reference,
)
from services.scheduling.enums import VIDEO_VISITS, AppointmentStatus, RoomState, VisitType
from services.scheduling.models import Appointment, Schedule

S = AppointmentStatus
# Ours are FHIR's own codes (the enum was made after them), spelled with underscores.
APPOINTMENT_STATUS = {
    S.PROPOSED: "proposed",
    S.BOOKED: "booked",
    S.CHECKED_IN: "checked-in",
    S.ARRIVED: "arrived",
    S.FULFILLED: "fulfilled",
    S.CANCELLED: "cancelled",
    S.NOSHOW: "noshow",
    S.ENTERED_IN_ERROR: "entered-in-error",
}
SLOT_STATUSES = ("free", "busy")
VISIT_TYPES = {hyphenated(visit.value): visit for visit in VisitType}
# R5's Appointment.virtualService, carried in R4 as the cross-version extension.
VIRTUAL_SERVICE = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.virtualService"
CHANNEL = ("virtual-service-type", "telemed-video", "telemed video (WebRTC, browser)")
# A room is a Location: the place of the visits booked on its schedule, whose id it shares.
ROOM = coding("http://terminology.hl7.org/CodeSystem/location-physical-type", "ro", "Room")


def visit_type_concept(terms: FhirTerms, visit_type: VisitType) -> dict[str, Any]:
    return concept(terms.local("visit-type", hyphenated(visit_type.value)))


def _specialty(terms: FhirTerms, specialty: str | None) -> list[dict[str, Any]]:
    return [terms.specialty(specialty)] if specialty else []


def slot_id(schedule_id: uuid.UUID, visit_type: VisitType, start: datetime) -> str:
    """Slots are computed, not stored: the id says which schedule, visit type and start
    (`<schedule id>-<visit type>-<epoch seconds>`, at most 64 characters)."""
    return f"{schedule_id}-{hyphenated(visit_type.value)}-{int(start.timestamp())}"


def parse_slot_id(value: str) -> tuple[uuid.UUID, VisitType, datetime]:
    """The parts of a slot id; ValueError if it is not one."""
    schedule, visit, epoch = value[:36], *value[37:].rpartition("-")[::2]
    if value[36:37] != "-" or visit not in VISIT_TYPES or not epoch.isdigit():
        raise ValueError(value)
    return uuid.UUID(schedule), VISIT_TYPES[visit], datetime.fromtimestamp(int(epoch), UTC)


def _resource_of(appointment: Appointment) -> dict[str, Any]:
    """Who or what is booked: the practitioner, or the room (a room's schedule stands for it
    as a Location)."""
    if appointment.practitioner_id is not None:
        return reference("Practitioner", appointment.practitioner_id)
    return reference("Location", appointment.schedule_id)


def virtual_service(terms: FhirTerms, appointment: Appointment) -> dict[str, Any]:
    """How to join a video visit: the patient's join-link endpoint (a link holds a token,
    the patient's secret, and is made on request, so never the link itself) and the room."""
    room = appointment.room_id if appointment.room_state is RoomState.READY else None
    room_url = terms.url(f"/api/video/rooms/{room}") if room else None
    parts: list[dict[str, Any]] = [{"url": "channelType", "valueCoding": terms.local(*CHANNEL)}]
    if appointment.visit_type is VisitType.REMOTE:
        join = terms.url(f"/api/scheduling/appointments/{appointment.id}/join-link")
        parts.append({"url": "address", "valueUrl": join})
        if room_url:
            parts.append({"url": "additionalInfo", "valueUrl": room_url})
    elif room_url:  # doctors join their consultations in the video service
        parts.append({"url": "address", "valueUrl": room_url})
    return {"url": VIRTUAL_SERVICE, "extension": parts}


def appointment(terms: FhirTerms, appointment: Appointment, reader: Principal) -> dict[str, Any]:
    """The visit as `reader` may follow it: the consultation it serves (`basedOn`) is shown to
    staff only, since a doctors' case is not its patient's to read (consult's rule)."""
    start, end = appointment.starts_at, appointment.ends_at
    participants = [{"actor": _resource_of(appointment), "required": "required"}]
    if appointment.patient_id is not None:
        patient = patient_reference(terms, appointment.patient_id)
        if appointment.patient_name:  # as the directory named them at booking
            patient["display"] = appointment.patient_name
        participants.insert(0, {"actor": patient, "required": "required"})
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment.id),
        "meta": {"lastUpdated": instant(appointment.updated_at)},
        "status": APPOINTMENT_STATUS[appointment.status],
        "serviceType": [visit_type_concept(terms, appointment.visit_type)],
        "specialty": _specialty(terms, appointment.specialty),
        "start": instant(start),
        "end": instant(end),
        "minutesDuration": int((end - start).total_seconds() // 60),
        "slot": [
            reference("Slot", slot_id(appointment.schedule_id, appointment.visit_type, start))
        ],
        "created": instant(appointment.created_at),
        "participant": [{**found, "status": "accepted"} for found in participants],
    }
    if appointment.visit_type in VIDEO_VISITS:
        resource["extension"] = [virtual_service(terms, appointment)]
    if appointment.consult_case_id and reader.role is not Role.PATIENT:
        resource["basedOn"] = [reference("ServiceRequest", appointment.consult_case_id)]
    if appointment.status is S.CANCELLED and appointment.cancel_reason:
        resource["cancelationReason"] = concept(text=appointment.cancel_reason)
    return {name: value for name, value in resource.items() if value != []}


def schedule(terms: FhirTerms, schedule: Schedule, now: datetime) -> dict[str, Any]:
    """A practitioner's or a room's bookable time; its horizon runs from now."""
    actor = (
        reference("Practitioner", schedule.practitioner_id)
        if schedule.practitioner_id
        else reference("Location", schedule.id) | {"display": schedule.name}
    )
    resource: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": str(schedule.id),
        "meta": {"lastUpdated": instant(schedule.updated_at)},
        "active": True,
        "serviceType": [
            visit_type_concept(terms, VisitType(visit["type"])) for visit in schedule.visit_types
        ],
        "specialty": _specialty(terms, schedule.specialty),
        "actor": [actor],
        "planningHorizon": {
            "start": instant(now),
            "end": instant(now + timedelta(days=schedule.horizon_days)),
        },
        "comment": f"{schedule.name}; working hours in {schedule.timezone}",
    }
    return {name: value for name, value in resource.items() if value != []}


def slot(
    terms: FhirTerms,
    schedule: Schedule,
    visit_type: VisitType,
    start: datetime,
    end: datetime,
    *,
    free: bool,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Slot",
        "id": slot_id(schedule.id, visit_type, start),
        "serviceType": [visit_type_concept(terms, visit_type)],
        "specialty": _specialty(terms, schedule.specialty),
        "schedule": reference("Schedule", schedule.id),
        "status": SLOT_STATUSES[0] if free else SLOT_STATUSES[1],
        "start": instant(start),
        "end": instant(end),
    }
    return {name: value for name, value in resource.items() if value != []}


def location(schedule: Schedule) -> dict[str, Any]:
    """A room (a schedule of kind `room`) as the place its visits are booked in."""
    return {
        "resourceType": "Location",
        "id": str(schedule.id),
        "meta": {"lastUpdated": instant(schedule.updated_at)},
        "status": "active",
        "name": schedule.name,
        "mode": "instance",
        "physicalType": concept(ROOM),
        "managingOrganization": reference("Organization", schedule.organization_id),
    }
