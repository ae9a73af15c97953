"""When a consultation is due (from urgency, submission time and the target organisation's
hours), and the job that announces a deadline coming close."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import select, update

from gateway.client import Organization
from services.common.audit import AuditTables
from services.common.db import Database
from services.common.jobs import periodic_job
from services.common.outbox import EventType
from services.common.uow import standalone_unit_of_work
from services.consult.cases.enums import CaseStatus
from services.consult.cases.events import case_event
from services.consult.cases.models import Case, is_open
from services.consult.cases.settings import CasesSettings, DeadlinePolicy
from services.consult.cases.transitions import RESOURCE
from services.consult.values import Urgency

WARNING_BATCH = 500


def _closing_time(organization: Organization, day: date) -> datetime:
    """The close of the first working day on or after `day`, in the organisation's zone."""
    zone = ZoneInfo(organization.timezone)
    hours = {entry.weekday: entry.closes for entry in organization.working_hours}
    for offset in range(7):
        candidate = day + timedelta(days=offset)
        closes = hours.get(candidate.weekday())
        if closes is not None:
            return datetime.combine(candidate, closes, tzinfo=zone)
    # An organisation with no published hours: the end of that local day is the fairest bound.
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def compute_due_at(
    urgency: Urgency,
    submitted_at: datetime,
    organization: Organization,
    policy: DeadlinePolicy,
) -> datetime:
    """Emergency and urgent cases run on the clock; planned ones end a working day later on.

    A planned case is due at the close of the target organisation's working day on the
    submission's local date plus `policy.planned_days`, moved to the next working day when
    that day has no hours. Local dates and closing times come from the organisation's IANA
    zone, so daylight-saving changes and Russia's eleven zones come out right.
    """
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    if urgency is Urgency.EMERGENCY:
        return (submitted_at + policy.emergency).astimezone(UTC)
    if urgency is Urgency.URGENT:
        return (submitted_at + policy.urgent).astimezone(UTC)
    local_date = submitted_at.astimezone(ZoneInfo(organization.timezone)).date()
    target_day = local_date + timedelta(days=policy.planned_days)
    return _closing_time(organization, target_day).astimezone(UTC)


async def warn_deadlines(
    database: Database, audit_tables: AuditTables, lead: timedelta, now: datetime
) -> int:
    """Announces `case.deadline_soon` for the open cases due within `lead` from `now`, once
    per case; returns how many. A case waiting on its requester (information requested) is
    left until it is back with the specialist; one already overdue is not "soon"."""
    async with standalone_unit_of_work(database, audit_tables) as uow:
        query = (
            select(Case)
            .where(
                is_open(Case.status),
                Case.status != CaseStatus.INFO_REQUESTED,
                Case.deadline_warned_at.is_(None),
                Case.due_at > now,
                Case.due_at <= now + lead,
            )
            .order_by(Case.due_at)
            .limit(WARNING_BATCH)
        )
        found = {case.id: case for case in await uow.session.scalars(query)}
        if not found:
            return 0
        # Marked through the table, not the mapped case, so `version` (the editors' If-Match)
        # stays; the condition lets one of two runs at once (two replicas) announce each case.
        cases = Case.metadata.tables[Case.__tablename__]
        marked = await uow.session.scalars(
            update(cases)
            .where(cases.c.id.in_(found), cases.c.deadline_warned_at.is_(None))
            .values(deadline_warned_at=now)
            .returning(cases.c.id)
        )
        warned = [found[case_id] for case_id in marked]
        for case in sorted(warned, key=lambda case: (case.due_at, case.id)):
            await case_event(uow, EventType.CASE_DEADLINE_SOON, case)
            uow.audit.record("case.deadline_warn", RESOURCE, case.id)
    return len(warned)


@asynccontextmanager
async def deadline_jobs(app: FastAPI, settings: CasesSettings) -> AsyncIterator[None]:
    """For the app's lifetime: the deadline warnings. The clock is read through `app.state`
    on every run, so tests can move time."""
    lead = timedelta(minutes=settings.deadline_warning_minutes)

    async def warn() -> None:
        await warn_deadlines(app.state.database, app.state.audit_tables, lead, app.state.clock())

    async with periodic_job(
        "consult-deadline-warnings",
        settings.deadline_warning_interval_seconds,
        warn,
        tracing=app.state.tracing,
    ):
        yield
