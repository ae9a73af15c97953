"""Free slots, computed on request from schedules, their exceptions and the booked appointments.

The same working hours decide what is offered and what may be booked: both are read a day
either side of the instants in question, which holds every piece of hours a slot can start in
and run through, and the slot grid is anchored on those pieces (`timeplan.Hours`), so a slot
is on the same grid whatever window was asked.
"""

import heapq
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice, repeat
from typing import Any

from sqlalchemy import BigInteger, Select, and_, bindparam, not_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from services.common.uow import UnitOfWork
from services.scheduling.enums import (
    FREEING_STATUSES,
    AppointmentStatus,
    ExceptionKind,
    VisitType,
)
from services.scheduling.models import Appointment, Schedule, ScheduleException
from services.scheduling.schedules import plan_of, visit_of
from services.scheduling.timeplan import (
    Interval,
    Unbookable,
    VisitSpec,
    bookable_window,
    check_start,
    epoch,
    free_starts,
    instant,
    merge,
    working_hours,
)

DAY = 86400


@dataclass(frozen=True)
class SlotQuery:
    visit_type: VisitType
    start: datetime
    end: datetime
    limit: int
    specialty: str | None = None
    practitioner_id: uuid.UUID | None = None
    schedule_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None


@dataclass(frozen=True)
class FreeSlot:
    schedule: Schedule
    visit: VisitSpec
    start: datetime
    end: datetime


def _schedules(query: SlotQuery) -> Select[Schedule]:
    statement = select(Schedule).order_by(Schedule.id)
    if query.specialty:
        statement = statement.where(Schedule.specialty == query.specialty)
    if query.practitioner_id:
        statement = statement.where(Schedule.practitioner_id == query.practitioner_id)
    if query.schedule_id:
        statement = statement.where(Schedule.id == query.schedule_id)
    if query.organization_id:
        statement = statement.where(Schedule.organization_id == query.organization_id)
    return statement


# A schedule's (extra, unavailable) exceptions, as epoch-second intervals.
Exceptions = tuple[list[Interval], list[Interval]]


async def exceptions_between(
    uow: UnitOfWork, schedule_ids: Sequence[uuid.UUID], window: Interval
) -> dict[uuid.UUID, Exceptions]:
    """Per schedule, its (extra, unavailable) intervals overlapping `window`."""
    query = select(
        ScheduleException.schedule_id,
        ScheduleException.kind,
        ScheduleException.starts_at,
        ScheduleException.ends_at,
    ).where(
        ScheduleException.schedule_id.in_(schedule_ids),
        ScheduleException.starts_at < instant(window[1]),
        ScheduleException.ends_at > instant(window[0]),
    )
    found: dict[uuid.UUID, Exceptions] = {}
    for schedule_id, kind, starts_at, ends_at in (await uow.session.execute(query)).all():
        extra, unavailable = found.setdefault(schedule_id, ([], []))
        (extra if kind is ExceptionKind.EXTRA else unavailable).append(
            (epoch(starts_at), epoch(ends_at))
        )
    return found


def _schedule_with_exceptions(
    key: InstrumentedAttribute[uuid.UUID] | InstrumentedAttribute[uuid.UUID | None],
) -> Select[Schedule, ExceptionKind, datetime, datetime]:
    """The schedule whose `key` is `:key`, with its exceptions between `:since` and `:until`
    (an outer join: one row with null exceptions if there are none). Built once with bound
    parameters, as building the expression cost more than running it."""
    near = and_(
        ScheduleException.schedule_id == Schedule.id,
        ScheduleException.starts_at < bindparam("until"),
        ScheduleException.ends_at > bindparam("since"),
    )
    return (
        select(
            Schedule,
            ScheduleException.kind,
            ScheduleException.starts_at,
            ScheduleException.ends_at,
        )
        .outerjoin(ScheduleException, near)
        .where(key == bindparam("key"))
    )


BY_PRACTITIONER = _schedule_with_exceptions(Schedule.practitioner_id)
BY_ID = _schedule_with_exceptions(Schedule.id)


async def schedule_near(
    uow: UnitOfWork,
    start: datetime,
    *,
    practitioner_id: uuid.UUID | None,
    schedule_id: uuid.UUID | None,
) -> tuple[Schedule, Exceptions] | None:
    """The practitioner's schedule (else the one with `schedule_id`), with its exceptions from
    a day before `start` to two days after (a visit lasts at most 8 hours, so this holds all
    `why_unbookable` looks at): a booking needs both, and one round trip instead of two."""
    query, key = (
        (BY_ID, schedule_id) if practitioner_id is None else (BY_PRACTITIONER, practitioner_id)
    )
    window = {"key": key, "since": start - timedelta(days=1), "until": start + timedelta(days=2)}
    rows = (await uow.session.execute(query, window)).all()
    if not rows:
        return None
    extra: list[Interval] = []
    unavailable: list[Interval] = []
    for _, kind, starts_at, ends_at in rows:
        if kind is not None:  # else the schedule has none near: the outer join's one empty row
            (extra if kind is ExceptionKind.EXTRA else unavailable).append(
                (epoch(starts_at), epoch(ends_at))
            )
    return rows[0][0], (extra, unavailable)


