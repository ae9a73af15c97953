"""Visit chains through the gateway: in person first, fulfilled, then remote follow-ups with
video rooms, one by one or as a series; and who may see and do what along the way."""

from datetime import datetime

from sqlalchemy import select

from services.common.audit import verify_chain
from services.scheduling.models import KERNEL_TABLES
from tests.scheduling.conftest import SCHEDULING, World, assert_problem, local


async def test_first_visit_in_person_then_remote_follow_ups_with_rooms(world: World) -> None:
    first = await world.booked(local("2025-10-21", "10:00"))
    episode_id = first["episode_id"]
    assert first["room"] is None  # an in-person visit needs no video room
    remote = {"visit_type": "remote", "episode_id": episode_id, "patient_id": None}
    early = assert_problem(await world.book(local("2025-10-28", "10:00"), **remote), 409)
    assert "fulfilled in-person first visit" in early["detail"]
    assert early["first_visit_status"] == "booked"
    outside = assert_problem(
        await world.book(local("2025-10-28", "10:00"), visit_type="remote"), 409
    )
    assert "episode" in outside["detail"]

    too_early = assert_problem(await world.act(world.cardiologist, first["id"], "fulfil"), 409)
    assert too_early["current_status"] == "booked"
    assert_problem(await world.act(world.medic, first["id"], "arrive"), 403)
    await world.fulfil_first_visit_of(first)

    episode = (await world.get(world.patient, f"/episodes/{episode_id}")).json()
    assert episode["first_visit_fulfilled"] is True
    assert episode["practitioner_id"] == str(world.cardiologist.id)
    follow_up = await world.booked(local("2025-10-28", "10:00"), **remote)
    assert follow_up["visit_type"] == "remote"
    assert follow_up["patient_id"] == str(world.patient.id)
    assert follow_up["room"] == {"state": "pending", "room_id": None, "join_url": None,
                                 "join_opens_at": "2025-10-28T02:45:00Z",  # 15 minutes ahead
                                 "join_closes_at": follow_up["end"]}  # fmt: skip
    cancelled = await world.act(world.patient, follow_up["id"], "cancel")
    assert cancelled.json()["room"]["state"] == "released"
    other = await world.book(
        local("2025-10-28", "11:00"), **remote, practitioner_id=str(world.colleague.id)
    )
    assert_problem(other, 404)  # the colleague keeps no schedule yet
    await world.create_schedule(world.colleague)
    other = await world.book(
        local("2025-10-28", "11:00"), **remote, practitioner_id=str(world.colleague.id)
    )
    assert "is with practitioner" in assert_problem(other, 422)["detail"]


async def test_a_series_books_what_it_can_and_reports_the_rest(world: World) -> None:
    first = await world.booked(local("2025-10-21", "10:00"))
    await world.fulfil_first_visit_of(first)
    # Someone else holds the third date; the cardiologist is on leave on the fourth.
    await world.booked(local("2025-11-18", "11:00"), patient_id=str(world.other_patient.id))
    leave = {"kind": "unavailable", "start": local("2025-12-02", "00:00"),
             "end": local("2025-12-03", "00:00")}  # fmt: skip
    created = await world.client.post(
        f"{SCHEDULING}/schedules/{world.schedule['id']}/exceptions",
        json=leave,
        headers=world.cardiologist.headers,
    )
    assert created.status_code == 201
    series = {"first_start": local("2025-10-21", "11:00"), "every_days": 14, "count": 6}
    path = f"{SCHEDULING}/episodes/{first['episode_id']}/follow-ups"
    headers = world.cardiologist.headers | {"Idempotency-Key": "series-1"}
    response = await world.client.post(path, json=series, headers=headers)
    assert response.status_code == 200, response.text
    planned = response.json()
    assert [item["outcome"] for item in planned["items"]] == [
        "booked", "booked", "conflict", "unavailable", "booked", "booked",
    ]  # fmt: skip
    assert planned["booked"] == 4
    assert "is taken" in planned["items"][2]["detail"]
    booked = [item["appointment"] for item in planned["items"] if item["appointment"]]
    assert {item["series_id"] for item in booked} == {planned["series_id"]}
    assert {item["local"]["start"][11:] for item in booked} == {"11:00:00+07:00"}
    replay = await world.client.post(path, json=series, headers=headers)
    assert replay.json() == planned
    assert replay.headers["idempotent-replayed"] == "true"
    assert_problem(
        await world.client.post(path, json=series | {"count": 27}, headers=world.medic.headers),
        422,
    )
    outsider = await world.client.post(path, json=series, headers=world.colleague.headers)
    assert_problem(outsider, 404)


async def test_a_series_of_remote_visits_needs_the_first_visit(world: World) -> None:
    first = await world.booked(local("2025-10-21", "10:00"))
    series = {"first_start": local("2025-10-28", "11:00"), "every_days": 14, "count": 2}
    response = await world.client.post(
        f"{SCHEDULING}/episodes/{first['episode_id']}/follow-ups",
        json=series,
        headers=world.cardiologist.headers,
    )
    assert_problem(response, 409)
    listed = await world.get(world.cardiologist, "/appointments")
    assert len(listed.json()["items"]) == 1


