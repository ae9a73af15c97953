"""Availability and schedules through the gateway: zones and DST, regions far apart, filters,
and the problems bad queries get."""

from typing import Any

from tests.scheduling.conftest import SCHEDULING, WEEKDAYS, World, assert_problem, local


async def test_a_berlin_practitioner_across_the_october_change(world: World) -> None:
    berlin = await world.stack.organization(kind="regional_centre", timezone="Europe/Berlin")
    doctor = await world.stack.actor("specialist", berlin, "cardiology")
    morning = [{"weekday": day, "start": "09:00", "end": "09:30"} for day in range(5)]
    await world.create_schedule(doctor, weekly_hours=morning)
    found = await world.availability(
        "2025-10-24T00:00:00Z", "2025-10-28T00:00:00Z", practitioner=str(doctor.id)
    )
    slots = [(slot["start"], slot["local"]["start"]) for slot in found["slots"]]
    assert slots == [
        ("2025-10-24T07:00:00Z", "2025-10-24T09:00:00+02:00"),  # Friday, summer time
        ("2025-10-27T08:00:00Z", "2025-10-27T09:00:00+01:00"),  # Monday, winter time
    ]
    booked = await world.booked(
        "2025-10-27T09:00:00+01:00",
        practitioner_id=str(doctor.id),
        patient_timezone="Europe/Berlin",
    )
    assert booked["start"] == "2025-10-27T08:00:00Z"
    assert booked["patient_local"]["start"] == "2025-10-27T09:00:00+01:00"


async def test_every_window_offers_slots_that_book_on_a_24_hour_schedule(world: World) -> None:
    """Days that touch at midnight, 25-minute slots (a day is not a whole number of them): the
    last slot of a window days long books (it was refused as `off_grid` when the grid was
    anchored on the first day each request happened to load: the window's, or the slot's)."""
    doctor = await world.stack.actor("specialist", world.centre, "cardiology")
    always = [{"weekday": day, "start": "00:00", "end": "24:00"} for day in range(7)]
    await world.create_schedule(
        doctor, weekly_hours=always, slot_step_minutes=25, min_notice_minutes=0
    )
    for first_day, last_day in (("2025-10-21", "2025-10-24"), ("2025-10-22", "2025-10-23")):
        found = await world.availability(
            local(first_day, "07:00"), local(last_day, "07:00"), practitioner=str(doctor.id)
        )
        assert not found["truncated"]
        # The last slot offered: the farthest from the day the window's grid starts on.
        await world.booked(found["slots"][-1]["start"], practitioner_id=str(doctor.id))


async def test_a_district_at_utc_plus_10_books_the_centre_at_utc_plus_7(world: World) -> None:
    """The Vladivostok medic asks in their own zone and sees both clocks; 12:00 for them is
    09:00 at the Novosibirsk centre."""
    found = await world.availability(
        "2025-10-21T12:00", "2025-10-21T14:00", tz="Asia/Vladivostok"
    )  # naive: read in `tz`, i.e. 09:00-11:00 at the centre
    first = found["slots"][0]
    assert first["start"] == "2025-10-21T02:00:00Z"
    assert first["local"] == {
        "start": "2025-10-21T09:00:00+07:00",
        "end": "2025-10-21T09:30:00+07:00",
        "timezone": "Asia/Novosibirsk",
    }
    assert first["requested"]["start"] == "2025-10-21T12:00:00+10:00"
    assert found["slots"][-1]["requested"]["start"] == "2025-10-21T13:45:00+10:00"
    booked = await world.booked(first["requested"]["start"])
    assert booked["local"]["start"] == "2025-10-21T09:00:00+07:00"
    assert booked["patient_local"] == {"start": "2025-10-21T12:00:00+10:00",
                                       "end": "2025-10-21T12:30:00+10:00",
                                       "timezone": "Asia/Vladivostok"}  # fmt: skip
    after = await world.availability("2025-10-21T12:00", "2025-10-21T14:00", tz="Asia/Vladivostok")
    assert after["slots"][0]["requested"]["start"] == "2025-10-21T12:45:00+10:00"  # + buffer


