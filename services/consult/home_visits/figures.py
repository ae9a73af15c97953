"""Figures of a polyclinic's home visits per local day of its own zone: calls, done,
cancelled by reason, done the same day they were called, and the median time to done."""

import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.common.auth import Principal
from services.common.errors import NotFound, Unprocessable
from services.common.uow import UnitOfWork
from services.consult.home_visits.access import RESOURCE, record, visible_polyclinic
from services.consult.home_visits.enums import CancelReason, HomeVisitStatus
from services.consult.home_visits.models import HomeVisit
from services.consult.home_visits.schemas import DayFigures, HomeVisitFigures
from services.consult.ports import OrganizationLookup

MAX_DAYS = 366

Row = tuple[date, HomeVisitStatus, CancelReason | None, datetime, datetime | None, str]


def _day(day: date, rows: list[Row]) -> DayFigures:
    done = [row for row in rows if row[1] is HomeVisitStatus.DONE]
    reasons = Counter(row[2] for row in rows if row[1] is HomeVisitStatus.CANCELLED and row[2])
    same_day = sum(
        1
        for _, _, _, received, done_at, zone in done
        if done_at is not None
        and done_at.astimezone(ZoneInfo(zone)).date() == received.astimezone(ZoneInfo(zone)).date()
    )
    minutes = [
        (done_at - received).total_seconds() / 60
        for _, _, _, received, done_at, _ in done
        if done_at is not None
    ]
    return DayFigures(
        day=day,
        requests=len(rows),
        done=len(done),
        cancelled=sum(reasons.values()),
        cancelled_by_reason=dict(sorted(reasons.items())),
        done_same_day=same_day,
        median_minutes_to_done=round(median(minutes), 1) if minutes else None,
    )


async def figures(
    uow: UnitOfWork,
    principal: Principal,
    organization_id: uuid.UUID,
    first: date,
    last: date,
    organizations: OrganizationLookup,
) -> HomeVisitFigures:
    """Every day of the range, days without calls as zeros, so a chart has no gaps."""
    action = "home_visit.figures"
    hidden = NotFound("No home-visit figures of this organisation are visible to you.")
    if last < first or (last - first).days >= MAX_DAYS:
        uow.audit.refuse(
            action, RESOURCE, None, Unprocessable(f"A range of 1 to {MAX_DAYS} days, in order.")
        )
    polyclinic = await visible_polyclinic(
        uow, principal, organization_id, organizations, action, hidden
    )
    query = select(
        HomeVisit.visit_day,
        HomeVisit.status,
        HomeVisit.cancel_reason,
        HomeVisit.received_at,
        HomeVisit.done_at,
        HomeVisit.timezone,
    ).where(
        HomeVisit.organization_id == polyclinic.id,
        HomeVisit.visit_day >= first,
        HomeVisit.visit_day <= last,
    )
    by_day: dict[date, list[Row]] = defaultdict(list)
    for row in await uow.session.execute(query):
        by_day[row[0]].append(row)
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    record(uow, action, None, f"{polyclinic.id} {first.isoformat()}..{last.isoformat()}")
    return HomeVisitFigures(
        organization_id=polyclinic.id,
        timezone=polyclinic.timezone,
        days=[_day(day, by_day[day]) for day in days],
        total=_day(first, [row for day in days for row in by_day[day]]),
    )
