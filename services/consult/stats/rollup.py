"""The roll-up of finished days into `stats_figures`, and a period's rolled-up figures.

A year of hotline days is about 550,000 appeals and two million history events; reading them
for every request of a year's figures takes seconds. Rolled up, a day is a few hundred rows.
A day is rolled up once it is over, then again on every run while any of its cases, appeals
or callbacks is still open, until it is final (see `StatsDay`); the figures of a day not
final yet are as of the last run. A month whose days are all final is summed once more, so
that a year reads about twelve months' rows and the days of the two months at its ends. Days
before the first day anything arrived are empty.

Each zone's days are rolled up side by side, each for every organisation: the deployment's
(`stats_timezone`, for the totals across organisations) and each zone an organisation's own
figures were asked in (`app.state.stats_zones_asked`, noted by the requests, since the job
has no token to ask the directory whose zone is whose; once rolled up, a zone stays in
`stats_days`).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Select,
    String,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import Database
from services.consult.appeals.models import Appeal
from services.consult.cases.models import Case
from services.consult.stats.cohorts import (
    DAILY_METRICS,
    Cohorts,
    Days,
    Key,
    Scope,
    consecutive,
    plan_each_period,
    read_cohorts,
)
from services.consult.stats.models import Span, StatsDay, StatsFigure, StatsMonth
from services.consult.stats.settings import StatsSettings
from services.consult.stats.tally import Metric, Tally

BATCH_DAYS = 31
# A request that began before midnight has committed this long after it, so a day this long
# over has all of its cohort.
GRACE = timedelta(minutes=15)
Columns = TypeVarTuple("Columns")


@dataclass
class Rolled:
    """A period's rolled-up figures, and the days of it that they answer for."""

    tallies: defaultdict[Key, Tally] = field(default_factory=lambda: defaultdict(Tally))
    covered: set[date] = field(default_factory=set)
    # The `DAILY_METRICS` of each rolled-up day, the scope's keys summed.
    daily: defaultdict[date, Tally] = field(default_factory=lambda: defaultdict(Tally))


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _month(month: date, zone: ZoneInfo) -> Days:
    return Days(month, _month_end(month), zone)


async def read_rolled(session: AsyncSession, scope: Scope, days: Days) -> Rolled:
    """Whole months of the period from their own figures, its other days from theirs."""
    zone = days.zone.key
    known = select(StatsDay.day).where(
        StatsDay.timezone == zone, StatsDay.day >= days.first, StatsDay.day <= days.last
    )
    rolled = Rolled(covered=set(await session.scalars(known)))
    first = await session.scalar(select(func.min(StatsDay.day)).where(StatsDay.timezone == zone))
    if first is not None:
        rolled.covered |= {day for day in days.each() if day < first}
    if not rolled.covered:
        return rolled
    await plan_each_period(session)
    months = select(StatsMonth.month).where(
        StatsMonth.timezone == zone, StatsMonth.month >= days.first, StatsMonth.month <= days.last
    )
    whole = [month for month in await session.scalars(months) if _month_end(month) <= days.last]
    in_months = {day for month in whole for day in _month(month, days.zone).each()}
    figure = StatsFigure
    spans = [and_(figure.span == Span.MONTH, figure.day.in_(whole))] if whole else []
    spans += [
        and_(figure.span == Span.DAY, figure.day >= run.first, figure.day <= run.last)
        for run in consecutive(sorted(rolled.covered - in_months), days.zone)
    ]
    group = (figure.region, figure.organization_id, figure.specialty, figure.metric, figure.bucket)
    query = _in_scope(
        select(
            *group,
            func.sum(figure.count),
            func.min(figure.low_seconds),
            func.max(figure.high_seconds),
        )
        .where(or_(*spans))
        .group_by(*group),
        scope,
        days.zone,
    )
    await _read_daily(session, scope, days, rolled)
    for region, organization_id, specialty, name, bucket, count, low, high in (
        await session.execute(query)
    ).all():
        tally = rolled.tallies[Key(region, organization_id, specialty)]
        metric = Metric(name)
        if bucket is None:
            tally.count(metric, count)
            continue
        # A bucket's row has both bounds.
        assert low is not None
        assert high is not None
        tally.durations_of(metric).add_bucket(bucket, count, low, high)
    return rolled


