"""The day a home visit falls on and the window its caller is told, in the polyclinic's own
zone: a call before the cut-off on a working day is that day's, any later one the next
working day's (the days the directory gives the polyclinic hours)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.client import Organization
from services.consult.home_visits.settings import VisitRule


@dataclass(frozen=True)
class Slot:
    day: date
    timezone: str
    window_starts_at: datetime
    window_ends_at: datetime


def working_day(organization: Organization, day: date) -> bool:
    """An organisation that publishes no hours is taken to work every day, not never."""
    weekdays = {entry.weekday for entry in organization.working_hours}
    return not weekdays or day.weekday() in weekdays


def local_today(organization: Organization, now: datetime) -> date:
    return now.astimezone(ZoneInfo(organization.timezone)).date()


def slot(organization: Organization, received_at: datetime, rule: VisitRule) -> Slot:
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    zone = ZoneInfo(organization.timezone)
    local = received_at.astimezone(zone)
    day = local.date()
    if not (working_day(organization, day) and local.time() < rule.cutoff):
        day += timedelta(days=1)
        # At least one weekday has hours, or every day is working: the loop ends within a week.
        while not working_day(organization, day):
            day += timedelta(days=1)
    starts = datetime.combine(day, rule.window_opens, tzinfo=zone).astimezone(UTC)
    ends = datetime.combine(day, rule.window_closes, tzinfo=zone).astimezone(UTC)
    return Slot(day, organization.timezone, starts, ends)
