"""Figures for coordinators and administrators: who may see which, and a period's figures made
of its rolled-up days, the days read live and the figures of the moment.

A coordinator sees their own region's figures (another region's are refused, 403, as are
the figures of an organisation of another region); an administrator sees every region's.
Nobody else sees figures. Every read and refusal is audited.

Days are each organisation's own (`zones.py`): one organisation's figures count the days of
its zone, and so does each organisation's group of figures per organisation; only the totals
across organisations, their days and the groups that are not one organisation's (specialties,
appeals not routed yet) count the deployment's.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, MutableSet
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal, Role
from services.common.errors import Forbidden, NotFound, ProblemError, Unprocessable
from services.common.uow import UnitOfWork
from services.consult.ports import OrganizationLookup
from services.consult.scopes import require_scope
from services.consult.stats.articles import read_articles
from services.consult.stats.cohorts import (
    DAILY_METRICS,
    Days,
    Key,
    Scope,
    consecutive,
    read_cohorts,
    read_monitoring,
    read_overdue,
)
from services.consult.stats.figures import by_channel, stats_group
from services.consult.stats.rollup import read_rolled
from services.consult.stats.schemas import (
    ArticleFiguresOut,
    GroupBy,
    HotlineDay,
    StatsGroup,
    StatsOut,
    ZoneOf,
)
from services.consult.stats.settings import StatsSettings
from services.consult.stats.tally import Tally
from services.consult.stats.zones import organization_zones, organizations_near

RESOURCE = "consult_stats"
ACTION = "stats.read"
MAX_DAYS = 366
# Days the figures may be asked for: far enough either way for any record, near enough that a
# period's bounds stay valid dates.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
Group = TypeVar("Group", bound=Hashable)


@dataclass(frozen=True)
class StatsQuery:
    first: date | None = None
    last: date | None = None
    group_by: GroupBy = GroupBy.ORGANIZATION
    region: str | None = None
    organization_id: uuid.UUID | None = None
    specialty: str | None = None


def window(
    settings: StatsSettings, now: datetime, last: date | None = None, zone: ZoneInfo | None = None
) -> Days:
    """`stats_window_days` of `zone` (the deployment's by default) up to `last` (today
    there by default): the default period and the gauges' window."""
    zone = zone or settings.stats_timezone
    last = last or now.astimezone(zone).date()
    return Days(last - timedelta(days=settings.stats_window_days - 1), last, zone)


def _period(query: StatsQuery, zone: ZoneInfo, settings: StatsSettings, now: datetime) -> Days:
    for day in (query.first, query.last):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise Unprocessable(f"Figures are of days from {EARLIEST} to {LATEST}.")
    days = window(settings, now, query.last, zone)
    first = query.first or days.first
    if first > days.last:
        raise Unprocessable("The period's first day (`from`) is after its last (`to`).")
    if (days.last - first).days >= MAX_DAYS:
        raise Unprocessable(f"A period is {MAX_DAYS} days at most.")
    return Days(first, days.last, days.zone)


async def _scope(
    principal: Principal, query: StatsQuery, organizations: OrganizationLookup
) -> Scope:
    require_scope(principal, write=False)
    if principal.role is Role.ADMIN:
        return Scope(query.region, query.organization_id, query.specialty)
    region = principal.region
    if principal.role is not Role.COORDINATOR or region is None:
        raise Forbidden("The figures are for coordinators and administrators.")
    if query.region not in {None, region}:
        raise Forbidden("A coordinator sees the figures of their own region only.")
    if query.organization_id is not None:
        organization = await organizations(query.organization_id)
        if organization.region != region:
            raise Forbidden("A coordinator sees the figures of their own region's organisations.")
    return Scope(region, query.organization_id, query.specialty)


async def _zone(
    scope: Scope, organizations: OrganizationLookup, settings: StatsSettings
) -> tuple[ZoneInfo, ZoneOf]:
    """The one organisation's zone, or the deployment's across organisations."""
    if scope.organization_id is None:
        return settings.stats_timezone, ZoneOf.DEPLOYMENT
    organization = await organizations(scope.organization_id)
    return ZoneInfo(organization.timezone), ZoneOf.ORGANIZATION