class epoch_seconds(FunctionElement[int]):  # noqa: N801 - named like the SQL functions
    """A timestamp as whole seconds since the epoch, computed by the database: converting
    thousands of busy spans row by row in Python cost more than the query itself."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


async def busy_between(
    uow: UnitOfWork, schedule_ids: Sequence[uuid.UUID], window: Interval, now: datetime
) -> dict[uuid.UUID, list[Interval]]:
    """Per schedule, the merged buffered spans of appointments holding time in `window`; a
    lapsed hold holds nothing, even before anything has marked it cancelled."""
    lapsed_hold = and_(
        Appointment.status == AppointmentStatus.PROPOSED, Appointment.hold_expires_at <= now
    )
    query = select(
        Appointment.schedule_id,
        epoch_seconds(Appointment.busy_from),
        epoch_seconds(Appointment.busy_until),
    ).where(
        Appointment.schedule_id.in_(schedule_ids),
        Appointment.busy_from < instant(window[1]),
        Appointment.busy_until > instant(window[0]),
        Appointment.status.not_in(FREEING_STATUSES),
        not_(lapsed_hold),
    )
    spans: dict[uuid.UUID, list[Interval]] = {}
    for schedule_id, busy_from, busy_until in (await uow.session.execute(query)).all():
        spans.setdefault(schedule_id, []).append((busy_from, busy_until))
    return {schedule_id: merge(found) for schedule_id, found in spans.items()}


async def find_slots(
    uow: UnitOfWork, query: SlotQuery, now: datetime
) -> tuple[list[FreeSlot], bool]:
    """The first `limit` free slots by (start, schedule id), and whether more follow.

    Bookings are read a stretch of days at a time (one day, then two, four...) and each
    schedule's free starts come out lazily, merged in order, so a page that the first days
    fill never reads or computes the rest of the window: a specialty's fortnight holds
    thousands of bookings and free slots, and a page needs a few hundred."""
    candidates = (await uow.session.scalars(_schedules(query))).all()
    offering = [(s, v) for s in candidates if (v := visit_of(s, query.visit_type)) is not None]
    if not offering:
        return [], False
    low, high = epoch(query.start), epoch(query.end)
    ids = [schedule.id for schedule, _ in offering]
    exceptions = await exceptions_between(uow, ids, (low - DAY, high + DAY))
    now_seconds = epoch(now)
    plans = []
    for schedule, _ in offering:
        plan = plan_of(schedule)
        extra, unavailable = exceptions.get(schedule.id, ([], []))
        hours = working_hours(plan, (low - DAY, high + DAY), extra=extra, unavailable=unavailable)
        plans.append((plan, hours, bookable_window(plan, now_seconds)))
    found: list[tuple[int, int]] = []
    stretch_start, stretch = low, DAY
    while stretch_start < high and len(found) <= query.limit:
        stretch_end = min(high, stretch_start + stretch)
        busy = await busy_between(uow, ids, (stretch_start - DAY, stretch_end + DAY), now)
        streams = []
        for position, (plan, hours, (earliest, latest)) in enumerate(plans):
            window = (max(stretch_start, earliest), min(stretch_end, latest))
            visit, spans = offering[position][1], busy.get(ids[position], [])
            starts = free_starts(plan, visit, hours, spans, window)
            streams.append(zip(starts, repeat(position)))  # each stream tagged by its schedule
        found += islice(heapq.merge(*streams), query.limit + 1 - len(found))
        stretch_start, stretch = stretch_end, stretch * 2
    slots = []
    for start, position in found[: query.limit]:
        schedule, visit = offering[position]
        slots.append(FreeSlot(schedule, visit, instant(start), instant(start + visit.duration)))
    return slots, len(found) > query.limit


async def why_unbookable(
    uow: UnitOfWork,
    schedule: Schedule,
    visit: VisitSpec,
    start: datetime,
    now: datetime,
    near: Exceptions | None = None,
) -> Unbookable | None:
    """Whether `start` is a slot the schedule offers at all, other bookings aside; `near` are
    the schedule's exceptions if they were read with it (`schedule_near`)."""
    seconds = epoch(start)
    padded = (seconds - DAY, seconds + visit.duration + DAY)
    if near is None:
        extra, unavailable = (await exceptions_between(uow, [schedule.id], padded)).get(
            schedule.id, ([], [])
        )
    else:
        low, high = padded
        extra, unavailable = ([(a, b) for a, b in spans if a < high and b > low] for spans in near)
    plan = plan_of(schedule)
    hours = working_hours(plan, padded, extra=extra, unavailable=unavailable)
    return check_start(plan, visit, hours, seconds, epoch(now))