def _in_scope(query: Select[*Columns], scope: Scope, zone: ZoneInfo) -> Select[*Columns]:
    figure = StatsFigure
    query = query.where(figure.timezone == zone.key)
    if scope.region is not None:
        query = query.where(figure.region == scope.region)
    if scope.organization_id is not None:
        query = query.where(figure.organization_id == scope.organization_id)
    if scope.specialty is not None:
        query = query.where(figure.specialty == scope.specialty)
    return query


async def _read_daily(session: AsyncSession, scope: Scope, days: Days, rolled: Rolled) -> None:
    """The `DAILY_METRICS` of the rolled-up days, from the days' own rows (kept when their
    month is summed)."""
    figure = StatsFigure
    runs = [
        and_(figure.day >= run.first, figure.day <= run.last)
        for run in consecutive(sorted(rolled.covered), days.zone)
    ]
    query = _in_scope(
        select(figure.day, figure.metric, func.sum(figure.count))
        .where(
            figure.span == Span.DAY,
            figure.metric.in_([metric.value for metric in DAILY_METRICS]),
            or_(*runs),
        )
        .group_by(figure.day, figure.metric),
        scope,
        days.zone,
    )
    for day, name, count in (await session.execute(query)).all():
        rolled.daily[day].count(Metric(name), count)


def _rows(zone: ZoneInfo, day: date, key: Key, tally: Tally) -> Iterator[dict[str, Any]]:
    where = {
        "span": Span.DAY,
        "timezone": zone.key,
        "day": day,
        "region": key.region,
        "organization_id": key.organization_id,
        "specialty": key.specialty,
    }
    for metric, count in tally.counts.items():
        yield where | {
            "metric": metric.value,
            "bucket": None,
            "count": count,
            "low_seconds": None,
            "high_seconds": None,
        }
    for metric, durations in tally.durations.items():
        for bucket, entry in durations.buckets.items():
            yield where | {
                "metric": metric.value,
                "bucket": bucket,
                "count": entry.count,
                "low_seconds": entry.low,
                "high_seconds": entry.high,
            }


async def _first_day(session: AsyncSession, zone: ZoneInfo) -> date | None:
    """The day the first case or appeal arrived (callbacks come with appeals)."""
    earliest = [
        await session.scalar(select(func.min(Case.submitted_at))),
        await session.scalar(select(func.min(Appeal.received_at))),
    ]
    arrived = [moment for moment in earliest if moment is not None]
    return min(arrived).astimezone(zone).date() if arrived else None


async def _pending(session: AsyncSession, zone: ZoneInfo, last: date) -> list[date]:
    """Days up to `last` not final yet: those rolled up before, then the new ones."""
    unsettled = select(StatsDay.day).where(StatsDay.timezone == zone.key, StatsDay.final.is_(False))
    days = set(await session.scalars(unsettled))
    latest = await session.scalar(
        select(func.max(StatsDay.day)).where(StatsDay.timezone == zone.key)
    )
    day = latest + timedelta(days=1) if latest is not None else await _first_day(session, zone)
    while day is not None and day <= last:
        days.add(day)
        day += timedelta(days=1)
    return sorted(days)


async def zones_to_roll_up(
    session: AsyncSession, deployment: ZoneInfo, asked: Iterable[str]
) -> list[ZoneInfo]:
    """The zones to roll up: the deployment's, those rolled up before and those asked for."""
    stored = set(await session.scalars(select(StatsDay.timezone).distinct()))
    others = (stored | set(asked)) - {deployment.key}
    return [deployment, *(ZoneInfo(name) for name in sorted(others))]


