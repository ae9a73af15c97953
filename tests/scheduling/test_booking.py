"""Booking through the gateway: the overlap rule (and its race), buffers, notice, horizon,
exceptions, holds, idempotency, cancelling and rescheduling with history."""

import asyncio
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.scheduling.enums import AppointmentStatus
from services.scheduling.models import Appointment
from tests.scheduling.conftest import SCHEDULING, WEEKDAYS, World, assert_problem, local

TUESDAY = "2025-10-21"


async def test_a_taken_slot_is_a_409_naming_it_and_buffers_count(world: World) -> None:
    first = await world.booked(local(TUESDAY, "10:00"))
    assert first["status"] == "booked"
    assert first["start"] == "2025-10-21T03:00:00Z"
    assert first["local"]["start"] == "2025-10-21T10:00:00+07:00"
    # The in-person visit keeps 10 minutes after it: 10:30 is still taken, 10:45 is free.
    taken = assert_problem(await world.book(local(TUESDAY, "10:30")), 409)
    assert "2025-10-21 10:00-10:30 (Asia/Novosibirsk)" in taken["detail"]
    assert taken["taken_start"] == "2025-10-21T03:00:00Z"
    assert taken["requested_start"] == "2025-10-21T03:30:00Z"
    assert_problem(await world.book(local(TUESDAY, "09:45")), 409)  # overlaps 10:00-10:15
    assert (await world.book(local(TUESDAY, "10:45"))).status_code == 201
    # Another practitioner's time is theirs: the same start books with the colleague.
    await world.create_schedule(world.colleague)
    other = await world.book(local(TUESDAY, "10:00"), practitioner_id=str(world.colleague.id))
    assert other.status_code == 201, other.text


async def test_two_hundred_simultaneous_bookings_of_one_slot(world: World) -> None:
    await world.booked(local(TUESDAY, "09:00"))  # the directory's answer is cached by now
    start = local(TUESDAY, "11:00")
    responses = await asyncio.gather(*(world.book(start) for _ in range(200)))
    statuses = Counter(response.status_code for response in responses)
    others = {r.text for r in responses if r.status_code not in {201, 409}}
    assert statuses == {201: 1, 409: 199}, (statuses, sorted(others)[:3])
    winner = next(response.json() for response in responses if response.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            assert response.json()["taken_start"] == winner["start"]
    async with world.database.sessionmaker() as session:
        holding = await session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.starts_at == datetime.fromisoformat(winner["start"]),
                Appointment.status.not_in(["cancelled", "entered_in_error"]),
            )
        )
    assert holding == 1


async def test_notice_horizon_hours_and_grid_are_422_with_a_reason(world: World) -> None:
    world.clock.advance(minutes=30)  # 07:30 at the centre
    cases = {
        local("2025-10-20", "09:00"): "too_soon",  # two hours' notice
        local("2026-03-02", "09:00"): "beyond_horizon",  # 90 days ahead at most
        local(TUESDAY, "13:00"): "outside_hours",  # lunch
        local(TUESDAY, "12:45"): "outside_hours",  # would run into lunch
        local("2025-10-25", "10:00"): "outside_hours",  # Saturday
        local(TUESDAY, "10:05"): "off_grid",
    }
    for start, reason in cases.items():
        problem = assert_problem(await world.book(start), 422)
        assert problem["reason"] == reason, (start, problem)


async def test_bad_input_is_a_problem_never_a_500(world: World) -> None:
    naive = await world.book("2025-10-21T10:00:00")
    assert assert_problem(naive, 422)["errors"][0]["loc"][-1] == "start"
    both = await world.book(local(TUESDAY, "10:00"), schedule_id=world.schedule["id"])
    assert_problem(both, 422)
    unknown = await world.book(local(TUESDAY, "10:00"), practitioner_id=str(world.medic.id))
    assert_problem(unknown, 404)
    bad_type = await world.book(local(TUESDAY, "10:00"), visit_type="house_call")
    assert_problem(bad_type, 422)
    zone = await world.book(local(TUESDAY, "10:00"), patient_timezone="Mars/Olympus")
    assert_problem(zone, 422)
    garbage = await world.client.post(
        f"{SCHEDULING}/appointments", content=b"{not json", headers=world.medic.headers
    )
    assert_problem(garbage, 422)


