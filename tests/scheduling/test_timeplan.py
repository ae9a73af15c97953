"""Slot arithmetic without a database: zones and DST, buffers, exceptions, notice and horizon."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.enums import ReminderKind, VisitType
from services.scheduling.episodes import series_starts
from services.scheduling.reminders import due_at
from services.scheduling.timeplan import (
    Plan,
    Unbookable,
    VisitSpec,
    WeeklyHours,
    check_start,
    epoch,
    free_starts,
    instant,
    merge,
    subtract,
    working_hours,
    working_intervals,
)

BERLIN = ZoneInfo("Europe/Berlin")
UTC_ZONE = ZoneInfo("UTC")
HOUR, MINUTE = 3600, 60


def plan(zone: ZoneInfo, *hours: WeeklyHours, step: int = 15 * MINUTE) -> Plan:
    return Plan(zone=zone, weekly=hours, step=step, min_notice=0, horizon=400 * 86400)


def visit(minutes: int = 30, before: int = 0, after: int = 0) -> VisitSpec:
    return VisitSpec(VisitType.IN_PERSON, minutes * MINUTE, before * MINUTE, after * MINUTE)


def at(text: str) -> int:
    return epoch(datetime.fromisoformat(text))


def local_times(starts: list[int], zone: ZoneInfo) -> list[str]:
    return [instant(start).astimezone(zone).isoformat() for start in starts]


def whole_window(start: str, end: str) -> tuple[int, int]:
    return at(start), at(end)


def test_merge_and_subtract() -> None:
    assert merge([(5, 7), (1, 3), (3, 4), (6, 9), (10, 10)]) == [(1, 4), (5, 9)]
    assert subtract([(0, 10), (20, 30)], [(2, 4), (8, 22), (25, 26)]) == [
        (0, 2),
        (4, 8),
        (22, 25),
        (26, 30),
    ]
    assert subtract([(0, 10)], []) == [(0, 10)]


def test_berlin_hours_follow_the_october_change() -> None:
    """09:00 in Berlin is 07:00Z on the Friday before the change and 08:00Z the Monday after."""
    weekdays = [WeeklyHours(day, 9 * 60, 10 * 60) for day in range(5)]
    intervals = working_intervals(
        plan(BERLIN, *weekdays), whole_window("2025-10-24T00:00Z", "2025-10-28T00:00Z")
    )
    friday, monday = intervals[-2:]
    assert instant(friday[0]) == datetime(2025, 10, 24, 7, tzinfo=UTC)
    assert instant(monday[0]) == datetime(2025, 10, 27, 8, tzinfo=UTC)


def test_the_repeated_hour_of_the_october_night_is_offered_twice() -> None:
    night = plan(BERLIN, WeeklyHours(6, 0, 4 * 60), step=HOUR)  # Sunday 00:00-04:00 local
    window = whole_window("2025-10-25T12:00Z", "2025-10-26T12:00Z")
    starts = list(free_starts(night, visit(60), working_hours(night, window), [], window))
    assert local_times(starts, BERLIN) == [
        "2025-10-26T00:00:00+02:00",
        "2025-10-26T01:00:00+02:00",
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T02:00:00+01:00",
        "2025-10-26T03:00:00+01:00",
    ]


def test_the_skipped_hour_of_the_march_night_is_not_offered() -> None:
    night = plan(BERLIN, WeeklyHours(6, 0, 4 * 60), step=HOUR)
    window = whole_window("2025-03-29T12:00Z", "2025-03-30T12:00Z")
    starts = list(free_starts(night, visit(60), working_hours(night, window), [], window))
    assert local_times(starts, BERLIN) == [
        "2025-03-30T00:00:00+01:00",
        "2025-03-30T01:00:00+01:00",
        "2025-03-30T03:00:00+02:00",
    ]


def test_buffers_keep_visits_apart() -> None:
    """A booked 10:00-10:30 visit with 10 minutes after it keeps 10:00-10:40; a 20-minute
    visit with 5 minutes before it may end at 10:00 and start again at 10:45."""
    day = plan(UTC_ZONE, WeeklyHours(0, 8 * 60, 12 * 60), step=5 * MINUTE)
    window = whole_window("2025-10-20T00:00Z", "2025-10-21T00:00Z")
    busy = [(at("2025-10-20T10:00Z"), at("2025-10-20T10:40Z"))]
    starts = set(free_starts(day, visit(20, before=5), working_hours(day, window), busy, window))
    assert at("2025-10-20T09:40Z") in starts  # ends as the booked visit begins: [) spans
    assert at("2025-10-20T09:45Z") not in starts
    assert at("2025-10-20T10:40Z") not in starts  # its buffer would start at 10:35
    assert at("2025-10-20T10:45Z") in starts


def test_leave_removes_hours_and_extra_hours_add_them() -> None:
    week = plan(UTC_ZONE, *(WeeklyHours(day, 9 * 60, 12 * 60) for day in range(5)), step=HOUR)
    window = whole_window("2025-10-20T00:00Z", "2025-10-25T00:00Z")
    leave = [(at("2025-10-21T00:00Z"), at("2025-10-23T00:00Z"))]  # Tuesday and Wednesday
    extra = [(at("2025-10-24T12:00Z"), at("2025-10-24T14:00Z"))]  # Friday afternoon
    intervals = working_intervals(week, window, extra=extra, unavailable=leave)
    days = {instant(start).date().isoformat() for start, _ in intervals}
    assert days == {"2025-10-20", "2025-10-23", "2025-10-24"}
    assert (at("2025-10-24T09:00Z"), at("2025-10-24T14:00Z")) in intervals  # a visit may span


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        ("2025-10-20T09:00Z", Unbookable.TOO_SOON),
        ("2025-10-21T09:00Z", None),
        ("2025-10-21T09:10Z", Unbookable.OFF_GRID),
        ("2025-10-21T11:45Z", Unbookable.OUTSIDE_HOURS),  # would run past noon
        ("2025-10-21T07:00Z", Unbookable.OUTSIDE_HOURS),
        ("2025-11-04T09:00Z", Unbookable.BEYOND_HORIZON),
    ],
)
def test_check_start(start: str, reason: Unbookable | None) -> None:
    week = Plan(
        zone=UTC_ZONE,
        weekly=tuple(WeeklyHours(day, 9 * 60, 12 * 60) for day in range(5)),
        step=15 * MINUTE,
        min_notice=24 * HOUR,
        horizon=14 * 86400,
    )
    now = at("2025-10-20T06:00Z")
    hours = working_hours(week, (at(start) - 86400, at(start) + 86400))
    assert check_start(week, visit(30), hours, at(start), now) is reason


def test_a_working_day_can_end_at_midnight() -> None:
    late = plan(UTC_ZONE, WeeklyHours(0, 22 * 60, 24 * 60), step=HOUR)
    intervals = working_intervals(late, whole_window("2025-10-20T00:00Z", "2025-10-21T00:00Z"))
    assert (at("2025-10-20T22:00Z"), at("2025-10-21T00:00Z")) in intervals


def test_a_series_keeps_its_local_time_across_the_change() -> None:
    first = datetime(2025, 10, 13, 10, tzinfo=BERLIN)
    starts = series_starts(first, 14, 3, "Europe/Berlin")
    assert [start.astimezone(BERLIN).hour for start in starts] == [10, 10, 10]
    assert [start.hour for start in starts] == [8, 9, 9]  # UTC moves with the change


def test_the_day_before_reminder_is_at_the_same_local_time() -> None:
    """A Sunday 10:00 visit after the change is reminded Saturday 10:00 summer time: 25 h."""
    start = datetime(2025, 10, 26, 10, tzinfo=BERLIN)
    day_before = due_at(ReminderKind.DAY_BEFORE, start, "Europe/Berlin")
    assert day_before.astimezone(BERLIN).isoformat() == "2025-10-25T10:00:00+02:00"
    assert start.astimezone(UTC) - day_before == timedelta(hours=25)
    assert start - due_at(ReminderKind.HOUR_BEFORE, start, "Europe/Berlin") == timedelta(hours=1)
