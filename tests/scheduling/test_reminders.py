"""The reminder outbox: due in the patient's zone, sent once, retried, and not lost when the
process dies mid-batch and a new one starts."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.common.db import Database
from services.scheduling.enums import ReminderKind, ReminderState
from services.scheduling.models import KERNEL_TABLES, Reminder
from services.scheduling.reminders import ReminderMessage, RunReport, run_once
from services.scheduling.settings import SchedulingSettings
from tests.scheduling.conftest import RecordingChannel, World, local

VISIT = local("2025-10-21", "10:00")  # 03:00Z; 13:00 for the patient in Vladivostok
DAY_BEFORE = datetime.fromisoformat("2025-10-20T03:00:00+00:00")
HOUR_BEFORE = datetime.fromisoformat("2025-10-21T02:00:00+00:00")


class ProcessDied(BaseException):
    """Stands for the process being killed: nothing after it runs."""


class DyingChannel(RecordingChannel):
    """Delivers `survive` reminders, then the process dies inside the next delivery."""

    def __init__(self, survive: int) -> None:
        super().__init__()
        self.survive = survive

    async def deliver(self, message: ReminderMessage) -> None:
        if len(self.messages) == self.survive:
            raise ProcessDied
        await super().deliver(message)


class BrokenChannel(RecordingChannel):
    async def deliver(self, message: ReminderMessage) -> None:
        raise ConnectionError("SMS gateway unreachable")


def settings_of(world: World, **changes: Any) -> SchedulingSettings:
    settings: SchedulingSettings = world.stack.apps["scheduling"].state.settings
    return settings.model_copy(update=changes)


async def run(
    world: World,
    channel: Any,
    now: datetime,
    database: Database | None = None,
    **settings: float,
) -> RunReport:
    return await run_once(
        database or world.database,
        KERNEL_TABLES.audit,
        channel,
        settings_of(world, **settings),
        now,
    )


async def reminders(world: World) -> list[Reminder]:
    async with world.database.sessionmaker() as session:
        return list((await session.scalars(select(Reminder).order_by(Reminder.due_at))).all())


async def test_reminders_come_due_in_the_patients_zone_and_go_out_once(world: World) -> None:
    visit = await world.booked(VISIT)
    cancelled = await world.booked(
        local("2025-10-21", "11:00"), patient_id=str(world.other_patient.id)
    )
    await world.act(world.medic, cancelled["id"], "cancel")
    channel = RecordingChannel()
    assert await run(world, channel, DAY_BEFORE - timedelta(seconds=1)) == RunReport(0, 0, 0)
    assert await run(world, channel, DAY_BEFORE) == RunReport(produced=1, sent=1, failed=0)
    assert await run(world, channel, DAY_BEFORE + timedelta(minutes=5)) == RunReport(0, 0, 0)
    (message,) = channel.messages
    assert message.kind is ReminderKind.DAY_BEFORE
    assert str(message.appointment_id) == visit["id"]
    assert message.recipient_id == world.patient.id
    assert message.local_start.isoformat() == "2025-10-21T13:00:00+10:00"
    assert message.timezone == "Asia/Vladivostok"

    assert await run(world, channel, HOUR_BEFORE) == RunReport(produced=1, sent=1, failed=0)
    assert [item.kind for item in channel.messages][-1] is ReminderKind.HOUR_BEFORE
    assert await run(world, channel, HOUR_BEFORE + timedelta(minutes=59)) == RunReport(0, 0, 0)
    stored = await reminders(world)
    assert [(item.kind, item.state) for item in stored] == [
        (ReminderKind.DAY_BEFORE, ReminderState.SENT),
        (ReminderKind.HOUR_BEFORE, ReminderState.SENT),
    ]
    assert all(str(item.appointment_id) == visit["id"] for item in stored)


async def test_a_visit_cancelled_after_its_reminder_was_written_is_not_reminded(
    world: World,
) -> None:
    visit = await world.booked(VISIT)
    broken = BrokenChannel()
    assert await run(world, broken, DAY_BEFORE) == RunReport(produced=1, sent=0, failed=1)
    await world.act(world.patient, visit["id"], "cancel")
    channel = RecordingChannel()
    assert await run(world, channel, DAY_BEFORE + timedelta(hours=1)) == RunReport(0, 0, 0)
    assert channel.messages == []
    (reminder,) = await reminders(world)
    assert reminder.state is ReminderState.SKIPPED


async def test_a_failing_channel_is_retried_then_given_up(world: World) -> None:
    await world.booked(VISIT)
    broken = BrokenChannel()
    limits: dict[str, Any] = {"reminder_max_attempts": 2, "reminder_retry_seconds": 60.0}
    assert (await run(world, broken, DAY_BEFORE, **limits)).failed == 1
    (reminder,) = await reminders(world)
    assert (reminder.state, reminder.attempts) == (ReminderState.PENDING, 1)
    assert reminder.last_error == "ConnectionError: SMS gateway unreachable"
    assert (await run(world, broken, DAY_BEFORE + timedelta(seconds=30), **limits)).failed == 0
    assert (await run(world, broken, DAY_BEFORE + timedelta(seconds=61), **limits)).failed == 1
    (reminder,) = await reminders(world)
    assert (reminder.state, reminder.attempts) == (ReminderState.FAILED, 2)
    later = DAY_BEFORE + timedelta(hours=2)
    assert await run(world, RecordingChannel(), later, **limits) == RunReport(0, 0, 0)


async def test_nothing_is_lost_or_sent_twice_when_the_process_dies(world: World) -> None:
    third = await world.stack.actor("patient", world.hospital)
    patients = [world.patient, world.other_patient, third]
    for hour, patient in zip(("10:00", "11:00", "14:00"), patients, strict=True):
        await world.booked(local("2025-10-21", hour), patient_id=str(patient.id))
    dying = DyingChannel(survive=1)
    with pytest.raises(ProcessDied):
        await run(world, dying, DAY_BEFORE + timedelta(hours=5))
    states = [item.state for item in await reminders(world)]
    assert states == [ReminderState.SENT, ReminderState.SENDING, ReminderState.SENDING]

    # A new process: its own connections, a fresh channel, the same database.
    restarted = Database(world.database.url, audit_key=world.database.audit_key)
    try:
        channel = RecordingChannel()
        soon = DAY_BEFORE + timedelta(hours=5, minutes=1)
        assert await run(world, channel, soon, restarted) == RunReport(0, 0, 0)  # leases hold
        after_lease = DAY_BEFORE + timedelta(hours=5, minutes=6)
        assert await run(world, channel, after_lease, restarted) == RunReport(0, 2, 0)
        assert await run(world, channel, after_lease, restarted) == RunReport(0, 0, 0)
    finally:
        await restarted.dispose()
    delivered = [message.reminder_id for message in dying.messages + channel.messages]
    stored = await reminders(world)
    assert sorted(delivered) == sorted(item.id for item in stored)  # each exactly once
    assert {item.state for item in stored} == {ReminderState.SENT}
    assert [item.attempts for item in stored] == [1, 2, 2]
