"""Video visits get their rooms from the real video service, through the gateway: set up at
booking as the scheduling service itself, asked for again while the video service was away,
closed when the visit is called off, and the patient's join link shortly before the start, from
the instant the appointment states. `join_link_before` is not its default (15 minutes) here, so
the window is seen to follow the setting."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gateway.models import ApiClient, kernel_tables
from services.common.uow import standalone_unit_of_work
from services.scheduling.models import KERNEL_TABLES
from services.scheduling.rooms import VideoRooms, fill_pending_rooms
from tests.conftest import Actor, Stack
from tests.scheduling.conftest import SCHEDULING, World, assert_problem, local, new_id
from tests.servers import free_port

VIDEO = "/api/video"
CLIENT_ID = "tmc_scheduling_test"
CLIENT_SECRET = "the scheduling service's test secret"
FIRST_VISIT = local("2025-10-21", "10:00")
FOLLOW_UP = local("2025-10-28", "10:00")  # 03:00Z
JOIN_LINK_BEFORE = timedelta(minutes=25)


@pytest.fixture
def scheduling_settings() -> dict[str, Any]:
    return {
        "reminder_interval_seconds": 3600.0,
        "video_client_id": CLIENT_ID,
        "video_client_secret": CLIENT_SECRET,
        "join_link_before": JOIN_LINK_BEFORE,
    }


@pytest.fixture(autouse=True)
async def scheduling_client(stack: Stack) -> None:
    """The API client scheduling signs in as, registered with the secret its settings hold."""
    platform = await stack.organization(kind="regional_centre")
    gateway = stack.apps["gateway"]
    async with standalone_unit_of_work(gateway.state.database, kernel_tables.audit) as uow:
        uow.session.add(
            ApiClient(
                client_id=CLIENT_ID,
                secret_hash=await gateway.state.secret_hasher.hash(CLIENT_SECRET),
                name="Scheduling service",
                organization_id=uuid.UUID(platform["id"]),
                scopes=["video:rooms"],
                is_service=True,
            )
        )


async def remote_follow_up(world: World, start: str = FOLLOW_UP, **fields: Any) -> Any:
    """A remote follow-up of the patient with the cardiologist, after the in-person visit."""
    episodes = await world.get(world.medic, "/episodes", patient=str(world.patient.id))
    if episodes.json():
        episode_id = episodes.json()[0]["id"]
    else:
        first = await world.booked(FIRST_VISIT)
        await world.fulfil_first_visit_of(first)
        episode_id = first["episode_id"]
    remote = {"visit_type": "remote", "episode_id": episode_id, "patient_id": None}
    return await world.booked(start, **(remote | fields))


async def video_room(world: World, room_id: str, actor: Actor | None = None) -> Any:
    response = await world.client.get(
        f"{VIDEO}/rooms/{room_id}", headers=(actor or world.cardiologist).headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def join_link(world: World, actor: Actor, appointment_id: str) -> Any:
    return await world.client.post(
        f"{SCHEDULING}/appointments/{appointment_id}/join-link", headers=actor.headers
    )


async def room_audit(world: World, appointment_id: str) -> list[tuple[str, str]]:
    """The audit trail's room entries of an appointment, oldest first."""
    records = KERNEL_TABLES.audit.records
    query = (
        select(records.c.action, records.c.outcome)
        .where(records.c.resource_id == appointment_id, records.c.action.like("room.%"))
        .order_by(records.c.id)
    )
    async with world.database.engine.connect() as connection:
        return [(row.action, row.outcome) for row in await connection.execute(query)]


def video_rooms(world: World) -> VideoRooms:
    rooms: VideoRooms = world.stack.apps["scheduling"].state.video_rooms
    return rooms


async def test_a_booked_remote_visit_gets_its_room_and_gives_it_back(world: World) -> None:
    case_id = new_id()
    granted = world.grant(world.medic, case_id)
    visit = await remote_follow_up(world, consult_case_id=case_id, grant=granted)
    assert visit["room"]["state"] == "ready"
    assert visit["room"]["join_url"] is None  # links are made on request, never stored
    room = await video_room(world, visit["room"]["room_id"])
    assert room["kind"] == "follow_up"
    assert room["status"] == "scheduled"
    assert room["host_id"] == str(world.cardiologist.id)
    assert room["organization_id"] == world.centre["id"]
    assert room["appointment_id"] == visit["id"]
    assert room["patient_id"] == str(world.patient.id)
    assert room["case_id"] == case_id
    assert datetime.fromisoformat(room["starts_at"]) == datetime.fromisoformat(visit["start"])

    moved = await world.act(
        world.medic, visit["id"], "reschedule", {"start": local("2025-10-28", "11:00")}
    )
    assert moved.status_code == 201, moved.text
    new = moved.json()
    assert new["room"]["state"] == "ready"
    assert new["room"]["room_id"] != visit["room"]["room_id"]
    assert (await video_room(world, visit["room"]["room_id"]))["status"] == "closed"
    assert (await video_room(world, new["room"]["room_id"]))["status"] == "scheduled"

    cancelled = await world.act(world.patient, new["id"], "cancel")  # the patient may not
    assert cancelled.status_code == 200, cancelled.text  # close rooms; scheduling may
    assert cancelled.json()["room"]["state"] == "released"
    assert (await video_room(world, new["room"]["room_id"]))["status"] == "closed"