async def period_tallies(
    session: AsyncSession,
    scope: Scope,
    days: Days,
    now: datetime,
    daily: defaultdict[date, Tally] | None = None,
) -> defaultdict[Key, Tally]:
    """The period's cohorts (rolled up where they are, read live where not) and what is
    overdue now, by region, organisation and specialty; with `daily`, also each day's
    `DAILY_METRICS` there, the keys summed."""
    rolled = await read_rolled(session, scope, days)
    tallies: defaultdict[Key, Tally] = defaultdict(Tally)
    for key, tally in rolled.tallies.items():
        tallies[key].merge(tally)
    if daily is not None:
        for day, tally in rolled.daily.items():
            daily[day].merge(tally)
    live = [day for day in days.each() if day not in rolled.covered]
    for run in consecutive(live, days.zone):
        for (day, key), tally in (await read_cohorts(session, scope, run, now)).tallies.items():
            tallies[key].merge(tally)
            if daily is not None:
                for metric in DAILY_METRICS:
                    daily[day].count(metric, tally.counts[metric])
    for key, tally in (await read_overdue(session, scope, now)).items():
        tallies[key].merge(tally)
    return tallies


async def _monitoring(
    session: AsyncSession, scope: Scope, days: Days, organizations: OrganizationLookup
) -> dict[Key, Tally]:
    """The monitoring of the scope's organisations. Enrolments name no region: the directory
    says whose region each organisation is."""
    tallies = {}
    for organization_id, tally in (
        await read_monitoring(session, scope.organization_id, days)
    ).items():
        region = ""
        if scope.region is not None:
            try:
                region = (await organizations(organization_id)).region
            except NotFound:  # gone from the directory: nobody's region any more
                continue
            if region != scope.region:
                continue
        tallies[Key(region, organization_id, "")] = tally
    return tallies


def group(tallies: Mapping[Key, Tally], by: Callable[[Key], Group]) -> dict[Group, Tally]:
    """The tallies summed by `by` of their keys."""
    groups: defaultdict[Group, Tally] = defaultdict(Tally)
    for key, tally in tallies.items():
        groups[by(key)].merge(tally)
    return groups


def _groups(
    tallies: Mapping[Key, Tally],
    by: GroupBy,
    scope: Scope,
    zone: ZoneInfo,
    zones: Mapping[uuid.UUID, ZoneInfo],
) -> list[StatsGroup]:
    """The groups, each organisation's in its zone of `zones` (`zone` where none)."""
    if by is GroupBy.SPECIALTY:
        cases = {key: tally for key, tally in tallies.items() if key.specialty}
        specialties = group(cases, lambda key: key.specialty)
        return [
            stats_group(specialties[name], None, name, zone, cases_only=True)
            for name in sorted(specialties)
        ]
    organizations = group(tallies, lambda key: key.organization_id)
    # Appeals nobody has been routed yet come last.
    order = sorted(organizations, key=lambda chosen: (chosen is None, str(chosen)))
    cases_only = scope.specialty is not None
    return [
        stats_group(
            organizations[chosen],
            chosen,
            None,
            zones.get(chosen, zone) if chosen else zone,
            cases_only=cases_only,
        )
        for chosen in order
    ]


async def _tallies(
    uow: UnitOfWork,
    scope: Scope,
    days: Days,
    now: datetime,
    organizations: OrganizationLookup,
    daily: defaultdict[date, Tally] | None = None,
) -> defaultdict[Key, Tally]:
    """`period_tallies`, and the monitoring unless a specialty is asked for."""
    tallies = await period_tallies(uow.session, scope, days, now, daily)
    if scope.specialty is None:
        try:
            monitoring = await _monitoring(uow.session, scope, days, organizations)
        except ProblemError as error:  # the directory could not say whose region
            uow.audit.refuse(ACTION, RESOURCE, None, error)
        for key, tally in monitoring.items():
            tallies[key].merge(tally)
    return tallies