async def _store(
    session: AsyncSession, days: Days, cohorts: Cohorts, frozen_until: date, now: datetime
) -> None:
    run, zone = days.each(), days.zone
    await session.execute(
        delete(StatsFigure).where(
            StatsFigure.timezone == zone.key,
            StatsFigure.span == Span.DAY,
            StatsFigure.day.in_(run),
        )
    )
    rows = [
        row for (day, key), tally in cohorts.tallies.items() for row in _rows(zone, day, key, tally)
    ]
    if rows:
        await session.execute(insert(StatsFigure), rows)
    stored = {
        record.day: record
        for record in await session.scalars(
            select(StatsDay).where(StatsDay.timezone == zone.key, StatsDay.day.in_(run))
        )
    }
    for day in run:
        record = stored.get(day) or StatsDay(day=day, timezone=zone.key)
        record.final = day not in cohorts.open_days or day <= frozen_until
        record.computed_at = now
        session.add(record)


async def _sum_month(session: AsyncSession, month: Days, now: datetime) -> None:
    figure = StatsFigure
    group = (figure.region, figure.organization_id, figure.specialty, figure.metric, figure.bucket)
    summed = (
        select(
            literal(Span.MONTH.value, String),
            literal(month.zone.key, String),
            literal(month.first, Date),
            *group,
            func.sum(figure.count),
            func.min(figure.low_seconds),
            func.max(figure.high_seconds),
        )
        .where(
            figure.timezone == month.zone.key,
            figure.span == Span.DAY,
            figure.day >= month.first,
            figure.day <= month.last,
        )
        .group_by(*group)
    )
    columns = ["span", "timezone", "day", *(column.key for column in group)]
    columns += ["count", "low_seconds", "high_seconds"]
    await session.execute(insert(StatsFigure).from_select(columns, summed))
    session.add(StatsMonth(month=month.first, timezone=month.zone.key, computed_at=now))


async def _roll_up_months(session: AsyncSession, zone: ZoneInfo, last: date, now: datetime) -> None:
    """Sums each month up to `last` whose days are all final (those before the first day
    anything came count as final: nothing can come on them) into figures of its own."""
    read = select(StatsDay.day, StatsDay.final).where(StatsDay.timezone == zone.key)
    final: dict[date, bool] = dict((await session.execute(read)).all())
    if not final:
        return
    summed = set(
        await session.scalars(select(StatsMonth.month).where(StatsMonth.timezone == zone.key))
    )
    first = min(final)
    month = _month(first.replace(day=1), zone)
    while month.last <= last:
        if month.first not in summed and all(final.get(day, day < first) for day in month.each()):
            await _sum_month(session, month, now)
        month = _month(month.last + timedelta(days=1), zone)


async def roll_up(
    database: Database, settings: StatsSettings, now: datetime, asked: Iterable[str] = ()
) -> int:
    """Rolls up the days not final yet of each zone (`zones_to_roll_up`); returns how many."""
    async with database.sessionmaker() as session:
        chosen = await zones_to_roll_up(session, settings.stats_timezone, asked)
    return sum([await _roll_up_zone(database, settings, zone, now) for zone in chosen])


async def _roll_up_zone(
    database: Database, settings: StatsSettings, zone: ZoneInfo, now: datetime
) -> int:
    """Rolls up the zone's days not final yet, oldest first, `BATCH_DAYS` to a transaction (a
    year to catch up on stays a string of short ones); returns how many."""
    last = (now - GRACE).astimezone(zone).date() - timedelta(days=1)
    frozen_until = last - timedelta(days=settings.stats_final_after_days)
    async with database.sessionmaker() as session:
        pending = await _pending(session, zone, last)
    for start in range(0, len(pending), BATCH_DAYS):
        batch = pending[start : start + BATCH_DAYS]
        async with database.sessionmaker() as session:
            # Concurrent runs (several replicas) wait for each other on the days they share;
            # a day both create fails the later run on its primary key; the next run retries.
            await session.execute(
                select(StatsDay)
                .where(StatsDay.timezone == zone.key, StatsDay.day.in_(batch))
                .with_for_update()
            )
            for days in consecutive(batch, zone):
                cohorts = await read_cohorts(session, Scope(), days, now)
                await _store(session, days, cohorts, frozen_until, now)
            await session.commit()
    async with database.sessionmaker() as session:
        await _roll_up_months(session, zone, last, now)
        await session.commit()
    return len(pending)
