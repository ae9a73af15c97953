"""The retry rule webhooks and notify share: doubling from the base up to the cap, jittered."""

import pytest

from services.common.backoff import backoff_seconds


def test_the_backoff_doubles_up_to_its_cap_within_the_jitter() -> None:
    for attempt in range(1, 12):
        expected = min(3600.0, 10.0 * 2 ** (attempt - 1))
        delays = [backoff_seconds(attempt, base=10.0, cap=3600.0, jitter=0.2) for _ in range(50)]
        assert all(0.8 * expected <= delay <= 1.2 * expected for delay in delays), attempt
    # Jittered: the retries of one outage spread out instead of arriving together.
    assert len({backoff_seconds(3, base=10.0, cap=3600.0, jitter=0.2) for _ in range(20)}) > 1


def test_without_jitter_the_delays_are_exact() -> None:
    delays = [backoff_seconds(attempt, base=30.0, cap=3600.0, jitter=0) for attempt in range(1, 10)]
    assert delays == [30.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 3600.0, 3600.0]


@pytest.mark.parametrize("attempt", [60, 1_000, 10**9])
def test_a_delivery_failing_for_ever_waits_the_cap(attempt: int) -> None:
    assert backoff_seconds(attempt, base=30.0, cap=3600.0, jitter=0) == 3600.0
