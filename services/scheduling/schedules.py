"""Keeping schedules: a specialist's own or a room's, their weekly hours and their exceptions."""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.client import Organization
from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.uow import UnitOfWork
from services.scheduling.access import manages_schedule
from services.scheduling.enums import ScheduleKind, VisitType
from services.scheduling.models import Schedule, ScheduleException
from services.scheduling.schemas import (
    ExceptionCreate,
    ScheduleCreate,
    ScheduleSettingsIn,
    minutes,
)
from services.scheduling.service import audit
from services.scheduling.timeplan import Plan, VisitSpec, WeeklyHours

OrganizationLookup = Callable[[uuid.UUID], Awaitable[Organization]]
RESOURCE = "schedule"
MAX_LIST = 500


def plan_of(schedule: Schedule) -> Plan:
    return Plan(
        zone=ZoneInfo(schedule.timezone),
        weekly=tuple(
            WeeklyHours(hours["weekday"], minutes(hours["start"]), minutes(hours["end"]))
            for hours in schedule.weekly_hours
        ),
        step=schedule.slot_step_minutes * 60,
        min_notice=schedule.min_notice_minutes * 60,
        horizon=schedule.horizon_days * 86400,
    )


def visit_of(schedule: Schedule, visit_type: VisitType) -> VisitSpec | None:
    for config in schedule.visit_types:
        if config["type"] == visit_type.value:
            return VisitSpec(
                type=visit_type,
                duration=config["duration_minutes"] * 60,
                buffer_before=config.get("buffer_before_minutes", 0) * 60,
                buffer_after=config.get("buffer_after_minutes", 0) * 60,
            )
    return None


def _apply(schedule: Schedule, data: ScheduleSettingsIn) -> None:
    schedule.weekly_hours = [hours.model_dump() for hours in data.weekly_hours]
    schedule.visit_types = [config.model_dump(mode="json") for config in data.visit_types]
    schedule.slot_step_minutes = data.slot_step_minutes
    schedule.min_notice_minutes = data.min_notice_minutes
    schedule.horizon_days = data.horizon_days


async def create_schedule(
    uow: UnitOfWork,
    principal: Principal,
    data: ScheduleCreate,
    organizations: OrganizationLookup,
) -> Schedule:
    """A specialist's own schedule (one each), or a room's, created by a coordinator."""
    organization_id = principal.organization_id
    try:
        if data.kind is ScheduleKind.PRACTITIONER:
            if principal.role is not Role.SPECIALIST or not principal.specialty:
                raise Forbidden("Specialists create their own schedules.")
        elif principal.role is not Role.COORDINATOR:
            raise Forbidden("Coordinators create the schedules of their organisation's rooms.")
        if organization_id is None:
            raise Forbidden("Only staff of an organisation keep schedules.")
    except Forbidden as error:
        uow.audit.refuse("schedule.create", RESOURCE, None, error)
    if data.kind is ScheduleKind.ROOM and not data.name:
        raise Unprocessable("A room's schedule needs a name.")
    organization = await organizations(organization_id)
    practitioner = principal.subject if data.kind is ScheduleKind.PRACTITIONER else None
    schedule = Schedule(
        id=uuid.uuid4(),
        kind=data.kind,
        practitioner_id=practitioner,
        name=data.name or principal.username,
        organization_id=organization_id,
        specialty=principal.specialty if practitioner else None,
        timezone=organization.timezone,
        created_by=principal.subject,
    )
    _apply(schedule, data)
    uow.session.add(schedule)
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        raise Conflict("You already have a schedule; change it instead.") from exc
    audit(uow, "schedule.create", schedule.id, resource=RESOURCE)
    return schedule


async def get_schedule(uow: UnitOfWork, schedule_id: uuid.UUID) -> Schedule:
    schedule = await uow.session.get(Schedule, schedule_id)
    if schedule is None:
        raise NotFound("No schedule with this id.")
    return schedule


async def list_schedules(
    uow: UnitOfWork,
    *,
    specialty: str | None,
    organization_id: uuid.UUID | None,
    kind: ScheduleKind | None,
) -> Sequence[Schedule]:
    query = select(Schedule).order_by(Schedule.name, Schedule.id).limit(MAX_LIST)
    if specialty:
        query = query.where(Schedule.specialty == specialty)
    if organization_id:
        query = query.where(Schedule.organization_id == organization_id)
    if kind:
        query = query.where(Schedule.kind == kind)
    return (await uow.session.scalars(query)).all()


async def _managed(
    uow: UnitOfWork, principal: Principal, schedule_id: uuid.UUID, action: str
) -> Schedule:
    schedule = await get_schedule(uow, schedule_id)
    if not manages_schedule(principal, schedule):
        uow.audit.refuse(
            action,
            RESOURCE,
            schedule.id,
            Forbidden("Only the schedule's owner and its organisation's coordinators change it."),
        )
    return schedule


async def update_schedule(
    uow: UnitOfWork,
    principal: Principal,
    schedule_id: uuid.UUID,
    data: ScheduleSettingsIn,
    name: str | None,
    organizations: OrganizationLookup,
) -> Schedule:
    """Replaces the hours and policies; booked appointments stay as they are. The zone is read
    again from the directory, in case the organisation's changed."""
    schedule = await _managed(uow, principal, schedule_id, "schedule.update")
    schedule.timezone = (await organizations(schedule.organization_id)).timezone
    _apply(schedule, data)
    if name:
        schedule.name = name
    await uow.session.flush()
    audit(uow, "schedule.update", schedule.id, resource=RESOURCE)
    return schedule


async def add_exception(
    uow: UnitOfWork,
    principal: Principal,
    schedule_id: uuid.UUID,
    data: ExceptionCreate,
    now: datetime,
) -> tuple[Schedule, ScheduleException]:
    schedule = await _managed(uow, principal, schedule_id, "schedule.exception.create")
    exception = ScheduleException(
        id=uuid.uuid4(),
        schedule_id=schedule.id,
        kind=data.kind,
        starts_at=data.start,
        ends_at=data.end,
        reason=data.reason,
        created_by=principal.subject,
        created_at=now,
    )
    uow.session.add(exception)
    await uow.session.flush()
    audit(uow, "schedule.exception.create", schedule.id, resource=RESOURCE)
    return schedule, exception


async def list_exceptions(
    uow: UnitOfWork, schedule_id: uuid.UUID
) -> tuple[Schedule, Sequence[ScheduleException]]:
    schedule = await get_schedule(uow, schedule_id)
    query = (
        select(ScheduleException)
        .where(ScheduleException.schedule_id == schedule.id)
        .order_by(ScheduleException.starts_at)
        .limit(MAX_LIST)
    )
    return schedule, (await uow.session.scalars(query)).all()


async def delete_exception(
    uow: UnitOfWork, principal: Principal, schedule_id: uuid.UUID, exception_id: uuid.UUID
) -> None:
    schedule = await _managed(uow, principal, schedule_id, "schedule.exception.delete")
    exception = await uow.session.get(ScheduleException, exception_id)
    if exception is None or exception.schedule_id != schedule.id:
        raise NotFound("No such exception on this schedule.")
    await uow.session.delete(exception)
    await uow.session.flush()
    audit(uow, "schedule.exception.delete", schedule.id, resource=RESOURCE)