async def test_episodes_by_specialty_pick_their_specialist_at_the_first_booking(
    world: World,
) -> None:
    response = await world.client.post(
        f"{SCHEDULING}/episodes",
        json={"patient_id": str(world.patient.id), "specialty": "Cardiology"},
        headers=world.medic.headers,
    )
    assert response.status_code == 201, response.text
    episode = response.json()
    assert episode["practitioner_id"] is None
    assert episode["patient_timezone"] == "Asia/Vladivostok"
    assert_problem(await world.get(world.cardiologist, f"/episodes/{episode['id']}"), 404)
    neuro = await world.create_schedule(world.neurologist)
    wrong = await world.book(
        local("2025-10-21", "10:00"),
        episode_id=episode["id"],
        practitioner_id=str(world.neurologist.id),
    )
    assert "specialist in cardiology" in assert_problem(wrong, 422)["detail"]
    assert neuro["specialty"] == "neurology"
    first = await world.booked(local("2025-10-21", "10:00"), episode_id=episode["id"])
    assert first["episode_id"] == episode["id"]
    seen = await world.get(world.cardiologist, f"/episodes/{episode['id']}")
    assert seen.json()["practitioner_id"] == str(world.cardiologist.id)
    assert_problem(await world.get(world.other_medic, f"/episodes/{episode['id']}"), 404)
    assert_problem(await world.get(world.other_patient, f"/episodes/{episode['id']}"), 404)
    mine = await world.get(world.patient, "/episodes")
    assert [item["id"] for item in mine.json()] == [episode["id"]]

    for actor, status in ((world.patient, 403), (world.medic, 200)):
        closed = await world.client.post(
            f"{SCHEDULING}/episodes/{episode['id']}/close", headers=actor.headers
        )
        assert closed.status_code == status, closed.text
    again = await world.book(local("2025-10-22", "10:00"), episode_id=episode["id"])
    assert assert_problem(again, 409)["current_status"] == "closed"
    foreign = await world.client.post(
        f"{SCHEDULING}/episodes",
        json={"patient_id": str(world.patient.id), "specialty": "cardiology"},
        headers=world.cardiologist.headers,
    )
    assert_problem(foreign, 403)


async def test_appointments_are_private_and_every_read_is_audited(world: World) -> None:
    visit = await world.booked(local("2025-10-21", "10:00"))
    path = f"/appointments/{visit['id']}"
    for actor in (world.patient, world.cardiologist, world.medic, world.coordinator):
        assert (await world.get(actor, path)).status_code == 200
    for actor in (world.other_patient, world.colleague, world.other_medic):
        assert_problem(await world.get(actor, path), 404)
    assert world.stack.admin is not None
    assert_problem(await world.get(world.stack.admin, path), 404)
    assert_problem(await world.book(local("2025-10-21", "11:00"), world.patient), 403)
    assert_problem(await world.book(local("2025-10-21", "11:00"), world.colleague), 403)
    assert_problem(await world.act(world.other_patient, visit["id"], "cancel"), 404)
    assert_problem(await world.act(world.patient, visit["id"], "arrive"), 403)
    listed = await world.get(world.other_patient, "/appointments")
    assert listed.json()["items"] == []
    assert len((await world.get(world.patient, "/appointments")).json()["items"]) == 1

    records = KERNEL_TABLES.audit.records
    async with world.database.sessionmaker() as session:
        rows = (
            await session.execute(
                select(records.c.action, records.c.actor_id, records.c.outcome).where(
                    records.c.resource_id == visit["id"]
                )
            )
        ).all()
        assert (await verify_chain(session, KERNEL_TABLES.audit)).intact
    reads = {(row.actor_id, row.outcome) for row in rows if row.action == "appointment.read"}
    for actor in (world.patient, world.cardiologist, world.medic, world.coordinator):
        assert (str(actor.id), "success") in reads
    for actor in (world.other_patient, world.colleague, world.other_medic):
        assert (str(actor.id), "denied") in reads
    assert ("appointment.book", str(world.medic.id), "success") in rows


async def test_a_visit_can_be_missed_or_marked_as_an_error(world: World) -> None:
    visit = await world.booked(local("2025-10-21", "10:00"))
    checked = await world.act(world.patient, visit["id"], "check-in")
    assert checked.json()["status"] == "checked_in"
    world.clock.now = datetime.fromisoformat(visit["start"])
    missed = await world.act(world.cardiologist, visit["id"], "no-show")
    assert missed.json()["status"] == "noshow"
    error = await world.act(world.cardiologist, visit["id"], "enter-in-error")
    assert error.json()["status"] == "entered_in_error"
    assert_problem(await world.act(world.cardiologist, visit["id"], "enter-in-error"), 409)
