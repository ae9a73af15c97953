"""FHIR R4 views of scheduling under `/api/scheduling/fhir` (published as `/api/fhir`):
Appointment, Schedule, Slot computed from schedules and bookings, and rooms as Location."""

from typing import Annotated

from fastapi import Path, Request

from services.common.errors import NotFound
from services.common.fhir import (
    FhirResponse,
    fhir_router,
    outcome_responses,
    resource_id,
    resource_response,
    searchset,
    terms_of,
)
from services.common.fhir_search import parse_search, search_description
from services.common.uow import UnitOfWorkDep
from services.scheduling import appointments, fhir, fhir_search, schedules
from services.scheduling.dependencies import PREFIX, ActingPrincipal, NowDep, SettingsDep

router = fhir_router(PREFIX)
Id = Annotated[str, Path(description="The resource's id")]
READ = outcome_responses(401, 404)
SEARCH = outcome_responses(400, 401)
APPOINTMENTS_SEEN = (
    "The appointments the caller sees in scheduling's own API: a patient their own, a "
    "specialist those on their schedule, coordinators, registrars and district medics those "
    "of the patients of the organisations they act for and those held at their organisation."
)


@router.get("/Appointment/{id}", summary="An appointment the caller may see", responses=READ)
async def read_appointment(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: ActingPrincipal, now: NowDep
) -> FhirResponse:
    """A booked visit as FHIR: status, start, end, visit type (`serviceType`), specialty, its
    slot, and the participants: the patient and the specialist or room (a Location). Only one
    the caller sees (see the search); any other is a 404 OperationOutcome, as if unknown. The
    consultation it serves (`basedOn`) is shown to staff, not to the patient."""
    found = await appointments.get_appointment(uow, principal, resource_id(id, "Appointment"), now)
    return resource_response(fhir.appointment(terms_of(request), found, principal))


@router.get(
    "/Appointment",
    summary="Search appointments the caller may see",
    description=search_description("Appointment", APPOINTMENTS_SEEN),
    responses=SEARCH,
)
async def search_appointments(
    request: Request, uow: UnitOfWorkDep, principal: ActingPrincipal, now: NowDep
) -> FhirResponse:
    search = parse_search(request, "Appointment", set(fhir.APPOINTMENT_STATUS.values()))
    found, after = await fhir_search.search_appointments(uow, principal, search, now)
    terms = terms_of(request)
    resources = [fhir.appointment(terms, item, principal) for item in found]
    return searchset(request, "Appointment", resources, after)


@router.get("/Schedule/{id}", summary="A practitioner's or a room's schedule", responses=READ)
async def read_schedule(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: ActingPrincipal, now: NowDep
) -> FhirResponse:
    """Any signed-in caller: whose schedule it is (`actor`: the specialist, or a room of an
    organisation), its specialty and visit types, and the window bookable from now
    (`planningHorizon`). 404 for an unknown id."""
    schedule = await schedules.get_schedule(uow, resource_id(id, "Schedule"))
    return resource_response(fhir.schedule(terms_of(request), schedule, now))


@router.get(
    "/Schedule",
    summary="Search schedules by practitioner or specialty",
    description=search_description("Schedule", "Any signed-in caller sees every schedule."),
    responses=SEARCH,
)
async def search_schedules(
    request: Request, uow: UnitOfWorkDep, principal: ActingPrincipal, now: NowDep
) -> FhirResponse:
    found, after = await fhir_search.search_schedules(uow, parse_search(request, "Schedule"))
    terms = terms_of(request)
    resources = [fhir.schedule(terms, item, now) for item in found]
    return searchset(request, "Schedule", resources, after)


@router.get(
    "/Slot/{id}",
    summary="A slot (`<schedule id>-<visit type>-<epoch>`): free, or busy once booked",
    description="Any signed-in caller. Slots are not stored: the id names the schedule, "
    "visit type and start, and the slot is computed now from the schedule's rules, "
    "exceptions and bookings. An id that is malformed or names no slot of the schedule is a "
    "404 OperationOutcome.",
    responses=READ,
)
async def read_slot(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: ActingPrincipal, now: NowDep
) -> FhirResponse:
    try:
        schedule_id, visit_type, start = fhir.parse_slot_id(id)
    except ValueError:
        raise NotFound(fhir_search.NO_SLOT) from None
    terms = terms_of(request)
    found = await fhir_search.get_slot(uow, terms, schedule_id, visit_type, start, now)
    return resource_response(found)


@router.get(
    "/Slot",
    summary="Free slots of a schedule and visit type (`schedule`, `service-type`), computed now",
    description=search_description(
        "Slot",
        "Any signed-in caller: the free slots, earliest first, to book with "
        "`POST /api/scheduling/appointments`.",
    ),
    responses=SEARCH,
)
async def search_slots(
    request: Request,
    uow: UnitOfWorkDep,
    principal: ActingPrincipal,
    settings: SettingsDep,
    now: NowDep,
) -> FhirResponse:
    search = parse_search(request, "Slot", fhir.SLOT_STATUSES)
    found, after = await fhir_search.search_slots(
        uow, terms_of(request), search, now, settings.max_availability_days
    )
    return searchset(request, "Slot", found, after)


@router.get("/Location/{id}", summary="A room, where its visits are booked", responses=READ)
async def read_location(
    request: Request, id: Id, uow: UnitOfWorkDep, principal: ActingPrincipal
) -> FhirResponse:
    """Any signed-in caller: a room an organisation books visits in (a schedule of kind
    `room`, whose id the Location shares), its name and organisation. A room's schedule and
    the visits booked on it name it as their `actor`. 404 for any other id."""
    room = await fhir_search.get_location(uow, resource_id(id, "Location"))
    return resource_response(fhir.location(room))


@router.get(
    "/Location",
    summary="Search rooms by id, organisation or name",
    description=search_description("Location", "Any signed-in caller sees every room."),
    responses=SEARCH,
)
async def search_locations(
    request: Request, uow: UnitOfWorkDep, principal: ActingPrincipal
) -> FhirResponse:
    found, after = await fhir_search.search_locations(uow, parse_search(request, "Location"))
    return searchset(request, "Location", [fhir.location(room) for room in found], after)
