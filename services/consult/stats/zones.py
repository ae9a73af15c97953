"""Whose days the figures count: each organisation's own zone for its figures, the deployment's
(`stats_timezone`) for totals across organisations; and the organisations whose own days may
hold what the deployment's days do not.

An organisation's zone is the directory's, looked up with the caller's token (as its opening
hours are): consult keeps no copy of it.
"""

import asyncio
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.common.errors import NotFound
from services.consult.appeals.models import Appeal, Callback
from services.consult.cases.models import Case
from services.consult.monitoring.models import Enrolment, Task
from services.consult.ports import OrganizationLookup
from services.consult.stats.cohorts import Days, Scope, appeal_scope, case_scope

# More than any two zones' clocks differ by (26 hours, from UTC-12 to UTC+14): whatever one
# zone's days hold and another's do not came this near the ends of the period.
MARGIN = timedelta(days=2)


def _near(days: Days, column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """`column` within `MARGIN` of either end of `days`."""
    ends = [(days.start - MARGIN, days.start + MARGIN), (days.end - MARGIN, days.end + MARGIN)]
    return or_(*((column >= start) & (column < end) for start, end in ends))


OrganizationIds = Select[uuid.UUID] | Select[uuid.UUID | None]


def _arrivals(scope: Scope, days: Days) -> list[OrganizationIds]:
    callbacks = (
        select(Callback.organization_id)
        .join(Appeal, Appeal.id == Callback.appeal_id)
        .where(_near(days, Appeal.received_at))
    )
    if scope.region is not None:
        callbacks = callbacks.where(Callback.region == scope.region)
    if scope.organization_id is not None:
        callbacks = callbacks.where(Callback.organization_id == scope.organization_id)
    queries: list[OrganizationIds] = [
        select(Case.target_organization_id).where(
            _near(days, Case.submitted_at), *case_scope(scope)
        )
    ]
    if scope.specialty is None:  # nothing but cases has a specialty
        queries += [
            select(Appeal.organization_id).where(
                _near(days, Appeal.received_at), *appeal_scope(scope)
            ),
            callbacks,
            # Monitoring names no region: the caller keeps its region's organisations.
            select(Enrolment.organization_id).where(
                or_(_near(days, Enrolment.enrolled_at), _near(days, Enrolment.discharged_at))
            ),
            select(Task.organization_id).where(_near(days, Task.created_at)),
        ]
    return queries


async def organizations_near(session: AsyncSession, scope: Scope, days: Days) -> set[uuid.UUID]:
    """The organisations with anything that came near either end of `days` (a few days' rows,
    by the indexes on those times): with those the figures of `days` name, every organisation
    whose own days' figures may differ."""
    found: set[uuid.UUID] = set()
    for query in _arrivals(scope, days):
        found |= {each for each in await session.scalars(query.distinct()) if each is not None}
    return found


async def organization_zones(
    organization_ids: Iterable[uuid.UUID], organizations: OrganizationLookup, deployment: ZoneInfo
) -> dict[uuid.UUID, ZoneInfo]:
    """Each organisation's own zone (the directory's answers are cached, so a region's hundred
    organisations cost a hundred look-ups once, at the same time); the deployment's for one
    gone from the directory. Other problems of the directory propagate."""

    async def zone_of(organization_id: uuid.UUID) -> ZoneInfo:
        try:
            return ZoneInfo((await organizations(organization_id)).timezone)
        except NotFound:
            return deployment

    chosen = list(dict.fromkeys(organization_ids))
    found = await asyncio.gather(*(zone_of(each) for each in chosen))
    return dict(zip(chosen, found, strict=True))
