"""Figures for coordinators and administrators: who may see which, and a period's figures made
of its rolled-up days, the days read live and the figures of the moment.

A coordinator sees their own region's figures (another region's are refused, 403, as are
the figures of an organisation of another region); an administrator sees every region's.
Nobody else sees figures. Every read and refusal is audited.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal, Role
from services.common.errors import Forbidden, NotFound, ProblemError, Unprocessable
from services.common.uow import UnitOfWork
from services.consult.ports import OrganizationLookup
from services.consult.scopes import require_scope
from services.consult.stats.articles import read_articles
from services.consult.stats.cohorts import (
    ACTION_METRICS,
    CHANNEL_METRICS,
    DAILY_METRICS,
    RESULT_METRICS,
    Days,
    Key,
    Scope,
    consecutive,
    read_cohorts,
    read_monitoring,
    read_overdue,
)
from services.consult.stats.rollup import read_rolled
from services.consult.stats.schemas import (
    AppealFigures,
    ArticleFiguresOut,
    CallbackFigures,
    CaseFigures,
    GroupBy,
    HotlineDay,
    MonitoringFigures,
    Percentiles,
    Rate,
    ResolutionFigures,
    StatsGroup,
    StatsOut,
)
from services.consult.stats.settings import StatsSettings
from services.consult.stats.tally import Durations, Metric, Tally

M = Metric
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


def window(settings: StatsSettings, now: datetime, last: date | None = None) -> Days:
    """`stats_window_days` up to `last` (today by default): the default period and the
    gauges' window."""
    zone = settings.stats_timezone
    last = last or now.astimezone(zone).date()
    return Days(last - timedelta(days=settings.stats_window_days - 1), last, zone)


def _period(query: StatsQuery, settings: StatsSettings, now: datetime) -> Days:
    for day in (query.first, query.last):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise Unprocessable(f"Figures are of days from {EARLIEST} to {LATEST}.")
    days = window(settings, now, query.last)
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


def _rate(count: int, of: int) -> Rate:
    return Rate(count=count, of=of, ratio=count / of if of else None)


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)  # to the millisecond


def _percentiles(durations: Durations | None) -> Percentiles:
    durations = durations or Durations()
    return Percentiles(
        measured=durations.count,
        median_seconds=_seconds(durations.quantile(0.5)),
        p90_seconds=_seconds(durations.quantile(0.9)),
    )


def case_figures(tally: Tally) -> CaseFigures:
    counts = tally.counts
    return CaseFigures(
        submitted=counts[M.CASES_SUBMITTED],
        concluded=counts[M.CASES_CONCLUDED],
        first_response=_percentiles(tally.durations.get(M.CASE_FIRST_RESPONSE)),
        conclusion=_percentiles(tally.durations.get(M.CASE_CONCLUSION)),
        within_deadline=_rate(
            counts[M.CASES_ON_TIME], counts[M.CASES_ON_TIME] + counts[M.CASES_LATE]
        ),
        overdue_now=counts[M.CASES_OVERDUE_NOW],
    )


def _by_channel(tally: Tally) -> dict[str, int]:
    return {channel.value: tally.counts[metric] for channel, metric in CHANNEL_METRICS.items()}


def resolution_figures(tally: Tally) -> ResolutionFigures:
    counts = tally.counts
    return ResolutionFigures(
        by_action={action.value: counts[metric] for action, metric in ACTION_METRICS.items()},
        by_result={result.value: counts[metric] for result, metric in RESULT_METRICS.items()},
    )


def appeal_figures(tally: Tally) -> AppealFigures:
    counts = tally.counts
    resolved = counts[M.APPEALS_RESOLVED]
    return AppealFigures(
        received=counts[M.APPEALS_RECEIVED],
        by_channel=_by_channel(tally),
        resolved=resolved,
        first_response=_percentiles(tally.durations.get(M.APPEAL_FIRST_RESPONSE)),
        resolution=_percentiles(tally.durations.get(M.APPEAL_RESOLUTION)),
        within_deadline=_rate(
            counts[M.APPEALS_ON_TIME], counts[M.APPEALS_ON_TIME] + counts[M.APPEALS_LATE]
        ),
        first_contact_resolution=_rate(counts[M.APPEALS_FIRST_CONTACT], resolved),
        escalated=counts[M.APPEALS_ESCALATED],
        resolutions=resolution_figures(tally),
        overdue_now=counts[M.APPEALS_OVERDUE_NOW],
    )


