"""When a consultation is due: from urgency, submission time and the target organisation's hours."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.client import Organization
from services.consult.cases.settings import DeadlinePolicy
from services.consult.values import Urgency


def _closing_time(organization: Organization, day: date) -> datetime:
    """The close of the first working day on or after `day`, in the organisation's zone."""
    zone = ZoneInfo(organization.timezone)
    hours = {entry.weekday: entry.closes for entry in organization.working_hours}
    for offset in range(7):
        candidate = day + timedelta(days=offset)
        closes = hours.get(candidate.weekday())
        if closes is not None:
            return datetime.combine(candidate, closes, tzinfo=zone)
    # An organisation with no published hours: the end of that local day is the fairest bound.
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def compute_due_at(
    urgency: Urgency,
    submitted_at: datetime,
    organization: Organization,
    policy: DeadlinePolicy,
) -> datetime:
    """Emergency and urgent cases run on the clock; planned ones end a working day later on.

    A planned case is due at the close of the target organisation's working day on the
    submission's local date plus `policy.planned_days`, moved to the next working day when
    that day has no hours. Local dates and closing times come from the organisation's IANA
    zone, so daylight-saving changes and Russia's eleven zones come out right.
    """
    if submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be timezone-aware")
    if urgency is Urgency.EMERGENCY:
        return (submitted_at + policy.emergency).astimezone(UTC)
    if urgency is Urgency.URGENT:
        return (submitted_at + policy.urgent).astimezone(UTC)
    local_date = submitted_at.astimezone(ZoneInfo(organization.timezone)).date()
    target_day = local_date + timedelta(days=policy.planned_days)
    return _closing_time(organization, target_day).astimezone(UTC)