async def test_leave_closes_and_extra_hours_open_bookings(world: World) -> None:
    exceptions = f"{SCHEDULING}/schedules/{world.schedule['id']}/exceptions"
    leave = {"kind": "unavailable", "start": local(TUESDAY, "00:00"),
             "end": local("2025-10-22", "00:00"), "reason": "Conference"}  # fmt: skip
    extra = {"kind": "extra", "start": local("2025-10-25", "10:00"),
             "end": local("2025-10-25", "12:00")}  # fmt: skip
    for body in (leave, extra):
        created = await world.client.post(exceptions, json=body, headers=world.cardiologist.headers)
        assert created.status_code == 201, created.text
    assert created.json()["local"]["start"] == "2025-10-25T10:00:00+07:00"
    denied = await world.client.post(exceptions, json=leave, headers=world.medic.headers)
    assert_problem(denied, 403)
    backwards = await world.client.post(
        exceptions, json=leave | {"start": leave["end"], "end": leave["start"]},
        headers=world.cardiologist.headers,
    )  # fmt: skip
    assert_problem(backwards, 422)
    assert_problem(await world.book(local(TUESDAY, "10:00")), 422)
    assert (await world.book(local("2025-10-25", "10:00"))).status_code == 201
    slots = await world.availability(local(TUESDAY, "00:00"), local("2025-10-26", "00:00"))
    days = {slot["local"]["start"][:10] for slot in slots["slots"]}
    assert days == {"2025-10-22", "2025-10-23", "2025-10-24", "2025-10-25"}