def callback_figures(tally: Tally) -> CallbackFigures:
    counts = tally.counts
    on_time = counts[M.CALLBACKS_ON_TIME]
    reached = counts[M.CALLBACKS_REACHED]
    return CallbackFigures(
        owed=counts[M.CALLBACKS_OWED],
        reached=_rate(reached, reached + counts[M.CALLBACKS_FAILED]),
        within_due_time=_rate(on_time, on_time + counts[M.CALLBACKS_LATE]),
    )


def monitoring_figures(tally: Tally) -> MonitoringFigures:
    return MonitoringFigures(
        patients_now=tally.counts[M.PATIENTS_MONITORED_NOW],
        patients=tally.counts[M.PATIENTS_MONITORED],
        escalations=tally.counts[M.MONITORING_ESCALATIONS],
    )


def stats_group(
    tally: Tally,
    organization_id: uuid.UUID | None,
    specialty: str | None,
    *,
    cases_only: bool,
) -> StatsGroup:
    """`cases_only` for a specialty's figures: nothing but cases has a specialty."""
    return StatsGroup(
        organization_id=organization_id,
        specialty=specialty,
        cases=case_figures(tally),
        appeals=None if cases_only else appeal_figures(tally),
        callbacks=None if cases_only else callback_figures(tally),
        monitoring=None if cases_only else monitoring_figures(tally),
    )


def _groups(tallies: Mapping[Key, Tally], by: GroupBy, scope: Scope) -> list[StatsGroup]:
    if by is GroupBy.SPECIALTY:
        cases = {key: tally for key, tally in tallies.items() if key.specialty}
        specialties = group(cases, lambda key: key.specialty)
        return [
            stats_group(specialties[name], None, name, cases_only=True)
            for name in sorted(specialties)
        ]
    organizations = group(tallies, lambda key: key.organization_id)
    # Appeals nobody has been routed yet come last.
    order = sorted(organizations, key=lambda chosen: (chosen is None, str(chosen)))
    cases_only = scope.specialty is not None
    return [
        stats_group(organizations[chosen], chosen, None, cases_only=cases_only) for chosen in order
    ]


async def read_figures(
    uow: UnitOfWork,
    principal: Principal,
    query: StatsQuery,
    organizations: OrganizationLookup,
    settings: StatsSettings,
    now: datetime,
) -> StatsOut:
    try:
        days = _period(query, settings, now)
        scope = await _scope(principal, query, organizations)
    except ProblemError as error:
        uow.audit.refuse(ACTION, RESOURCE, None, error)
    daily: defaultdict[date, Tally] = defaultdict(Tally)
    tallies = await period_tallies(uow.session, scope, days, now, daily)
    if scope.specialty is None:
        try:
            monitoring = await _monitoring(uow.session, scope, days, organizations)
        except ProblemError as error:  # the directory could not say whose region
            uow.audit.refuse(ACTION, RESOURCE, None, error)
        for key, tally in monitoring.items():
            tallies[key].merge(tally)
    totals = Tally()
    for tally in tallies.values():
        totals.merge(tally)
    figures = StatsOut(
        from_=days.first,
        to=days.last,
        timezone=days.zone.key,
        region=scope.region,
        group_by=query.group_by,
        generated_at=now,
        totals=stats_group(
            totals,
            scope.organization_id,
            scope.specialty,
            cases_only=scope.specialty is not None,
        ),
        groups=_groups(tallies, query.group_by, scope),
        hotline_days=[]
        if scope.specialty is not None
        else [HotlineDay(day=day, by_channel=_by_channel(daily[day])) for day in days.each()],
    )
    detail = (
        f"region {scope.region or 'any'}, {days.first}..{days.last} by {query.group_by.value}, "
        f"organisation {scope.organization_id or 'any'}, specialty {scope.specialty or 'any'}"
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
        days = _period(query, settings, now)
        scope = await _scope(principal, query, organizations)
    except ProblemError as error:
        uow.audit.refuse(ACTION, RESOURCE, None, error)
    figures = ArticleFiguresOut(
        from_=days.first,
        to=days.last,
        timezone=days.zone.key,
        region=scope.region,
        articles=await read_articles(uow.session, scope, days),
    )
    detail = f"articles, region {scope.region or 'any'}, {days.first}..{days.last}"
    uow.audit.record(ACTION, RESOURCE, None, detail=detail)
    return figures
