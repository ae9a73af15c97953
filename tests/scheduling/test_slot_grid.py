"""The slot grid does not move with the window asked: on schedules whose days touch (24-hour
days, nights that run into the next day, hours starting at odd minutes), with extra hours and
leave, every slot offered is one booking accepts, and two windows offer the same slots where
they overlap.

`offered` and `refusal` read the hours as `availability.find_slots` and
`availability.why_unbookable` do: a day either side of the window, or of the visit."""

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduling.enums import VisitType
from services.scheduling.timeplan import (
    MINUTES_PER_DAY,
    Interval,
    Plan,
    Unbookable,
    VisitSpec,
    WeeklyHours,
    bookable_window,
    check_start,
    epoch,
    free_starts,
    working_hours,
)

DAY, HOUR, MINUTE = 86400, 3600, 60
# UTC; a steady +7; Berlin's summer time; Kathmandu's +5:45; Chatham's +12:45/+13:45.
ZONES = ["UTC", "Asia/Novosibirsk", "Europe/Berlin", "Asia/Kathmandu", "Pacific/Chatham"]
EPOCH_2025 = epoch(datetime(2025, 1, 1, tzinfo=UTC))


@st.composite
def touching_days(draw: st.DrawFn) -> tuple[WeeklyHours, ...]:
    """Per weekday: nothing, the whole day, from some minute to midnight, from midnight to some
    minute, or both (a night shift that runs on): consecutive days often touch at midnight."""
    weekly: list[WeeklyHours] = []
    for weekday in range(7):
        shape = draw(st.sampled_from(["none", "whole", "late", "early", "both"]))
        late = draw(st.integers(1, MINUTES_PER_DAY - 1))
        early = draw(st.integers(1, late))
        if shape == "whole":
            weekly.append(WeeklyHours(weekday, 0, MINUTES_PER_DAY))
        if shape in ("early", "both"):
            weekly.append(WeeklyHours(weekday, 0, early))
        if shape in ("late", "both"):
            weekly.append(WeeklyHours(weekday, late, MINUTES_PER_DAY))
    if not weekly:
        weekly.append(WeeklyHours(draw(st.integers(0, 6)), 0, MINUTES_PER_DAY))
    return tuple(weekly)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    return Plan(
        zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        weekly=draw(touching_days()),
        step=draw(st.integers(5, 120)) * MINUTE,
        min_notice=draw(st.integers(0, 48)) * HOUR,
        horizon=draw(st.integers(7, 60)) * DAY,
    )


@st.composite
def visits(draw: st.DrawFn) -> VisitSpec:
    return VisitSpec(
        VisitType.IN_PERSON,
        duration=draw(st.integers(5, 180)) * MINUTE,
        buffer_before=draw(st.integers(0, 15)) * MINUTE,
        buffer_after=draw(st.integers(0, 15)) * MINUTE,
    )


def periods(start: int, days: int) -> st.SearchStrategy[list[Interval]]:
    """A few extra or leave periods at any minute within `days` of `start`."""
    begin = st.integers(start // MINUTE, (start + days * DAY) // MINUTE).map(lambda m: m * MINUTE)
    length = st.integers(1, 3 * 24 * 60).map(lambda minutes: minutes * MINUTE)
    return st.lists(st.tuples(begin, length).map(lambda p: (p[0], p[0] + p[1])), max_size=3)


def _loaded(found: list[Interval], window: Interval) -> list[Interval]:
    """The exceptions `availability.exceptions_between` reads for `window`."""
    return [(start, end) for start, end in found if start < window[1] and end > window[0]]


def offered(
    plan: Plan,
    visit: VisitSpec,
    now: int,
    window: Interval,
    extra: list[Interval],
    leave: list[Interval],
) -> list[int]:
    low, high = window
    padded = (low - DAY, high + DAY)
    hours = working_hours(
        plan, padded, extra=_loaded(extra, padded), unavailable=_loaded(leave, padded)
    )
    earliest, latest = bookable_window(plan, now)
    return list(free_starts(plan, visit, hours, [], (max(low, earliest), min(high, latest))))


def refusal(
    plan: Plan,
    visit: VisitSpec,
    now: int,
    start: int,
    extra: list[Interval],
    leave: list[Interval],
) -> Unbookable | None:
    padded = (start - DAY, start + visit.duration + DAY)
    hours = working_hours(
        plan, padded, extra=_loaded(extra, padded), unavailable=_loaded(leave, padded)
    )
    return check_start(plan, visit, hours, start, now)


@dataclass(frozen=True)
class Case:
    plan: Plan
    visit: VisitSpec
    now: int
    window: Interval
    other: Interval  # a second window that overlaps the first, from elsewhere
    extra: list[Interval]
    leave: list[Interval]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    now = EPOCH_2025 + draw(st.integers(0, 365 * 24 * 60)) * MINUTE
    low = now + draw(st.integers(-2 * 24 * 60, 20 * 24 * 60)) * MINUTE
    high = low + draw(st.integers(1, 10 * 24 * 60)) * MINUTE
    other_low = low + draw(st.integers(-5 * 24 * 60, (high - low) // MINUTE - 1)) * MINUTE
    other_high = max(other_low + MINUTE, low + MINUTE) + draw(st.integers(0, 6 * 24 * 60)) * MINUTE
    return Case(
        plan=draw(plans()),
        visit=draw(visits()),
        now=now,
        window=(low, high),
        other=(other_low, other_high),
        extra=draw(periods(now - 3 * DAY, 25)),
        leave=draw(periods(now - 3 * DAY, 25)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_every_slot_offered_is_bookable_and_no_window_moves_the_grid(case: Case) -> None:
    plan, visit, now, extra, leave = case.plan, case.visit, case.now, case.extra, case.leave
    first = offered(plan, visit, now, case.window, extra, leave)
    for start in first[:: max(1, len(first) // 200)]:  # at most ~200 checked per example
        assert refusal(plan, visit, now, start, extra, leave) is None, start
    second = offered(plan, visit, now, case.other, extra, leave)
    low, high = max(case.window[0], case.other[0]), min(case.window[1], case.other[1])
    assert [s for s in first if low <= s < high] == [s for s in second if low <= s < high]


def test_a_24_hour_schedule_offers_what_it_books() -> None:
    """The report's case: every day 00:00-24:00 in UTC+7, a slot every 25 minutes (a day is not
    a whole number of them). The days joined without end, the grid was anchored on the first
    day each request loaded, and slots offered for one window were refused as off the grid."""
    week = tuple(WeeklyHours(day, 0, MINUTES_PER_DAY) for day in range(7))
    zone = ZoneInfo("Asia/Novosibirsk")
    plan = Plan(zone, week, step=25 * MINUTE, min_notice=0, horizon=60 * DAY)
    visit = VisitSpec(VisitType.IN_PERSON, 30 * MINUTE, 0, 0)
    now = epoch(datetime(2025, 10, 20, tzinfo=UTC))
    for days_ahead in range(1, 9):
        low = now + days_ahead * DAY + 5 * HOUR
        starts = offered(plan, visit, now, (low, low + DAY), [], [])
        assert starts
        assert [refusal(plan, visit, now, start, [], []) for start in starts] == [None] * len(
            starts
        )
