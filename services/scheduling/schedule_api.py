"""HTTP routes of schedules, their exceptions, and the free slots computed from them."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic_core import to_json

from services.common.auth import CurrentPrincipal
from services.common.errors import Unprocessable, problem_responses
from services.common.idempotency import idempotent, location
from services.common.times import Instant
from services.common.uow import UnitOfWorkDep
from services.scheduling import schedules
from services.scheduling.availability import SlotQuery, find_slots
from services.scheduling.dependencies import (
    PREFIX,
    NowDep,
    OrganizationsDep,
    SettingsDep,
)
from services.scheduling.enums import ScheduleKind, VisitType
from services.scheduling.schemas import (
    Availability,
    ExceptionCreate,
    ExceptionOut,
    ScheduleCreate,
    ScheduleOut,
    ScheduleUpdate,
    known_zone,
    normalise_specialty,
)
from services.scheduling.timeplan import aware_in
from services.scheduling.views import exception_out, schedule_out

router = APIRouter()
READ_ERRORS = problem_responses(401, 403, 404)


def _zone_or_422(name: str, parameter: str) -> str:
    try:
        return known_zone(name)
    except ValueError as error:
        raise Unprocessable(f"`{parameter}`: {error}.") from error


def _specialty_or_422(specialty: str | None) -> str | None:
    try:
        return normalise_specialty(specialty) if specialty else None
    except ValueError as error:
        raise Unprocessable(f"`specialty`: {error}.") from error


# --- availability ---------------------------------------------------------------------------


@router.get(
    "/availability",
    response_model=Availability,
    tags=["availability"],
    summary="Free slots of a specialty, a practitioner or a room, computed now",
    description=(
        "Slots start in [`from`, `to`), after each schedule's minimum notice and within its "
        "horizon, ordered by start. Times are UTC with the practitioner's local time "
        "alongside, and with the time in `tz` when given; `from`/`to` without an offset are "
        "read in `tz` (UTC by default)."
    ),
    responses=problem_responses(401, 422),
)
async def availability(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    now: NowDep,
    visit_type: VisitType,
    from_: Annotated[Instant, Query(alias="from", examples=["2025-10-27T00:00:00+07:00"])],
    to: Annotated[Instant, Query(examples=["2025-11-10T00:00:00+07:00"])],
    specialty: Annotated[str | None, Query(max_length=64, examples=["cardiology"])] = None,
    practitioner: uuid.UUID | None = None,
    schedule: uuid.UUID | None = None,
    organization: uuid.UUID | None = None,
    tz: Annotated[str | None, Query(max_length=64, examples=["Asia/Vladivostok"])] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    zone = _zone_or_422(tz, "tz") if tz else None
    start, end = aware_in(from_, zone or "UTC"), aware_in(to, zone or "UTC")
    if start >= end:
        raise Unprocessable("`from` must be before `to`.")
    if end - start > timedelta(days=settings.max_availability_days):
        raise Unprocessable(f"Ask for at most {settings.max_availability_days} days at once.")
    if not (specialty or practitioner or schedule):
        raise Unprocessable("Give `specialty`, `practitioner` or `schedule`.")
    wanted_specialty = _specialty_or_422(specialty)
    query = SlotQuery(
        visit_type=visit_type,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        limit=limit,
        specialty=wanted_specialty,
        practitioner_id=practitioner,
        schedule_id=schedule,
        organization_id=organization,
    )
    found, truncated = await find_slots(uow, query, now)
    viewer = ZoneInfo(zone) if zone else None
    # Plain documents of the `Availability` shape, serialised once by pydantic-core: a page
    # holds up to a thousand slots, and building and validating models for them (twice, with
    # the response model) cost three times as much as finding them.
    slots = [
        {
            "schedule_id": slot.schedule.id,
            "practitioner_id": slot.schedule.practitioner_id,
            "organization_id": slot.schedule.organization_id,
            "specialty": slot.schedule.specialty,
            "visit_type": visit_type.value,
            "start": slot.start,
            "end": slot.end,
            "local": _span(slot.start, slot.end, ZoneInfo(slot.schedule.timezone)),
            "requested": _span(slot.start, slot.end, viewer) if viewer else None,
        }
        for slot in found
    ]
    body = to_json({"slots": slots, "truncated": truncated})
    return Response(body, media_type="application/json")


def _span(start: datetime, end: datetime, zone: ZoneInfo) -> dict[str, Any]:
    return {"start": start.astimezone(zone), "end": end.astimezone(zone), "timezone": zone.key}


# --- schedules ------------------------------------------------------------------------------


@router.post(
    "/schedules",
    status_code=201,
    response_model=ScheduleOut,
    tags=["schedules"],
    summary="Create the caller's schedule (specialists) or a room's (coordinators)",
    description="The weekly hours are in the organisation's time zone, read from the "
    "directory. Send `Idempotency-Key` to retry safely.",
    responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
)
async def create_schedule(
    body: ScheduleCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
) -> JSONResponse:
    async def create() -> ScheduleOut:
        return schedule_out(await schedules.create_schedule(uow, principal, body, organizations))

    return await idempotent(
        request, uow.session, principal, body, create, headers=location(PREFIX + "/schedules/{id}")
    )


@router.get(
    "/schedules",
    response_model=list[ScheduleOut],
    tags=["schedules"],
    summary="Schedules, by specialty, organisation or kind",
    description="For any signed-in caller: schedules hold working hours, not patients. "
    "Ordered by name; `specialty`, `organization` and `kind` narrow the list. Free slots come "
    "from `GET /availability`.",
    responses=problem_responses(401, 422),
)
async def list_schedules(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    specialty: Annotated[str | None, Query(max_length=64)] = None,
    organization: uuid.UUID | None = None,
    kind: ScheduleKind | None = None,
) -> list[ScheduleOut]:
    found = await schedules.list_schedules(
        uow, specialty=_specialty_or_422(specialty), organization_id=organization, kind=kind
    )
    return [schedule_out(schedule) for schedule in found]


@router.get(
    "/schedules/{schedule_id}",
    response_model=ScheduleOut,
    tags=["schedules"],
    summary="One schedule",
    description="For any signed-in caller: its weekly hours in the organisation's zone, "
    "visit types with their lengths and buffers, and booking policy. An unknown id is a 404.",
    responses=READ_ERRORS,
)
async def get_schedule(
    schedule_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> ScheduleOut:
    return schedule_out(await schedules.get_schedule(uow, schedule_id))


@router.put(
    "/schedules/{schedule_id}",
    response_model=ScheduleOut,
    tags=["schedules"],
    summary="Replace a schedule's hours, visit types and booking policy",
    description="Booked appointments are kept as they are.",
    responses=problem_responses(401, 403, 404, 422, 502),
)
async def update_schedule(
    schedule_id: uuid.UUID,
    body: ScheduleUpdate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
) -> ScheduleOut:
    schedule = await schedules.update_schedule(
        uow, principal, schedule_id, body, body.name, organizations
    )
    return schedule_out(schedule)


@router.post(
    "/schedules/{schedule_id}/exceptions",
    status_code=201,
    response_model=ExceptionOut,
    tags=["schedules"],
    summary="Add leave or a holiday (`unavailable`) or one-off `extra` hours",
    description="For the schedule's specialist and its organisation's coordinators (others: "
    "403). Times carry their offset; a span of at most 366 days. Appointments already booked "
    "inside an `unavailable` span are kept: cancel or move them separately.",
    responses=problem_responses(401, 403, 404, 422),
)
async def add_exception(
    schedule_id: uuid.UUID,
    body: ExceptionCreate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
) -> ExceptionOut:
    schedule, exception = await schedules.add_exception(uow, principal, schedule_id, body, now)
    return exception_out(exception, schedule.timezone)


@router.get(
    "/schedules/{schedule_id}/exceptions",
    response_model=list[ExceptionOut],
    tags=["schedules"],
    summary="A schedule's exceptions",
    description="For any signed-in caller, by start; each also in the schedule's local time "
    "(`local`). An unknown schedule is a 404.",
    responses=READ_ERRORS,
)
async def list_exceptions(
    schedule_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[ExceptionOut]:
    schedule, found = await schedules.list_exceptions(uow, schedule_id)
    return [exception_out(exception, schedule.timezone) for exception in found]


@router.delete(
    "/schedules/{schedule_id}/exceptions/{exception_id}",
    status_code=204,
    tags=["schedules"],
    summary="Remove an exception",
    description="For the schedule's specialist and its organisation's coordinators (others: "
    "403); the hours it covered are bookable again as the weekly pattern says. An exception "
    "not of this schedule is a 404.",
    responses=READ_ERRORS,
)
async def delete_exception(
    schedule_id: uuid.UUID,
    exception_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> Response:
    await schedules.delete_exception(uow, principal, schedule_id, exception_id)
    return Response(status_code=204)
