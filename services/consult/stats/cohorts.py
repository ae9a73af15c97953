"""The figures read from the cases, appeals, resolutions, callbacks and monitoring themselves:
each day's cohorts (what the roll-up stores and what is read live for days not rolled up yet)
and the figures of the moment (overdue now, patients under monitoring now).

A day's cohort is what arrived that day in the reporting time zone: the cases submitted, the
appeals received and the callbacks those appeals needed. What later happens to them counts for
that day: first responses, conclusions and resolutions, deadlines met or missed.
"""

import functools
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Text,
    and_,
    cast,
    distinct,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Role
from services.consult.appeals.enums import (
    OPEN_APPEAL_STATUSES,
    AppealChannel,
    AppealEventKind,
    AppealStatus,
    CallbackStatus,
    ResolutionAction,
    ResolutionResult,
)
from services.consult.appeals.models import Appeal, AppealEvent, Callback, Resolution
from services.consult.cases.enums import OPEN_STATUSES, CaseStatus
from services.consult.cases.models import Case, Message, is_open
from services.consult.monitoring.enums import EnrolmentStatus
from services.consult.monitoring.models import Enrolment, Task
from services.consult.stats.tally import Metric, Tally

M = Metric
OPEN_APPEALS = sorted(OPEN_APPEAL_STATUSES)
# Said of every appeal: with it PostgreSQL reads a due-date range on `ix_appeals_status_due`
# when no region narrows the appeals to `ix_appeals_region_queue`.
ANY_APPEAL_STATUS = sorted(AppealStatus)
# The answers a patient gets: taken up, resolved, told where to go, or closed by an operator
# (a patient's own withdrawal answers nothing).
APPEAL_RESPONSES = (AppealEventKind.TAKEN, AppealEventKind.RESOLVED, AppealEventKind.REDIRECTED)
# Rows fetched at a time: a year read live (before the roll-up has caught up) is half a
# million appeals, which the process must not hold at once.
STREAMED = 10_000
CHANNEL_METRICS = {
    AppealChannel.PHONE: M.APPEALS_BY_PHONE,
    AppealChannel.CHAT: M.APPEALS_BY_CHAT,
    AppealChannel.WEB: M.APPEALS_BY_WEB,
    AppealChannel.API: M.APPEALS_BY_API,
}
# What resolutions say was done, and with what result: a metric each (a vocabulary's new word
# without its metric fails here, at import).
ACTION_METRICS = {action: Metric(f"action.{action.value}") for action in ResolutionAction}
RESULT_METRICS = {result: Metric(f"result.{result.value}") for result in ResolutionResult}
# What the figures also give day by day: the hotline's volume.
DAILY_METRICS = tuple(CHANNEL_METRICS.values())
Columns = TypeVarTuple("Columns")


class Key(NamedTuple):
    region: str
    organization_id: uuid.UUID | None  # None: an appeal nobody has been routed yet
    specialty: str  # "" for appeals and callbacks, which have none


@dataclass(frozen=True)
class Scope:
    """Whose figures: one region, organisation or specialty, or any where None."""

    region: str | None = None
    organization_id: uuid.UUID | None = None
    specialty: str | None = None


@dataclass(frozen=True)
class Days:
    """Consecutive days of the reporting time zone, both ends included."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def each(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def consecutive(days: list[date], zone: ZoneInfo) -> Iterator[Days]:
    """`days` (sorted) as runs of consecutive days."""
    run: list[date] = []
    for day in days:
        if run and day != run[-1] + timedelta(days=1):
            yield Days(run[0], run[-1], zone)
            run = []
        run.append(day)
    if run:
        yield Days(run[0], run[-1], zone)


@dataclass
class Cohorts:
    now: datetime  # what is still open is late if due before this
    tallies: defaultdict[tuple[date, Key], Tally] = field(
        default_factory=lambda: defaultdict(Tally)
    )
    open_days: set[date] = field(default_factory=set)  # with something still open

    def of(self, day: date, key: Key) -> Tally:
        return self.tallies[(day, key)]


async def plan_each_period(session: AsyncSession) -> None:
    """Has PostgreSQL plan each read for its own bounds. The same statements read a day (the
    live part of a request) and a month or more (the roll-up catching up, a request while it
    has not): after a few executions PostgreSQL may settle on a generic plan, and then the
    day's read walks what the year's needed, ten times slower."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def _streamed(session: AsyncSession, query: Select[*Columns]) -> AsyncIterator[Row[*Columns]]:
    """The rows, `STREAMED` at a time (a row at a time costs a greenlet switch each)."""
    result = await session.stream(query.execution_options(yield_per=STREAMED))
    async for rows in result.partitions():
        for row in rows:
            yield row


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def _first_specialist_message() -> ColumnElement[datetime]:
    query = select(func.min(Message.created_at)).where(
        Message.case_id == Case.id, Message.author_role == Role.SPECIALIST.value
    )
    return query.scalar_subquery()