async def _own_days(
    uow: UnitOfWork,
    scope: Scope,
    days: Days,
    now: datetime,
    organizations: OrganizationLookup,
    tallies: Mapping[Key, Tally],
    asked: MutableSet[str],
    *,
    to_today: bool,
) -> tuple[dict[Key, Tally], dict[uuid.UUID, ZoneInfo]]:
    """Each organisation's tallies over the period's days of its own zone (`tallies` are of
    `days`, the deployment's), and the organisations' zones; `to_today` (no last day asked
    for): up to the organisation's own today, which may be the deployment's tomorrow. The
    zones read are noted in `asked`, for the roll-up to keep."""
    named = {key.organization_id for key in tallies if key.organization_id is not None}
    named |= await organizations_near(uow.session, scope, days)
    try:
        zones = await organization_zones(named, organizations, days.zone)
    except ProblemError as error:
        uow.audit.refuse(ACTION, RESOURCE, None, error)
    read: dict[ZoneInfo, Mapping[Key, Tally]] = {days.zone: tallies}
    for zone in sorted(set(zones.values()) - {days.zone}, key=lambda each: each.key):
        asked.add(zone.key)
        last = max(days.last, now.astimezone(zone).date()) if to_today else days.last
        local = Days(days.first, last, zone)
        read[zone] = await _tallies(uow, scope, local, now, organizations)
    own = {
        key: tally
        for zone, found in read.items()
        for key, tally in found.items()
        if (zones.get(key.organization_id, days.zone) if key.organization_id else days.zone) == zone
    }
    return own, zones


async def read_figures(
    uow: UnitOfWork,
    principal: Principal,
    query: StatsQuery,
    organizations: OrganizationLookup,
    settings: StatsSettings,
    now: datetime,
    asked: MutableSet[str],
) -> StatsOut:
    """The figures; the zones they are read in are noted in `asked` (the roll-up's)."""
    try:
        scope = await _scope(principal, query, organizations)
        zone, zone_of = await _zone(scope, organizations, settings)
        days = _period(query, zone, settings, now)
    except ProblemError as error:
        uow.audit.refuse(ACTION, RESOURCE, None, error)
    asked.add(zone.key)
    daily: defaultdict[date, Tally] = defaultdict(Tally)
    tallies = await _tallies(uow, scope, days, now, organizations, daily)
    totals = Tally()
    for tally in tallies.values():
        totals.merge(tally)
    grouped: Mapping[Key, Tally] = tallies
    zones: dict[uuid.UUID, ZoneInfo] = {}
    if zone_of is ZoneOf.DEPLOYMENT and query.group_by is GroupBy.ORGANIZATION:
        grouped, zones = await _own_days(
            uow, scope, days, now, organizations, tallies, asked, to_today=query.last is None
        )
    figures = StatsOut(
        from_=days.first,
        to=days.last,
        timezone=zone.key,
        timezone_of=zone_of,
        region=scope.region,
        group_by=query.group_by,
        generated_at=now,
        totals=stats_group(
            totals,
            scope.organization_id,
            scope.specialty,
            zone,
            cases_only=scope.specialty is not None,
        ),
        groups=_groups(grouped, query.group_by, scope, zone, zones),
        hotline_days=[]
        if scope.specialty is not None
        else [HotlineDay(day=day, by_channel=by_channel(daily[day])) for day in days.each()],
    )
    detail = (
        f"region {scope.region or 'any'}, {days.first}..{days.last} of {zone.key} by "
        f"{query.group_by.value}, organisation {scope.organization_id or 'any'}, "
        f"specialty {scope.specialty or 'any'}"
    )
    uow.audit.record(ACTION, RESOURCE, None, detail=detail)
    return figures


async def read_article_figures(
    uow: UnitOfWork,
    principal: Principal,
    query: StatsQuery,
    organizations: OrganizationLookup,
    settings: StatsSettings,
    now: datetime,
) -> ArticleFiguresOut:
    """First-contact resolution per knowledge-base article, with the figures' periods and
    rights."""
    try:
        scope = await _scope(principal, query, organizations)
        zone, zone_of = await _zone(scope, organizations, settings)
        days = _period(query, zone, settings, now)
    except ProblemError as error:
        uow.audit.refuse(ACTION, RESOURCE, None, error)
    figures = ArticleFiguresOut(
        from_=days.first,
        to=days.last,
        timezone=zone.key,
        timezone_of=zone_of,
        region=scope.region,
        articles=await read_articles(uow.session, scope, days),
    )
    detail = f"articles, region {scope.region or 'any'}, {days.first}..{days.last} of {zone.key}"
    uow.audit.record(ACTION, RESOURCE, None, detail=detail)
    return figures