async def test_booking_is_idempotent_with_a_key(world: World) -> None:
    headers = world.medic.headers | {"Idempotency-Key": "mis-booking-1"}
    body = world.booking(local(TUESDAY, "10:00"))
    first = await world.client.post(f"{SCHEDULING}/appointments", json=body, headers=headers)
    retry = await world.client.post(f"{SCHEDULING}/appointments", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["location"] == f"{SCHEDULING}/appointments/{first.json()['id']}"
    other = body | {"start": local(TUESDAY, "11:00")}
    reused = await world.client.post(f"{SCHEDULING}/appointments", json=other, headers=headers)
    assert_problem(reused, 422)


async def test_a_hold_keeps_the_slot_until_it_expires(world: World) -> None:
    registry = await world.stack.actor("coordinator", world.hospital)  # the patient's own
    held = await world.booked(local(TUESDAY, "10:00"), registry, hold=True)
    assert held["status"] == "proposed"
    assert held["hold_expires_at"] == "2025-10-20T00:05:00Z"
    assert_problem(await world.book(local(TUESDAY, "10:00")), 409)
    world.clock.advance(minutes=4)
    confirmed = await world.act(world.patient, held["id"], "confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "booked"
    assert confirmed.json()["hold_expires_at"] is None

    lapsing = await world.booked(local(TUESDAY, "11:00"), registry, hold=True)
    world.clock.advance(minutes=6)
    slots = await world.availability(local(TUESDAY, "11:00"), local(TUESDAY, "11:01"))
    assert len(slots["slots"]) == 1  # a lapsed hold holds nothing
    late = assert_problem(await world.act(world.patient, lapsing["id"], "confirm"), 409)
    assert "hold expired" in late["detail"]
    taken_over = await world.book(local(TUESDAY, "11:00"))
    assert taken_over.status_code == 201, taken_over.text
    lapsed = await world.get(world.coordinator, f"/appointments/{lapsing['id']}")
    assert lapsed.json()["status"] == "cancelled"
    assert "hold expired" in lapsed.json()["cancel_reason"]


async def test_cancel_frees_the_slot(world: World) -> None:
    visit = await world.booked(local(TUESDAY, "10:00"))
    cancelled = await world.act(world.patient, visit["id"], "cancel", {"reason": "Feel better"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancel_reason"] == "Feel better"
    again = assert_problem(await world.act(world.patient, visit["id"], "cancel"), 409)
    assert again["current_status"] == "cancelled"
    assert (await world.book(local(TUESDAY, "10:00"))).status_code == 201


async def test_reschedule_keeps_the_history(world: World) -> None:
    old = await world.booked(local(TUESDAY, "10:00"))
    blocker = await world.booked(local(TUESDAY, "11:00"), patient_id=str(world.other_patient.id))
    path = f"{SCHEDULING}/appointments/{old['id']}/reschedule"
    clash = await world.client.post(
        path, json={"start": local(TUESDAY, "11:00")}, headers=world.medic.headers
    )
    assert_problem(clash, 409)
    unchanged = await world.get(world.medic, f"/appointments/{old['id']}")
    assert unchanged.json()["status"] == "booked"

    moved = await world.client.post(
        path, json={"start": local(TUESDAY, "10:15"), "reason": "Bus timetable"},
        headers=world.medic.headers,
    )  # fmt: skip
    assert moved.status_code == 201, moved.text  # overlaps only the visit it replaces
    new = moved.json()
    assert new["replaces_id"] == old["id"]
    assert new["episode_id"] == old["episode_id"]
    before = (await world.get(world.patient, f"/appointments/{old['id']}")).json()
    assert before["status"] == "cancelled"
    assert before["replaced_by_id"] == new["id"]
    assert before["cancel_reason"] == "Bus timetable"
    assert_problem(
        await world.client.post(
            f"{SCHEDULING}/appointments/{blocker['id']}/reschedule",
            json={"start": local(TUESDAY, "14:00")},
            headers=world.patient.headers,
        ),
        404,  # not the patient's appointment: not even visible
    )


async def test_rooms_are_booked_by_schedule(world: World) -> None:
    room = await world.create_schedule(
        world.coordinator, kind="room", name="Telemedicine room 2", weekly_hours=WEEKDAYS
    )
    assert room["practitioner_id"] is None
    assert room["timezone"] == "Asia/Novosibirsk"
    body = {"schedule_id": room["id"], "practitioner_id": None, "visit_type": "consilium",
            "patient_id": None}  # fmt: skip
    free = await world.availability(
        local(TUESDAY, "09:00"), local(TUESDAY, "12:00"),
        visit_type="consilium", practitioner=None, schedule=room["id"],
    )  # fmt: skip
    assert free["slots"][0]["practitioner_id"] is None
    assert free["slots"][0]["local"]["start"] == local(TUESDAY, "09:00")
    booked = await world.booked(local(TUESDAY, "10:00"), **body)
    assert booked["room"] == {"state": "pending", "room_id": None, "join_url": None,
                              "join_opens_at": None, "join_closes_at": None}  # fmt: skip
    assert_problem(await world.book(local(TUESDAY, "10:30"), **body), 409)  # buffers: 10 min
    fulfilled_by_owner = await world.act(world.cardiologist, booked["id"], "arrive")
    assert_problem(fulfilled_by_owner, 404)  # a room's visit is not on the specialist's schedule
    arrived = await world.act(world.coordinator, booked["id"], "arrive")
    assert arrived.status_code == 200, arrived.text


async def test_history_is_listed_by_start(world: World) -> None:
    for hour in ("09:00", "10:00", "11:00"):
        await world.booked(local(TUESDAY, hour))
    listed = await world.get(world.cardiologist, "/appointments", limit=2)
    page = listed.json()
    assert [item["local"]["start"][11:16] for item in page["items"]] == ["09:00", "10:00"]
    rest = await world.get(world.cardiologist, "/appointments", cursor=page["next_cursor"])
    assert [item["local"]["start"][11:16] for item in rest.json()["items"]] == ["11:00"]
    assert rest.json()["next_cursor"] is None
    assert_problem(await world.get(world.medic, "/appointments", cursor="%%%"), 400)
    window = await world.get(
        world.medic, "/appointments", **{"from": "2025-10-21T03:30:00Z", "to": "2025-10-21T05:00Z"}
    )
    assert len(window.json()["items"]) == 1


async def test_min_notice_uses_the_clock(world: World) -> None:
    start = datetime.fromisoformat(local(TUESDAY, "10:00"))
    world.clock.now = start - timedelta(minutes=119)
    assert_problem(await world.book(start.isoformat()), 422)
    world.clock.now = start - timedelta(minutes=120)
    booked = await world.booked(start.isoformat())
    assert booked["status"] == AppointmentStatus.BOOKED
