"""The relay wakes the courier once a batch that made messages is committed: a booking's
invitation goes out at once, not at the courier's next poll."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.notify.conftest import Mailbox, notify_settings
from tests.notify.producing import messages, quiet_stack, relay_once, set_user
from tests.scheduling import conftest as scheduling_fixtures
from tests.scheduling.conftest import World, local
from tests.webhooks.receiver import eventually

world, clock = scheduling_fixtures.world, scheduling_fixtures.clock
ADDRESS = "patient@example.org"


@pytest.fixture
async def stack(
    clean_databases: dict[str, str], tmp_path: Path, mailbox: Mailbox
) -> AsyncIterator[Stack]:
    # The courier looks by itself once an hour: only a wake can send within the test.
    gateway = notify_settings(mailbox.port, notify_poll_interval=3600.0)
    async with quiet_stack(clean_databases, tmp_path, gateway=gateway) as running:
        yield running


async def test_a_relayed_booking_is_mailed_without_waiting_for_the_poll(
    world: World, mailbox: Mailbox
) -> None:
    stack = world.stack
    await set_user(stack, world.patient.id, email=ADDRESS)
    await world.booked(local("2025-10-21", "10:00"))
    assert mailbox.to(ADDRESS) == []

    assert await relay_once(stack, "scheduling") == 1

    async def mailed() -> int:
        return len(mailbox.to(ADDRESS))

    assert await eventually(mailed, lambda count: count == 1, within=10.0) == 1
    (invitation,) = await messages(stack)
    assert mailbox.to(ADDRESS)[0]["X-Telemed-Template"] == invitation.template.value
