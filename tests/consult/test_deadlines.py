"""The deadline policy: clock time for emergencies, the target's working days for planned cases."""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from gateway.schemas import OpeningHours, Organization, OrganizationKind
from services.consult.cases.deadlines import compute_due_at
from services.consult.cases.settings import DeadlinePolicy
from services.consult.settings import ConsultSettings
from services.consult.values import Urgency

POLICY = DeadlinePolicy()


def organization(
    zone: str, working_days: range = range(6), closes: time = time(20)
) -> Organization:
    return Organization(
        id=uuid.uuid4(),
        name="Regional centre",
        kind=OrganizationKind.REGIONAL_CENTRE,
        region="42",
        timezone=zone,
        working_hours=[
            OpeningHours(weekday=day, opens=time(8), closes=closes) for day in working_days
        ],
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("urgency", "expected"),
    [(Urgency.EMERGENCY, utc(2025, 6, 1, 22)), (Urgency.URGENT, utc(2025, 6, 2, 20))],
)
def test_emergency_and_urgent_run_on_the_clock(urgency: Urgency, expected: datetime) -> None:
    # Sunday night, outside any working hours: the clock runs regardless.
    submitted = utc(2025, 6, 1, 20)
    assert compute_due_at(urgency, submitted, organization("Asia/Vladivostok"), POLICY) == expected


def test_durations_come_from_the_policy() -> None:
    policy = DeadlinePolicy(emergency=timedelta(minutes=30), urgent=timedelta(hours=3))
    submitted = utc(2025, 6, 2, 9)
    org = organization("Europe/Moscow")
    assert compute_due_at(Urgency.EMERGENCY, submitted, org, policy) == utc(2025, 6, 2, 9, 30)
    assert compute_due_at(Urgency.URGENT, submitted, org, policy) == utc(2025, 6, 2, 12)


def test_planned_uses_the_local_date_in_the_target_zone() -> None:
    # 20:00 UTC on Sunday 1 June is already Monday 06:00 in Vladivostok (UTC+10) but still
    # Sunday 22:00 in Kaliningrad (UTC+2): the two targets count seven days from different dates.
    submitted = utc(2025, 6, 1, 20)
    vladivostok = compute_due_at(
        Urgency.PLANNED, submitted, organization("Asia/Vladivostok"), POLICY
    )
    kaliningrad = compute_due_at(
        Urgency.PLANNED, submitted, organization("Europe/Kaliningrad"), POLICY
    )
    # Monday 2 June + 7 = Monday 9 June, closing 20:00 local (10:00 UTC).
    assert vladivostok == utc(2025, 6, 9, 10)
    # Sunday 1 June + 7 = Sunday 8 June, closed; Monday 9 June closes 20:00 local (18:00 UTC).
    assert kaliningrad == utc(2025, 6, 9, 18)


def test_planned_moves_past_several_non_working_days() -> None:
    weekdays_only = organization("Europe/Moscow", working_days=range(5))
    # Saturday 7 June 12:00 Moscow + 7 = Saturday 14 June; Sat and Sun closed -> Monday 16.
    due = compute_due_at(Urgency.PLANNED, utc(2025, 6, 7, 9), weekdays_only, POLICY)
    assert due == utc(2025, 6, 16, 17)


def test_planned_respects_the_closing_hour() -> None:
    early = organization("Asia/Yekaterinburg", closes=time(15, 30))
    due = compute_due_at(Urgency.PLANNED, utc(2025, 6, 2, 3), early, POLICY)
    assert due == utc(2025, 6, 9, 10, 30)  # 15:30 at UTC+5


def test_planned_across_a_dst_change_uses_the_new_offset() -> None:
    # New York leaves EST (UTC-5) for EDT (UTC-4) on Sunday 9 March 2025. Submitted on
    # Monday 3 March (EST), due Monday 10 March 20:00 EDT = 00:00 UTC on the 11th; a fixed
    # offset would give 01:00 UTC.
    due = compute_due_at(
        Urgency.PLANNED, utc(2025, 3, 3, 15), organization("America/New_York"), POLICY
    )
    assert due == utc(2025, 3, 11, 0)


def test_planned_across_the_autumn_change_in_berlin() -> None:
    # Berlin returns from CEST (UTC+2) to CET (UTC+1) on Sunday 26 October 2025.
    due = compute_due_at(
        Urgency.PLANNED, utc(2025, 10, 22, 10), organization("Europe/Berlin"), POLICY
    )
    assert due == utc(2025, 10, 29, 19)  # Wednesday 20:00 CET


def test_planned_days_come_from_the_policy() -> None:
    due = compute_due_at(
        Urgency.PLANNED,
        utc(2025, 6, 2, 3),
        organization("Europe/Moscow"),
        DeadlinePolicy(planned_days=3),
    )
    assert due == utc(2025, 6, 5, 17)


def test_an_organisation_without_hours_is_due_at_the_end_of_that_local_day() -> None:
    closed = organization("Europe/Moscow", working_days=range(0))
    due = compute_due_at(Urgency.PLANNED, utc(2025, 6, 2, 3), closed, POLICY)
    assert due == utc(2025, 6, 9, 21)  # midnight Moscow (UTC+3) after 9 June


def test_naive_submission_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        compute_due_at(
            Urgency.URGENT, datetime(2025, 6, 2, 3), organization("Europe/Moscow"), POLICY
        )


def test_regions_without_a_policy_use_the_default() -> None:
    strict = DeadlinePolicy(emergency=timedelta(minutes=30))
    settings = ConsultSettings(deadline_policies={"25": strict})
    assert settings.deadline_policy("25") == strict
    assert settings.deadline_policy("42") == DeadlinePolicy()
    assert DeadlinePolicy().emergency == timedelta(hours=2)
    assert DeadlinePolicy().urgent == timedelta(hours=24)
    assert DeadlinePolicy().planned_days == 7


def test_signing_key_lives_under_the_var_dir_by_default(tmp_path) -> None:
    settings = ConsultSettings(var_dir=tmp_path)
    expected = tmp_path / "consult" / "conclusion_signing_key.pem"
    assert settings.resolved_signing_key_path() == expected