async def test_a_district_medic_books_a_consultation_hosted_in_another_organisation(
    world: World,
) -> None:
    d2d = await world.booked(local("2025-10-22", "11:00"), visit_type="doctor_to_doctor",
                             patient_id=None)  # fmt: skip
    assert d2d["requesting_organization_id"] != d2d["organization_id"]
    room = await video_room(world, d2d["room"]["room_id"])
    assert (room["kind"], room["organization_id"]) == ("d2d", world.centre["id"])
    assert room["patient_id"] is None
    assert d2d["room"]["join_opens_at"] is d2d["room"]["join_closes_at"] is None  # none joins
    await video_room(world, room["id"], world.coordinator)  # the host's organisation owns it
    no_patient = assert_problem(await join_link(world, world.medic, d2d["id"]), 409)
    assert no_patient["visit_type"] == "doctor_to_doctor"

    cancelled = await world.act(world.medic, d2d["id"], "cancel")
    assert cancelled.json()["room"]["state"] == "released"
    assert (await video_room(world, room["id"]))["status"] == "closed"


async def test_a_room_the_video_service_could_not_give_is_asked_for_again(world: World) -> None:
    upstreams = world.stack.apps["gateway"].state.upstreams
    video_url = upstreams.urls["video"]
    upstreams.urls["video"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    try:
        first = await remote_follow_up(world)
        second = await remote_follow_up(world, local("2025-10-29", "10:00"))
        assert first["status"] == second["status"] == "booked"
        assert (first["room"]["state"], first["room"]["room_id"]) == ("pending", None)
        rooms = video_rooms(world)
        assert await fill_pending_rooms(world.database, KERNEL_TABLES.audit, rooms, 10,
                                        world.clock.now) == 0  # fmt: skip
    finally:
        upstreams.urls["video"] = video_url

    # The patient asking for the link is another try; the job fills in the rest.
    world.clock.now = datetime.fromisoformat(first["start"]) - timedelta(minutes=5)
    linked = await join_link(world, world.patient, first["id"])
    assert linked.status_code == 200, linked.text
    assert await fill_pending_rooms(world.database, KERNEL_TABLES.audit, rooms, 10,
                                    world.clock.now) == 1  # fmt: skip
    for visit in (first, second):
        found = (await world.get(world.medic, f"/appointments/{visit['id']}")).json()
        assert found["room"]["state"] == "ready"
        assert (await video_room(world, found["room"]["room_id"]))["appointment_id"] == visit["id"]
        assert await room_audit(world, visit["id"]) == [
            ("room.request", "failed"), ("room.request", "success"),
        ] + ([("room.join_link", "success")] if visit is first else [])  # fmt: skip


async def test_the_patient_gets_the_join_link_shortly_before_the_visit(world: World) -> None:
    visit = await remote_follow_up(world)
    early = assert_problem(await join_link(world, world.patient, visit["id"]), 409)
    assert early["opens_at"] == visit["room"]["join_opens_at"] == "2025-10-28T02:35:00Z"
    assert "25 minutes before" in early["detail"]
    assert_problem(await join_link(world, world.other_patient, visit["id"]), 404)

    world.clock.now = datetime.fromisoformat(visit["start"]) - timedelta(minutes=10)
    response = await join_link(world, world.patient, visit["id"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    link = response.json()
    assert link["room_id"] == visit["room"]["room_id"]
    token = link["join_url"].rsplit("/join/", 1)[1]
    joined = await world.client.get(
        f"{VIDEO}/rooms/{link['room_id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert joined.status_code == 200, joined.text
    assert joined.json()["appointment_id"] == visit["id"]
    assert datetime.fromisoformat(link["expires_at"]) > datetime.now(UTC)

    handed = await join_link(world, world.medic, visit["id"])  # staff pass it on
    assert handed.status_code == 200, handed.text
    assert_problem(await join_link(world, world.other_medic, visit["id"]), 404)
    assert_problem(await join_link(world, world.other_patient, visit["id"]), 404)
    await world.act(world.patient, visit["id"], "cancel")
    over = assert_problem(await join_link(world, world.patient, visit["id"]), 409)
    assert over["current_status"] == "cancelled"


async def test_the_appointment_states_the_window_its_join_link_is_issued_in(world: World) -> None:
    visit = await remote_follow_up(world)
    start, end = datetime.fromisoformat(visit["start"]), datetime.fromisoformat(visit["end"])
    opens = datetime.fromisoformat(visit["room"]["join_opens_at"])
    closes = datetime.fromisoformat(visit["room"]["join_closes_at"])
    assert (opens, closes) == (start - JOIN_LINK_BEFORE, end)
    listed = await world.get(world.patient, "/appointments", **{"from": FOLLOW_UP})
    episode = await world.get(world.patient, f"/episodes/{visit['episode_id']}")
    read = await world.get(world.patient, f"/appointments/{visit['id']}")
    for found in (listed.json()["items"][0], episode.json()["appointments"][-1], read.json()):
        assert found["room"] == visit["room"]

    world.clock.now = opens - timedelta(seconds=1)
    assert_problem(await join_link(world, world.patient, visit["id"]), 409)
    world.clock.now = opens
    assert (await join_link(world, world.patient, visit["id"])).status_code == 200
    world.clock.now = closes
    assert_problem(await join_link(world, world.patient, visit["id"]), 410)
