"""The app runs the reminder job by itself, every `reminder_interval_seconds`, through the
channel its settings name."""

import time
from typing import Any

import pytest

from tests.scheduling.conftest import RecordingChannel, World, local
from tests.scheduling.test_reminders import DAY_BEFORE


@pytest.fixture
def scheduling_settings() -> dict[str, Any]:
    return {
        "reminder_interval_seconds": 0.05,
        "reminder_channel": "tests.scheduling.conftest:RecordingChannel",
    }


async def test_the_app_delivers_due_reminders_by_itself(world: World) -> None:
    visit = await world.booked(local("2025-10-21", "10:00"))
    channel: RecordingChannel = world.stack.apps["scheduling"].state.reminder_channel
    assert channel.messages == []
    world.clock.now = DAY_BEFORE
    deadline = time.monotonic() + 10
    while not channel.messages:
        assert time.monotonic() < deadline, "the job delivered nothing"
        await world.get(world.medic, "/schedules")  # any request; it yields to the job
    (message,) = channel.messages
    assert str(message.appointment_id) == visit["id"]
