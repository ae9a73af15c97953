"""Scheduling's appointment events become messages to the patient, through the real relay: an
invitation for a booking (a confirmed hold included), a move told once as rescheduled, a
cancellation, the reminders; nothing for a hold, nothing for anyone else, and nothing twice."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from gateway.notify.enums import Template
from gateway.webhooks.relay import Stored, store_events
from services.common.outbox import OutboxEvent
from services.scheduling.models import KERNEL_TABLES
from services.scheduling.reminders import run_once
from tests.notify.producing import (
    gateway_database,
    messages,
    producer,
    producers_stack,  # noqa: F401 - the `stack` fixture
    relay,
    relay_once,
    set_user,
    utc,
)
from tests.scheduling import conftest as scheduling_fixtures
from tests.scheduling.conftest import (
    DISTRICT_ZONE,
    SCHEDULING,
    RecordingChannel,
    World,
    local,
)
from tests.webhooks.test_outbox import Feed

world, clock = scheduling_fixtures.world, scheduling_fixtures.clock
TUESDAY = "2025-10-21"


def told(found: list[Any]) -> list[tuple[uuid.UUID, Template]]:
    return [(message.recipient_id, message.template) for message in found]


async def remote_visit(world: World, start: str) -> dict[str, Any]:
    first = await world.booked(local(TUESDAY, "09:00"))
    await world.fulfil_first_visit_of(first)
    visit: dict[str, Any] = await world.booked(
        start, visit_type="remote", episode_id=first["episode_id"], patient_id=None
    )
    return visit


async def test_a_booking_invites_its_patient_once_and_nobody_else(world: World) -> None:
    stack = world.stack
    visit = await world.booked(local(TUESDAY, "10:00"))  # the medic books for the patient
    events = await Feed(stack, "scheduling").pending()
    assert await relay_once(stack, "scheduling") == 1

    (message,) = await messages(stack)
    assert told([message]) == [(world.patient.id, Template.VISIT_INVITATION)]
    assert message.params == {
        "start": utc(visit["start"]),
        "timezone": DISTRICT_ZONE,  # the patient's: their hospital's, not the centre's
        "visit_type": "in_person",
        "organization_name": world.centre["name"],  # where the visit is held
        "practitioner_name": f"Test specialist {world.cardiologist.username.split('.')[1]}",
    }
    assert message.key == f"{events[0]['id']}:{world.patient.id}:visit.invitation"

    # The same event again (a relay that stored but died before its acknowledgement, a
    # replica at the same time): neither the store nor the producer makes a second message.
    again = [OutboxEvent.model_validate(event) for event in events]
    async with gateway_database(stack).sessionmaker.begin() as session:
        settings = stack.apps["gateway"].state.settings
        stored = await store_events(session, again, settings, producer(stack))
        assert stored == Stored(deliveries=0, messages=0)
        assert await producer(stack).produce(session, again[0]) == 0
    assert await relay_once(stack, "scheduling") == 0
    assert len(await messages(stack)) == 1


async def test_a_remote_visit_carries_the_patients_personal_link(world: World) -> None:
    stack = world.stack
    visit = await remote_visit(world, local("2025-10-28", "10:00"))
    await relay_once(stack, "scheduling")
    invitations = [m for m in await messages(stack) if m.params.get("visit_type") == "remote"]
    (invitation,) = invitations
    assert invitation.template is Template.VISIT_INVITATION
    link = invitation.params["join_link"]
    public_url = stack.apps["gateway"].state.settings.public_url
    assert link.startswith(f"{public_url}/visit/")
    opened = stack.apps["gateway"].state.visit_links.read(link.rsplit("/", 1)[1])
    assert (opened.appointment_id, opened.patient_id) == (uuid.UUID(visit["id"]), world.patient.id)
    # The in-person first visit had its invitation, without a link.
    first = [m for m in await messages(stack) if m.params.get("visit_type") == "in_person"]
    assert [("join_link" in m.params) for m in first] == [False]


async def test_a_move_is_told_once_as_rescheduled(world: World) -> None:
    stack = world.stack
    visit = await world.booked(local(TUESDAY, "10:00"))
    await relay_once(stack, "scheduling")
    moved = await world.client.post(
        f"{SCHEDULING}/appointments/{visit['id']}/reschedule",
        json={"start": local(TUESDAY, "15:00")},
        headers=world.medic.headers,
    )
    assert moved.status_code == 201, moved.text
    assert await relay_once(stack, "scheduling") == 2  # the old one called off, the new booked
    invitation, rescheduled = await messages(stack)
    # Neither a cancellation nor an invitation for the move: one message saying it.
    assert told([invitation, rescheduled]) == [
        (world.patient.id, Template.VISIT_INVITATION),
        (world.patient.id, Template.VISIT_RESCHEDULED),
    ]
    assert rescheduled.params == {
        "old_start": utc(visit["start"]),
        "start": utc(moved.json()["start"]),
        "timezone": DISTRICT_ZONE,
        "organization_name": world.centre["name"],
    }


async def test_a_cancellation_is_told_and_a_hold_only_once_confirmed(world: World) -> None:
    stack = world.stack
    registry = await stack.actor("coordinator", world.hospital)
    held = await world.booked(local(TUESDAY, "11:00"), registry, hold=True)
    await relay_once(stack, "scheduling")
    assert await messages(stack) == []  # a hold is nobody's news yet
    assert (await world.act(registry, held["id"], "confirm")).status_code == 200
    cancelled = await world.act(world.patient, held["id"], "cancel", {"reason": "Feel better"})
    assert cancelled.status_code == 200, cancelled.text
    await relay_once(stack, "scheduling")
    invitation, cancellation = await messages(stack)
    assert told([invitation, cancellation]) == [
        (world.patient.id, Template.VISIT_INVITATION),
        (world.patient.id, Template.VISIT_CANCELLED),
    ]
    assert cancellation.params == {
        "start": utc(held["start"]),
        "timezone": DISTRICT_ZONE,
        "organization_name": world.centre["name"],
    }
    assert "Feel better" not in str(cancellation.params)


async def test_reminders_come_the_day_and_the_hour_before(world: World) -> None:
    stack = world.stack
    visit = await remote_visit(world, local("2025-10-28", "10:00"))
    await relay_once(stack, "scheduling")
    invitation = (await messages(stack))[-1]
    before = len(await messages(stack))
    settings = stack.apps["scheduling"].state.settings
    start = datetime.fromisoformat(visit["start"])
    for now in (start - timedelta(days=1), start - timedelta(minutes=59)):
        await run_once(world.database, KERNEL_TABLES.audit, RecordingChannel(), settings, now)
    await relay_once(stack, "scheduling")
    day, hour = (await messages(stack))[before:]
    assert told([day, hour]) == [
        (world.patient.id, Template.VISIT_REMINDER_DAY),
        (world.patient.id, Template.VISIT_REMINDER_HOUR),
    ]
    # What the invitation said, the same personal link included: it is stable.
    assert day.params == hour.params == invitation.params
    assert day.params["start"] == utc(visit["start"])


async def test_messages_do_not_wait_for_the_idle_relay(world: World) -> None:
    """With no webhook subscription the relay drains the feeds once per idle interval, but
    the feeds whose events become messages keep its normal pace while anyone can be told."""
    stack = world.stack
    idle = relay(stack, "consult", "scheduling", "video", webhook_relay_idle_interval=3600.0)
    feed = Feed(stack, "scheduling")
    await world.booked(local(TUESDAY, "10:00"))
    await idle.run_once()
    assert len(await feed.pending()) == 1  # nobody has an address: the feed waits
    assert await messages(stack) == []

    await set_user(stack, world.patient.id, email="patient@example.org")
    await idle.run_once()
    assert await feed.pending() == []
    assert told(await messages(stack)) == [(world.patient.id, Template.VISIT_INVITATION)]
