"""The scheduling service's events in its outbox after the real actions through the gateway:
bookings of every kind (at once, a confirmed hold, a move, a series of follow-ups, a follow-up
booked from a patient's request in consult), cancellations of announced visits, and reminders
the reminder job finds due; holds and refused actions announce nothing."""

from datetime import datetime, timedelta
from typing import Any

from services.common.outbox import EventType
from services.scheduling.models import KERNEL_TABLES
from services.scheduling.reminders import RunReport, run_once
from tests.consult import test_patient_requests as patient_request_tests
from tests.consult.test_patient_requests import Clinic
from tests.scheduling import conftest as scheduling_fixtures
from tests.scheduling.conftest import (
    DISTRICT_ZONE,
    SCHEDULING,
    RecordingChannel,
    World,
    assert_problem,
    local,
)
from tests.webhooks.test_outbox import Feed, quiet_stack  # noqa: F401 - the `stack` fixture

# The scheduling tests' world (and the clock it asks for), and the patient-request tests'
# clinic (that world with a hotline operator), on this module's quiet stack.
world, clock = scheduling_fixtures.world, scheduling_fixtures.clock
clinic = patient_request_tests.clinic

TUESDAY = "2025-10-21"


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(type, appointment id, status) of each event."""
    return [(e["type"], e["resource"]["id"], e["data"]["status"]) for e in events]


async def test_bookings_and_cancellations_of_announced_visits(world: World) -> None:
    feed = Feed(world.stack, "scheduling")
    visit = await world.booked(local(TUESDAY, "10:00"))
    (booked,) = await feed.pending()
    assert booked["type"] == "appointment.booked"
    assert booked["resource"] == {"type": "appointment", "id": visit["id"]}
    assert booked["organization_ids"] == [world.centre["id"], world.hospital["id"]]
    data = booked["data"]
    assert (data["status"], data["kind"], data["specialty"]) == (
        "booked",
        "in_person",
        "cardiology",
    )
    assert (at(data["start"]), at(data["end"])) == (at(visit["start"]), at(visit["end"]))
    assert data["practitioner_id"] == str(world.cardiologist.id)
    assert data["episode_id"] == visit["episode_id"]
    # The patient by id and zone only, for the gateway to tell them: never by name.
    assert (data["patient_id"], data["patient_timezone"]) == (str(world.patient.id), DISTRICT_ZONE)
    assert data["organization_id"] == world.centre["id"]
    assert "replaces_id" not in data

    # A hold is announced when it is confirmed; one let go never is.
    registry = await world.stack.actor("coordinator", world.hospital)  # the patient's own
    held = await world.booked(local(TUESDAY, "11:00"), registry, hold=True)
    dropped = await world.booked(local(TUESDAY, "14:00"), registry, hold=True)
    assert len(await feed.pending()) == 1
    confirmed = await world.act(world.patient, held["id"], "confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert (await world.act(registry, dropped["id"], "cancel")).status_code == 200

    # A refused move changes nothing; a move cancels the old visit in favour of the new one.
    path = f"{SCHEDULING}/appointments/{held['id']}/reschedule"
    clash = await world.client.post(
        path, json={"start": local(TUESDAY, "10:00")}, headers=registry.headers
    )
    assert_problem(clash, 409)
    moved = await world.client.post(
        path, json={"start": local(TUESDAY, "15:00")}, headers=registry.headers
    )
    assert moved.status_code == 201, moved.text
    new = moved.json()
    cancelled = await world.act(world.patient, visit["id"], "cancel", {"reason": "Feel better"})
    assert cancelled.status_code == 200, cancelled.text
    assert_problem(await world.act(world.patient, visit["id"], "cancel"), 409)

    events = await feed.pending()
    assert summary(events) == [
        ("appointment.booked", visit["id"], "booked"),
        ("appointment.booked", held["id"], "booked"),
        ("appointment.booked", new["id"], "booked"),
        ("appointment.cancelled", held["id"], "cancelled"),
        ("appointment.cancelled", visit["id"], "cancelled"),
    ]
    assert events[3]["data"]["replaced_by_id"] == new["id"]
    # The move's new visit names the one it replaces, so it is not taken for a new booking.
    assert events[2]["data"]["replaces_id"] == held["id"]
    assert at(events[2]["data"]["replaces_start"]) == at(held["start"])
    assert "Feel better" not in str(events)


async def test_a_series_of_follow_ups_is_announced_visit_by_visit(
    world: World,
) -> None:
    feed = Feed(world.stack, "scheduling")
    first = await world.booked(local(TUESDAY, "10:00"))
    await world.fulfil_first_visit_of(first)
    await feed.drain()
    series = {"first_start": local(TUESDAY, "11:00"), "every_days": 7, "count": 3}
    planned = await world.client.post(
        f"{SCHEDULING}/episodes/{first['episode_id']}/follow-ups",
        json=series | {"visit_type": "remote"},
        headers=world.cardiologist.headers,
    )
    assert planned.status_code == 200, planned.text
    visits = [item["appointment"] for item in planned.json()["items"]]
    events = await feed.pending()
    assert summary(events) == [("appointment.booked", v["id"], "booked") for v in visits]
    for event, visit in zip(events, visits, strict=True):
        assert event["data"]["kind"] == "remote"
        assert event["data"]["series_id"] == planned.json()["series_id"]
        assert event["data"]["episode_id"] == first["episode_id"]
        assert at(event["data"]["start"]) == at(visit["start"])


async def test_reminders_the_job_finds_due_are_announced(world: World) -> None:
    feed = Feed(world.stack, "scheduling")
    visit = await world.booked(local(TUESDAY, "10:00"))  # 03:00Z, 13:00 for the patient
    await feed.drain()
    settings = world.stack.apps["scheduling"].state.settings
    start = at(visit["start"])

    async def run(now: datetime) -> RunReport:
        channel = RecordingChannel()
        return await run_once(world.database, KERNEL_TABLES.audit, channel, settings, now)

    assert await run(start - timedelta(days=1, seconds=1)) == RunReport(0, 0, 0)
    assert await feed.pending() == []
    assert (await run(start - timedelta(days=1))).produced == 1
    assert (await run(start - timedelta(minutes=59))).produced == 1
    assert (await run(start - timedelta(minutes=30))).produced == 0
    events = await feed.pending()
    assert summary(events) == [("appointment.reminder_due", visit["id"], "booked")] * 2
    assert [(e["data"]["reminder"], at(e["data"]["due_at"])) for e in events] == [
        ("day_before", start - timedelta(days=1)),
        ("hour_before", start - timedelta(hours=1)),
    ]
    assert events[0]["organization_ids"] == [world.centre["id"], world.hospital["id"]]


async def test_a_patients_request_answered_with_a_follow_up_is_announced_by_both_services(
    clinic: Clinic,
) -> None:
    """Consult books the remote visit in scheduling as the specialist, in one step: consult
    announces the concluded request, scheduling the booked visit; a refused booking neither."""
    consult, scheduling = Feed(clinic.stack, "consult"), Feed(clinic.stack, "scheduling")
    await clinic.seen_in_person()
    case = await clinic.asked(mode="video")
    (submitted,) = await consult.pending()
    assert (submitted["type"], submitted["data"]["kind"]) == ("case.submitted", "patient_request")
    assert submitted["organization_ids"] == [clinic.hospital["id"], clinic.centre["id"]]
    await clinic.acted_on_case(clinic.cardiologist, case["id"], "accept", "start")
    taken = await clinic.booked(
        local("2025-10-28", "10:00"), patient_id=str(clinic.other_patient.id)
    )
    await consult.drain()
    await scheduling.drain()

    clash = await clinic.act_on_case(
        clinic.cardiologist, case["id"], "follow-up", {"start": taken["start"]}
    )
    assert_problem(clash, 409)
    assert (await consult.pending(), await scheduling.pending()) == ([], [])
    start = {"start": local("2025-10-28", "11:00")}
    answered = await clinic.act_on_case(clinic.cardiologist, case["id"], "follow-up", start)
    assert answered.status_code == 200, answered.text
    appointment_id = answered.json()["follow_up_appointment_id"]
    (concluded,) = await consult.of_type(EventType.CASE_CONCLUDED)
    assert concluded["resource"] == {"type": "case", "id": case["id"]}
    assert concluded["data"]["answer"] == "follow_up_visit"
    assert concluded["data"]["follow_up_appointment_id"] == appointment_id
    (booked,) = await scheduling.pending()
    assert booked["resource"] == {"type": "appointment", "id": appointment_id}
    assert (booked["data"]["kind"], booked["data"]["consult_case_id"]) == ("remote", case["id"])
