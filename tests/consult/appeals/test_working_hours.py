"""Working time in an organisation's own zone, without the stack: summer time, no hours."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.client import OpeningHours, Organization
from services.consult.appeals.working_hours import add_working_time, clock_start


def organization(zone: str, hours: list[OpeningHours] | None = None) -> Organization:
    fields = {"working_hours": hours} if hours is not None else {}
    return Organization(
        id=uuid.uuid4(), name="Desk", kind="insurer", region="42", timezone=zone, **fields
    )


def local(moment: str, zone: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=ZoneInfo(zone))


def test_working_time_spans_a_change_of_summer_time() -> None:
    # Berlin leaves summer time in the night to Sunday 26 October 2025; hours stay 08:00-20:00.
    berlin = organization("Europe/Berlin")
    start = local("2025-10-25T18:00", "Europe/Berlin")
    due = add_working_time(berlin, start, timedelta(hours=4))
    assert due == local("2025-10-27T10:00", "Europe/Berlin")
    assert due.tzinfo is UTC
    assert due - start == timedelta(days=1, hours=17)  # the night to Sunday is an hour longer


def test_an_organisation_without_hours_is_always_open() -> None:
    always = organization("Asia/Kamchatka", hours=[])
    night = local("2025-10-26T03:00", "Asia/Kamchatka")
    assert clock_start(always, night) == night
    assert add_working_time(always, night, timedelta(hours=4)) == night + timedelta(hours=4)


def test_closing_time_itself_is_closed() -> None:
    desk = organization("Asia/Novokuznetsk")
    closing = local("2025-10-20T20:00", "Asia/Novokuznetsk")
    assert clock_start(desk, closing) == local("2025-10-21T08:00", "Asia/Novokuznetsk")
    afternoon = local("2025-10-20T16:00", "Asia/Novokuznetsk")
    assert add_working_time(desk, afternoon, timedelta(hours=4)) == closing


def test_naive_instants_are_refused() -> None:
    desk = organization("Asia/Novokuznetsk")
    with pytest.raises(ValueError, match="timezone-aware"):
        clock_start(desk, datetime(2025, 10, 20, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(desk, datetime(2025, 10, 20, 10), timedelta(hours=1))
