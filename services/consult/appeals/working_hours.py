"""An organisation's opening hours as instants: when the clock of an appeal starts, and a
deadline counted in the organisation's working time, in its own IANA zone."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.client import Organization


def _open_intervals(
    organization: Organization, since: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The organisation's opening intervals in UTC, from the one `since` falls in onwards; the
    first starts at `since` when the organisation is open then. Never ends: at least one
    weekday has hours (callers check)."""
    zone = ZoneInfo(organization.timezone)
    hours = {entry.weekday: entry for entry in organization.working_hours}
    day = since.astimezone(zone).date()
    while True:
        entry = hours.get(day.weekday())
        if entry is not None:
            opens = datetime.combine(day, entry.opens, tzinfo=zone).astimezone(UTC)
            closes = datetime.combine(day, entry.closes, tzinfo=zone).astimezone(UTC)
            if closes > since:
                yield max(opens, since), closes
        day += timedelta(days=1)


def clock_start(organization: Organization, at: datetime) -> datetime:
    """`at` if the organisation is open then, else its next opening: an appeal that comes at
    night is accepted, and its deadline counts from the morning."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    # An organisation that publishes no hours is taken to be always open, not never.
    if not organization.working_hours:
        return at.astimezone(UTC)
    opens, _ = next(_open_intervals(organization, at))
    return opens


def add_working_time(organization: Organization, start: datetime, duration: timedelta) -> datetime:
    """The instant `duration` of the organisation's working time after `start`; closed hours,
    nights and days off do not count."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not organization.working_hours:
        return (start + duration).astimezone(UTC)
    remaining = duration
    intervals = _open_intervals(organization, start)
    while True:
        opens, closes = next(intervals)
        if remaining <= closes - opens:
            return opens + remaining
        remaining -= closes - opens