def _first_appeal_response() -> ColumnElement[datetime]:
    by_operator = and_(
        AppealEvent.kind == AppealEventKind.CLOSED, AppealEvent.actor_role == Role.COORDINATOR.value
    )
    query = select(func.min(AppealEvent.at)).where(
        AppealEvent.appeal_id == Appeal.id,
        or_(AppealEvent.kind.in_(APPEAL_RESPONSES), by_operator),
    )
    return query.scalar_subquery()


def case_scope(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = []
    if scope.region is not None:
        conditions.append(Case.region == scope.region)
    if scope.organization_id is not None:
        conditions.append(Case.target_organization_id == scope.organization_id)
    if scope.specialty is not None:
        conditions.append(Case.specialty == scope.specialty)
    return conditions


def appeal_scope(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = []
    if scope.region is not None:
        conditions.append(Appeal.region == scope.region)
    if scope.organization_id is not None:
        conditions.append(Appeal.organization_id == scope.organization_id)
    return conditions


def _received(days: Days, scope: Scope) -> list[ColumnElement[bool]]:
    """The appeals received in `days` within `scope`'s region and organisation."""
    conditions = [
        Appeal.received_at >= days.start,
        Appeal.received_at < days.end,
        # Redundant, as an appeal is never due before it came; said so that an index on the
        # deadline reads a recent period's appeals without walking the whole history.
        Appeal.due_at >= days.start,
    ]
    if scope.region is None:
        conditions.append(Appeal.status.in_(ANY_APPEAL_STATUS))
    return conditions + appeal_scope(scope)


async def _read_cases(session: AsyncSession, scope: Scope, days: Days, cohorts: Cohorts) -> None:
    query = select(
        Case.region,
        Case.target_organization_id,
        Case.specialty,
        Case.submitted_at,
        Case.status,
        Case.due_at,
        Case.accepted_at,
        Case.concluded_at,
        Case.closed_at,
        _first_specialist_message(),
    ).where(
        Case.submitted_at >= days.start,
        Case.submitted_at < days.end,
        Case.due_at >= days.start,  # as for appeals: a case's deadline runs from submission
        *case_scope(scope),
    )
    async for row in _streamed(session, query):
        region, target, specialty, submitted, status, due, accepted, concluded, closed, said = row
        assert submitted is not None  # the query reads submitted cases only
        day = days.day_of(submitted)
        tally = cohorts.of(day, Key(region, target, specialty))
        tally.count(M.CASES_SUBMITTED)
        declined = closed if status is CaseStatus.DECLINED else None
        answers = [moment for moment in (accepted, said, declined) if moment is not None]
        if answers:
            tally.measure(M.CASE_FIRST_RESPONSE, _seconds(submitted, min(answers)))
        if concluded is not None:
            tally.count(M.CASES_CONCLUDED)
            tally.measure(M.CASE_CONCLUSION, _seconds(submitted, concluded))
            tally.count(M.CASES_ON_TIME if concluded <= due else M.CASES_LATE)
        elif status in OPEN_STATUSES:
            cohorts.open_days.add(day)
            if due < cohorts.now:
                tally.count(M.CASES_LATE)


@functools.cache
def _actions(stored: str) -> tuple[Metric, ...]:
    """The metrics of a resolution's actions as stored, each once."""
    return tuple(
        ACTION_METRICS[ResolutionAction(action)] for action in dict.fromkeys(json.loads(stored))
    )


async def _read_appeals(session: AsyncSession, scope: Scope, days: Days, cohorts: Cohorts) -> None:
    escalated = exists().where(
        AppealEvent.appeal_id == Appeal.id, AppealEvent.kind == AppealEventKind.ESCALATED
    )
    query = select(
        Appeal.region,
        Appeal.organization_id,
        Appeal.received_at,
        Appeal.channel,
        Appeal.status,
        Appeal.due_at,
        Appeal.resolved_at,
        Appeal.first_contact_resolution,
        _first_appeal_response(),
        escalated,
        # As stored (JSON text): the few distinct lists are parsed once each (`_actions`).
        cast(Resolution.actions, Text),
        Resolution.result,
    )
    # In the same pass: a query of its own streams every resolved appeal again, which made a
    # year's live read half as slow again.
    query = query.outerjoin(Resolution, Resolution.appeal_id == Appeal.id)
    async for row in _streamed(session, query.where(*_received(days, scope))):
        (
            region,
            organization_id,
            received,
            channel,
            status,
            due,
            resolved,
            first_contact,
            answered,
            up,
            actions,
            result,
        ) = row
        day = days.day_of(received)
        tally = cohorts.of(day, Key(region, organization_id, ""))
        tally.count(M.APPEALS_RECEIVED)
        tally.count(CHANNEL_METRICS[channel])
        if answered is not None:
            tally.measure(M.APPEAL_FIRST_RESPONSE, _seconds(received, answered))
        if up:
            tally.count(M.APPEALS_ESCALATED)
        if resolved is not None:
            tally.count(M.APPEALS_RESOLVED)
            tally.measure(M.APPEAL_RESOLUTION, _seconds(received, resolved))
            tally.count(M.APPEALS_ON_TIME if resolved <= due else M.APPEALS_LATE)
            if first_contact:
                tally.count(M.APPEALS_FIRST_CONTACT)
            if result is not None:  # what was done, for those resolved since it is recorded
                tally.count(RESULT_METRICS[result])
                for metric in _actions(actions):
                    tally.count(metric)
        elif status in OPEN_APPEAL_STATUSES:
            cohorts.open_days.add(day)
            if due < cohorts.now:
                tally.count(M.APPEALS_LATE)


async def _read_callbacks(
    session: AsyncSession, scope: Scope, days: Days, cohorts: Cohorts
) -> None:
    """The callbacks of the days' appeals, each for the organisation that owes the call."""
    query = (
        select(
            Appeal.received_at,
            Callback.region,
            Callback.organization_id,
            Callback.status,
            Callback.due_at,
            Callback.closed_at,
        )
        .join(Appeal, Appeal.id == Callback.appeal_id)
        .where(*_received(days, Scope(region=scope.region)))
        .where(Callback.status != CallbackStatus.CANCELLED)
    )
    if scope.organization_id is not None:
        query = query.where(Callback.organization_id == scope.organization_id)
    async for row in _streamed(session, query):
        received, region, organization_id, status, due, closed = row
        day = days.day_of(received)
        tally = cohorts.of(day, Key(region, organization_id, ""))
        tally.count(M.CALLBACKS_OWED)
        if status is CallbackStatus.PENDING:
            cohorts.open_days.add(day)
            if due < cohorts.now:
                tally.count(M.CALLBACKS_LATE)
        elif closed is not None:
            if status is CallbackStatus.REACHED:
                tally.count(M.CALLBACKS_REACHED)
            elif status is CallbackStatus.FAILED:
                tally.count(M.CALLBACKS_FAILED)
            # Settled by its last call (reached, or the last attempt allowed): on time if that
            # call came by the due time then in force; a retry moves the due time on.
            tally.count(M.CALLBACKS_ON_TIME if closed <= due else M.CALLBACKS_LATE)


async def read_cohorts(session: AsyncSession, scope: Scope, days: Days, now: datetime) -> Cohorts:
    """The tallies of each day's cohort within `scope`, as things stand at `now`. Appeals and
    callbacks have no specialty: a scope naming one leaves them out."""
    await plan_each_period(session)
    cohorts = Cohorts(now=now)
    await _read_cases(session, scope, days, cohorts)
    if scope.specialty is None:
        await _read_appeals(session, scope, days, cohorts)
        await _read_callbacks(session, scope, days, cohorts)
    return cohorts


async def read_overdue(session: AsyncSession, scope: Scope, now: datetime) -> dict[Key, Tally]:
    """Open cases and appeals past their deadline at `now`, whenever they came."""
    tallies: defaultdict[Key, Tally] = defaultdict(Tally)
    cases = (
        select(Case.region, Case.target_organization_id, Case.specialty, func.count())
        .where(is_open(Case.status), Case.due_at < now, *case_scope(scope))
        .group_by(Case.region, Case.target_organization_id, Case.specialty)
    )
    for region, target, specialty, count in await session.execute(cases):
        tallies[Key(region, target, specialty)].count(M.CASES_OVERDUE_NOW, count)
    if scope.specialty is not None:
        return tallies
    appeals = (
        select(Appeal.region, Appeal.organization_id, func.count())
        .where(Appeal.status.in_(OPEN_APPEALS), Appeal.due_at < now, *appeal_scope(scope))
        .group_by(Appeal.region, Appeal.organization_id)
    )
    for region, organization, count in await session.execute(appeals):
        tallies[Key(region, organization, "")].count(M.APPEALS_OVERDUE_NOW, count)
    return tallies


async def read_monitoring(
    session: AsyncSession, organization_id: uuid.UUID | None, days: Days
) -> dict[uuid.UUID, Tally]:
    """Per organisation: patients under monitoring now and at any time of `days`, and the urgent
    tasks (home visits, ambulances) that worsening check-ins arranged in `days`. Enrolments
    name no region: the caller keeps the organisations of the region it wants."""
    patients = func.count(distinct(Enrolment.patient_reference))
    discharged_since = or_(Enrolment.discharged_at.is_(None), Enrolment.discharged_at >= days.start)
    reads = [
        (
            M.PATIENTS_MONITORED_NOW,
            Enrolment.organization_id,
            select(Enrolment.organization_id, patients).where(
                Enrolment.status == EnrolmentStatus.ACTIVE
            ),
        ),
        (
            M.PATIENTS_MONITORED,
            Enrolment.organization_id,
            select(Enrolment.organization_id, patients).where(
                Enrolment.enrolled_at < days.end, discharged_since
            ),
        ),
        (
            M.MONITORING_ESCALATIONS,
            Task.organization_id,
            select(Task.organization_id, func.count()).where(
                Task.created_at >= days.start, Task.created_at < days.end
            ),
        ),
    ]
    tallies: defaultdict[uuid.UUID, Tally] = defaultdict(Tally)
    for metric, owner, query in reads:
        if organization_id is not None:
            query = query.where(owner == organization_id)
        for organization, count in await session.execute(query.group_by(owner)):
            tallies[organization].count(metric, count)
    return tallies