async def test_a_specialty_across_practitioners_in_time_order(world: World) -> None:
    await world.create_schedule(
        world.colleague, weekly_hours=[{"weekday": 1, "start": "08:00", "end": "10:00"}]
    )
    await world.create_schedule(world.neurologist)
    query: dict[str, Any] = {"specialty": "Cardiology", "practitioner": None}
    found = await world.availability(local("2025-10-21", "00:00"), local("2025-10-22", "00:00"),
                                     **query)  # fmt: skip
    practitioners = {slot["practitioner_id"] for slot in found["slots"]}
    assert practitioners == {str(world.cardiologist.id), str(world.colleague.id)}
    starts = [slot["start"] for slot in found["slots"]]
    assert starts == sorted(starts)
    assert found["slots"][0]["practitioner_id"] == str(world.colleague.id)  # 08:00, earliest
    assert not found["truncated"]
    few = await world.availability(
        local("2025-10-21", "00:00"), local("2025-10-22", "00:00"), limit=3, **query
    )
    assert [slot["start"] for slot in few["slots"]] == starts[:3]
    assert few["truncated"]
    remote = await world.availability(
        local("2025-10-21", "00:00"), local("2025-10-22", "00:00"), visit_type="remote", **query
    )
    assert remote["slots"][0]["end"] > remote["slots"][0]["start"]
    assert all(slot["visit_type"] == "remote" for slot in remote["slots"])


async def test_bad_queries_are_problems(world: World) -> None:
    base: dict[str, str | None] = {"visit_type": "in_person", "specialty": "cardiology",
            "from": "2025-10-21T00:00:00Z", "to": "2025-10-22T00:00:00Z"}  # fmt: skip
    bad: list[dict[str, str | None]] = [
        {"tz": "Europe/Atlantis"},
        {"tz": "+07:00"},
        {"from": "2025-10-22T00:00:00Z", "to": "2025-10-21T00:00:00Z"},
        {"to": "2025-12-21T00:00:00Z"},  # longer than 31 days
        {"from": "yesterday"},
        {"specialty": None},
        {"specialty": "!!"},
        {"visit_type": "teleportation"},
        {"limit": "0"},
        {"practitioner": "not-a-uuid"},
    ]
    for change in bad:
        params = {key: value for key, value in (base | change).items() if value is not None}
        response = await world.get(world.medic, "/availability", **params)
        assert_problem(response, 422)
    unauthenticated = await world.client.get(f"{SCHEDULING}/availability", params=base)
    assert_problem(unauthenticated, 401)


async def test_who_keeps_which_schedule(world: World) -> None:
    assert world.schedule["timezone"] == "Asia/Novosibirsk"
    assert world.schedule["specialty"] == "cardiology"
    duplicate = await world.client.post(
        f"{SCHEDULING}/schedules", json={"weekly_hours": WEEKDAYS},
        headers=world.cardiologist.headers,
    )  # fmt: skip
    assert_problem(duplicate, 409)
    for actor in (world.medic, world.patient, world.coordinator):
        denied = await world.client.post(
            f"{SCHEDULING}/schedules", json={"weekly_hours": WEEKDAYS}, headers=actor.headers
        )
        assert_problem(denied, 403)
    nameless_room = await world.client.post(
        f"{SCHEDULING}/schedules", json={"kind": "room", "weekly_hours": WEEKDAYS},
        headers=world.coordinator.headers,
    )  # fmt: skip
    assert_problem(nameless_room, 422)
    overlapping = [{"weekday": 0, "start": "09:00", "end": "12:00"},
                   {"weekday": 0, "start": "11:00", "end": "13:00"}]  # fmt: skip
    for hours in (overlapping, [{"weekday": 0, "start": "12:00", "end": "09:00"}],
                  [{"weekday": 7, "start": "09:00", "end": "10:00"}]):  # fmt: skip
        invalid = await world.client.post(
            f"{SCHEDULING}/schedules", json={"weekly_hours": hours},
            headers=world.colleague.headers,
        )  # fmt: skip
        assert_problem(invalid, 422)

    path = f"{SCHEDULING}/schedules/{world.schedule['id']}"
    change = {"weekly_hours": [{"weekday": 1, "start": "09:00", "end": "10:00"}],
              "min_notice_minutes": 0, "slot_step_minutes": 30}  # fmt: skip
    assert_problem(await world.client.put(path, json=change, headers=world.medic.headers), 403)
    updated = await world.client.put(path, json=change, headers=world.coordinator.headers)
    assert updated.status_code == 200, updated.text
    found = await world.availability(local("2025-10-20", "00:00"), local("2025-10-27", "00:00"))
    assert [slot["local"]["start"] for slot in found["slots"]] == [
        "2025-10-21T09:00:00+07:00",
        "2025-10-21T09:30:00+07:00",
    ]
    listed = await world.get(world.patient, "/schedules", specialty="cardiology")
    assert [item["id"] for item in listed.json()] == [world.schedule["id"]]
