"""Reads behind scheduling's FHIR views, through the native loaders and lists: appointments
with their access rules and audit; schedules, rooms and free slots, which are open to every
signed-in caller as in the native API."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.common.auth import Principal
from services.common.errors import BadRequest, NotFound
from services.common.fhir import FhirTerms
from services.common.fhir_search import (
    Search,
    containing,
    matching_statuses,
    one_page,
    reference_token,
    split_page,
)
from services.common.pagination import decode_cursor, encode_cursor
from services.common.uow import UnitOfWork
from services.scheduling import listing
from services.scheduling.availability import SlotQuery, find_slots, why_unbookable
from services.scheduling.enums import ScheduleKind, VisitType
from services.scheduling.fhir import APPOINTMENT_STATUS, SLOT_STATUSES, VISIT_TYPES, slot
from services.scheduling.models import Appointment, Schedule
from services.scheduling.schedules import visit_of
from services.scheduling.schemas import normalise_specialty

Cursor = tuple[datetime, uuid.UUID] | None
NO_SLOT = "No Slot with this id is offered."
NO_LOCATION = "No Location with this id: a Location is a room, by its schedule's id."


async def search_appointments(
    uow: UnitOfWork, principal: Principal, search: Search, now: datetime
) -> tuple[list[Appointment], Cursor]:
    """The native list, by start: what the caller may see, each one audited."""
    statuses = matching_statuses(APPOINTMENT_STATUS, search)
    if statuses == []:  # repeated `status` parameters that no status satisfies
        return [], None
    filters = listing.AppointmentFilter(
        statuses=statuses or (),
        practitioner_id=reference_token(search, "practitioner", "Practitioner"),
        patient_id=search.patient_id,
        starts_from=search.start,
        starts_before=search.end,
    )
    cursor = encode_cursor(*search.after) if search.after else None
    page, next_cursor = await listing.list_appointments(
        uow, principal, filters, now, limit=search.count, cursor=cursor
    )
    return page, decode_cursor(next_cursor) if next_cursor else None


async def search_schedules(uow: UnitOfWork, search: Search) -> tuple[list[Schedule], Cursor]:
    query = select(Schedule)
    practitioner = reference_token(search, "actor", "Practitioner")
    if practitioner is not None:
        query = query.where(Schedule.practitioner_id == practitioner)
    if "specialty" in search.tokens:
        try:
            specialty = normalise_specialty(search.tokens["specialty"].rpartition("|")[2])
        except ValueError as error:
            raise BadRequest(f"`specialty`: {error}.", parameter="specialty") from error
        query = query.where(Schedule.specialty == specialty)
    found = one_page(query, Schedule.created_at, Schedule.id, search)
    rows = (await uow.session.scalars(found)).all()
    return split_page(rows, search, lambda schedule: (schedule.created_at, schedule.id))


async def get_location(uow: UnitOfWork, location_id: uuid.UUID) -> Schedule:
    """A room: the schedule of kind `room` with this id (else 404)."""
    schedule = await uow.session.get(Schedule, location_id)
    if schedule is None or schedule.kind is not ScheduleKind.ROOM:
        raise NotFound(NO_LOCATION)
    return schedule


async def search_locations(uow: UnitOfWork, search: Search) -> tuple[list[Schedule], Cursor]:
    """Rooms by `_id`, `organization` and `name` (a part of it, case aside)."""
    query = select(Schedule).where(Schedule.kind == ScheduleKind.ROOM)
    if "_id" in search.tokens:
        wanted = [_location_id(item) for item in search.tokens["_id"].split(",")]
        query = query.where(Schedule.id.in_(wanted))
    organization = reference_token(search, "organization", "Organization")
    if organization is not None:
        query = query.where(Schedule.organization_id == organization)
    if name := search.tokens.get("name"):
        query = query.where(Schedule.name.ilike(containing(name), escape="\\"))
    found = one_page(query, Schedule.created_at, Schedule.id, search)
    rows = (await uow.session.scalars(found)).all()
    return split_page(rows, search, lambda schedule: (schedule.created_at, schedule.id))


def _location_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise BadRequest(f"`_id`: {value!r} is not a Location id.", parameter="_id") from None


async def get_slot(
    uow: UnitOfWork,
    terms: FhirTerms,
    schedule_id: uuid.UUID,
    visit_type: VisitType,
    start: datetime,
    now: datetime,
) -> dict[str, Any]:
    """A start the schedule offers for the visit type (else 404): free, or busy if booked."""
    schedule = await uow.session.get(Schedule, schedule_id)
    visit = visit_of(schedule, visit_type) if schedule else None
    if schedule is None or visit is None:
        raise NotFound(NO_SLOT)
    if await why_unbookable(uow, schedule, visit, start, now) is not None:
        raise NotFound(NO_SLOT + " It is outside the hours, the grid or the booking window.")
    free, _ = await find_slots(
        uow,
        SlotQuery(visit_type, start, start + timedelta(seconds=1), 1, schedule_id=schedule.id),
        now,
    )
    end = start + timedelta(seconds=visit.duration)
    return slot(terms, schedule, visit_type, start, end, free=bool(free))


def _visit_type(search: Search) -> VisitType:
    code = search.tokens.get("service-type", "").rpartition("|")[2]
    if code not in VISIT_TYPES:
        raise BadRequest(
            f"`service-type` is required: one of {', '.join(VISIT_TYPES)}.",
            parameter="service-type",
        )
    return VISIT_TYPES[code]


async def search_slots(
    uow: UnitOfWork, terms: FhirTerms, search: Search, now: datetime, max_days: int
) -> tuple[list[dict[str, Any]], Cursor]:
    """Free slots of one schedule and visit type, computed now, by start."""
    schedule_id = reference_token(search, "schedule", "Schedule")
    if schedule_id is None:
        raise BadRequest("`schedule` is required: `Schedule/<id>`.", parameter="schedule")
    visit_type = _visit_type(search)
    start = search.start or now
    end = search.end or start + timedelta(days=max_days)
    if end - start > timedelta(days=max_days):
        raise BadRequest(f"Ask for at most {max_days} days of slots at once.", parameter="date")
    if search.after is not None:  # one schedule and visit type: every start is its own slot
        start = max(start, search.after[0] + timedelta(seconds=1))
    schedule = await uow.session.get(Schedule, schedule_id)
    wanted = search.statuses is None or SLOT_STATUSES[0] in search.statuses
    if schedule is None or not wanted or start >= end:
        return [], None
    query = SlotQuery(visit_type, start, end, search.count, schedule_id=schedule.id)
    found, truncated = await find_slots(uow, query, now)
    slots = [slot(terms, schedule, visit_type, item.start, item.end, free=True) for item in found]
    return slots, (found[-1].start, schedule.id) if truncated and found else None
