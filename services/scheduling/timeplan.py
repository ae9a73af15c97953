"""Pure time arithmetic of schedules: working intervals in UTC and the free slots inside them.

Weekly hours are wall-clock times in the schedule's IANA zone; each day's hours are turned
into UTC instants with zoneinfo, so a daylight-saving change (or a change of a zone's rules)
moves them correctly, and slots then step through absolute time: on the night the clocks go
back, 02:00 happens twice and both are offered. Instants are handled as integer seconds since
the epoch, because the availability of a whole specialty runs this for tens of thousands of
candidate slots per request.
"""

import heapq
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import chain, pairwise
from zoneinfo import ZoneInfo

from services.scheduling.enums import VisitType

Interval = tuple[int, int]  # [start, end) in seconds since the epoch
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class WeeklyHours:
    """One working interval on one weekday (Monday is 0), as minutes after local midnight."""

    weekday: int
    start_minute: int
    end_minute: int  # up to 1440, the next midnight


@dataclass(frozen=True)
class VisitSpec:
    type: VisitType
    duration: int  # seconds
    buffer_before: int
    buffer_after: int


@dataclass(frozen=True)
class Plan:
    """What a schedule says about when it can be booked."""

    zone: ZoneInfo
    weekly: tuple[WeeklyHours, ...]
    step: int  # seconds between offered starts, from the start of each day's hours
    min_notice: int
    horizon: int


class Unbookable(StrEnum):
    """Why a start time cannot be booked, whatever else is booked."""

    TOO_SOON = "too_soon"
    BEYOND_HORIZON = "beyond_horizon"
    OUTSIDE_HOURS = "outside_hours"
    OFF_GRID = "off_grid"


def epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return int(moment.timestamp())


def instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def aware_in(moment: datetime, zone: str) -> datetime:
    """A naive time taken as wall-clock time in `zone`; an aware one as it is."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


@lru_cache(maxsize=65_536)
def _steady_midnight(day: date, zone: ZoneInfo) -> int | None:
    """Local midnight as an instant when the zone keeps one offset from it to the next
    midnight (nearly every day), else None: then each time of the day is converted alone."""
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    following = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return epoch(midnight) if midnight.utcoffset() == following.utcoffset() else None


def _wall_clock(day: date, minute: int, zone: ZoneInfo) -> int:
    """The UTC instant of a local wall-clock time; a time the clocks skip is read with the
    offset before the change (02:30 on a spring-forward night is 03:30 summer time)."""
    if minute >= MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
    midnight = _steady_midnight(day, zone)
    if midnight is not None:
        return midnight + minute * 60
    return epoch(datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: Sequence[Interval], removed: Sequence[Interval]) -> list[Interval]:
    """`intervals` minus `removed`; both sorted and merged."""
    result: list[Interval] = []
    index = 0
    for start, end in intervals:
        while index < len(removed) and removed[index][1] <= start:
            index += 1
        cursor, probe = start, index
        while probe < len(removed) and removed[probe][0] < end:
            if removed[probe][0] > cursor:
                result.append((cursor, removed[probe][0]))
            cursor = max(cursor, removed[probe][1])
            probe += 1
        if cursor < end:
            result.append((cursor, end))
    return result


@dataclass(frozen=True)
class Hours:
    """A schedule's working time around some window, and its slot grid.

    `intervals` are where visits fit: weekly hours and extra hours joined where they touch
    or overlap (a visit may run past midnight into the next day's hours), minus leave.
    `pieces` anchor the grid: each day's weekly hours and each extra period as it is, sorted.
    A start is on the grid when it is a whole number of steps after the start of a piece that
    holds it. Anchoring on the joined intervals instead would make the grid depend on the first
    day loaded (days that touch join without end), so what one window offers another refused.
    """

    intervals: list[Interval]
    pieces: list[Interval]


def working_hours(
    plan: Plan,
    window: Interval,
    *,
    extra: Iterable[Interval] = (),
    unavailable: Iterable[Interval] = (),
) -> Hours:
    """The schedule's hours overlapping `window`, whole (not clipped to it)."""
    low, high = window
    first = datetime.fromtimestamp(low, plan.zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(high, plan.zone).date() + timedelta(days=1)
    by_weekday: dict[int, list[WeeklyHours]] = {}
    for hours in plan.weekly:
        by_weekday.setdefault(hours.weekday, []).append(hours)
    pieces = [(start, end) for start, end in extra if end > start]
    day = first
    while day <= last:
        for hours in by_weekday.get(day.weekday(), ()):
            start = _wall_clock(day, hours.start_minute, plan.zone)
            end = _wall_clock(day, hours.end_minute, plan.zone)
            if start < high and end > low:
                pieces.append((start, end))
        day += timedelta(days=1)
    pieces.sort()
    return Hours(intervals=subtract(merge(pieces), merge(unavailable)), pieces=pieces)


def working_intervals(
    plan: Plan,
    window: Interval,
    *,
    extra: Iterable[Interval] = (),
    unavailable: Iterable[Interval] = (),
) -> list[Interval]:
    """The intervals of `working_hours`: where visits fit."""
    return working_hours(plan, window, extra=extra, unavailable=unavailable).intervals


def _grid(piece: Interval, step: int, window: Interval) -> range:
    """The piece's grid points inside `window`."""
    start, end = piece
    low, high = window
    first = start if low <= start else start + -(-(low - start) // step) * step
    return range(first, min(end, high), step)


def grid_starts(plan: Plan, hours: Hours, window: Interval) -> Iterator[int]:
    """Every grid point in `window`, ascending and once each."""
    grids = [_grid(piece, plan.step, window) for piece in hours.pieces]
    pieces = hours.pieces
    apart = all(before[1] <= after[0] for before, after in pairwise(pieces))
    # Pieces that do not overlap (nearly always) give their grids in order one after another.
    ordered: Iterable[int] = chain(*grids) if apart else heapq.merge(*grids)
    last = None
    for candidate in ordered:
        if candidate != last:
            yield candidate
        last = candidate


def bookable_window(plan: Plan, now: int) -> Interval:
    """Starts are offered from the minimum notice up to the booking horizon."""
    return now + plan.min_notice, now + plan.horizon


def free_starts(
    plan: Plan,
    visit: VisitSpec,
    hours: Hours,
    busy: Sequence[Interval],
    window: Interval,
) -> Iterator[int]:
    """Grid points in `window` whose visit fits the working interval it starts in and whose
    buffered span overlaps nothing in `busy` (sorted, merged, already buffered)."""
    intervals = hours.intervals
    index = position = 0
    for candidate in grid_starts(plan, hours, window):
        while position < len(intervals) and intervals[position][1] <= candidate:
            position += 1
        if position == len(intervals):
            return
        start, end = intervals[position]
        if candidate < start or candidate + visit.duration > end:
            continue
        taken_from = candidate - visit.buffer_before
        taken_until = candidate + visit.duration + visit.buffer_after
        while index < len(busy) and busy[index][1] <= taken_from:
            index += 1
        if index == len(busy) or busy[index][0] >= taken_until:
            yield candidate


def check_start(
    plan: Plan, visit: VisitSpec, hours: Hours, start: int, now: int
) -> Unbookable | None:
    """Why `start` could not be offered at all, or None when only other bookings could stop it."""
    earliest, latest = bookable_window(plan, now)
    if start < earliest:
        return Unbookable.TOO_SOON
    if start >= latest:
        return Unbookable.BEYOND_HORIZON
    intervals = hours.intervals
    position = bisect_right(intervals, start, key=lambda interval: interval[0]) - 1
    if position < 0:
        return Unbookable.OUTSIDE_HOURS
    if start + visit.duration > intervals[position][1]:
        return Unbookable.OUTSIDE_HOURS
    on_grid = any(
        piece_start <= start < piece_end and (start - piece_start) % plan.step == 0
        for piece_start, piece_end in hours.pieces
    )
    return None if on_grid else Unbookable.OFF_GRID
