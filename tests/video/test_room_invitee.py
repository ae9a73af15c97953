"""A room's invitees (a case's requesting medic, a consilium's members): they see the room in
their list and take their own join tokens, as specialists who wait to be admitted, and nothing
more; the room's managers replace them. The room view tells a participant whose video each of
their receive slots shows."""

import uuid

from sqlalchemy import select

from services.common.db import Database
from services.video.models import KERNEL_TABLES
from tests.conftest import Actor
from tests.video.conftest import VideoWorld
from tests.video.peers import VIDEO, until


async def own_token(video: VideoWorld, room_id: str, actor: Actor, **body: object) -> int:
    response = await video.stack.client.post(
        f"{VIDEO}/rooms/{room_id}/tokens", json=body, headers=actor.headers
    )
    return response.status_code


async def rooms_of(video: VideoWorld, actor: Actor, **params: str) -> list[str]:
    response = await video.stack.client.get(f"{VIDEO}/rooms", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    return [room["id"] for room in response.json()]


async def test_the_invitee_sees_the_room_and_takes_only_their_own_token(
    video: VideoWorld,
) -> None:
    hospital = await video.stack.organization()
    medic = await video.stack.actor("district_medic", hospital)
    other_medic = await video.stack.actor("district_medic", hospital)
    case_id = str(uuid.uuid4())
    room = await video.room("d2d", case_id=case_id, invitee_ids=[str(medic.id)] * 2)
    assert room["invitee_ids"] == [str(medic.id)]  # a repeat is the same invitee
    unrelated = await video.room("d2d")

    assert await rooms_of(video, medic) == [room["id"]]
    assert await rooms_of(video, medic, case_id=case_id) == [room["id"]]
    assert await rooms_of(video, other_medic) == []
    assert set(await rooms_of(video, video.host)) == {room["id"], unrelated["id"]}
    assert await rooms_of(video, video.host, case_id=case_id) == [room["id"]]

    issued = await video.stack.client.post(
        f"{VIDEO}/rooms/{room['id']}/tokens", json={}, headers=medic.headers
    )
    assert issued.status_code == 201, issued.text
    assert issued.json()["identity"] == str(medic.id)
    assert issued.json()["grants"] == ["publish", "subscribe"]
    assert await own_token(video, room["id"], medic, identity="someone-else") == 403
    assert await own_token(video, room["id"], medic, grants=["admit"]) == 403
    assert await own_token(video, room["id"], medic, role="host") == 403
    assert await own_token(video, room["id"], other_medic) == 404
    assert await own_token(video, unrelated["id"], medic) == 404
    # Not a manager: the room's access-token view and closing stay the host's.
    view = await video.stack.client.get(f"{VIDEO}/rooms/{room['id']}", headers=medic.headers)
    assert view.status_code == 403

    closed = await video.stack.client.post(
        f"{VIDEO}/rooms/{room['id']}/close", headers=video.host.headers
    )
    assert closed.status_code == 200
    assert await rooms_of(video, medic) == []


async def test_only_a_doctor_of_the_region_is_invited(video: VideoWorld) -> None:
    far = await video.stack.organization(region="27", timezone="Asia/Vladivostok")
    far_medic = await video.stack.actor("district_medic", far)
    response = await video.stack.client.post(
        f"{VIDEO}/rooms",
        json={"kind": "d2d", "title": "Consultation", "starts_at": "2030-01-01T10:00:00Z",
              "invitee_ids": [str(far_medic.id)]},
        headers=video.host.headers,
    )  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"][-1] == "invitee_ids"


async def put_invitees(
    video: VideoWorld, room_id: str, actor: Actor, *invitees: Actor
) -> tuple[int, dict[str, object]]:
    response = await video.stack.client.put(
        f"{VIDEO}/rooms/{room_id}/invitees",
        json={"invitee_ids": [str(invitee.id) for invitee in invitees]},
        headers=actor.headers,
    )
    return response.status_code, response.json()


async def test_the_managers_replace_the_invitees(video: VideoWorld) -> None:
    hospital = await video.stack.organization()
    first, second, third = [await video.stack.actor("district_medic", hospital) for _ in "123"]
    neurologist = await video.stack.actor("specialist", hospital, "neurology")
    far = await video.stack.organization(region="27", timezone="Asia/Vladivostok")
    far_medic = await video.stack.actor("district_medic", far)
    room = await video.room("consilium", invitee_ids=[str(first.id), str(second.id)])
    assert room["invitee_ids"] == sorted([str(first.id), str(second.id)])

    status, changed = await put_invitees(video, room["id"], video.host, second, neurologist)
    assert status == 200, changed
    assert changed["invitee_ids"] == sorted([str(second.id), str(neurologist.id)])
    assert await rooms_of(video, first) == []
    assert await own_token(video, room["id"], first) == 404  # no longer invited: no such room
    assert await rooms_of(video, neurologist) == [room["id"]]
    assert await own_token(video, room["id"], neurologist) == 201
    status, changed = await put_invitees(video, room["id"], video.coordinator, third)
    assert (status, changed["invitee_ids"]) == (200, [str(third.id)])

    # Not the managers': an invitee is refused, anyone else does not see the room.
    assert (await put_invitees(video, room["id"], third, first))[0] == 403
    assert (await put_invitees(video, room["id"], far_medic, far_medic))[0] == 404
    status, refused = await put_invitees(video, room["id"], video.host, third, far_medic)
    assert status == 422, refused
    status, refused = await put_invitees(video, room["id"], video.host, *[third] * 8)
    assert status == 422, refused  # eight guests and the host overfill a room of eight
    assert (await rooms_of(video, third)) == [room["id"]]  # the refusals changed nothing

    closed = await video.stack.client.post(
        f"{VIDEO}/rooms/{room['id']}/close", headers=video.host.headers
    )
    assert closed.status_code == 200
    assert (await put_invitees(video, room["id"], video.host, first))[0] == 410

    database: Database = video.stack.apps["video"].state.database
    records = KERNEL_TABLES.audit.records
    query = (
        select(records.c.actor_id, records.c.outcome, records.c.detail)
        .where(records.c.action == "room.invitees")
        .order_by(records.c.id)
    )
    async with database.sessionmaker() as session:
        rows = [tuple(row) for row in await session.execute(query)]
    assert rows[:2] == [
        (str(video.host.id), "success",
         "invitees=" + ",".join(sorted([str(second.id), str(neurologist.id)]))),
        (str(video.coordinator.id), "success", f"invitees={third.id}"),
    ]  # fmt: skip
    assert [outcome for _, outcome, _ in rows[2:]] == ["denied", "denied", "denied"]


async def test_the_room_view_names_whose_video_each_slot_shows(video: VideoWorld) -> None:
    room = await video.room()
    doctor = video.peer(room, await video.token(room))
    patient_token = await video.patient_token(room, "Anna")
    patient = video.peer(room, patient_token)
    await doctor.join()
    await patient.join()
    try:
        view = await video.http.get(f"{VIDEO}/rooms/{room['id']}", headers=doctor.headers)
        waiting = next(p for p in view.json()["participants"] if p["state"] == "waiting")
        assert waiting["updated_at"]
        admitted = await video.http.post(
            f"{VIDEO}/rooms/{room['id']}/participants/{waiting['id']}/admit",
            headers=doctor.headers,
        )
        assert admitted.status_code == 200

        async def doctor_feeds() -> list[dict[str, str]]:
            seen = await video.http.get(f"{VIDEO}/rooms/{room['id']}", headers=doctor.headers)
            feeds: list[dict[str, str]] = seen.json()["feeds"]
            return feeds

        async def fed() -> bool:
            return bool(await doctor_feeds())

        await until(fed, within=10)
        (feed,) = await doctor_feeds()
        assert feed["participant_id"] == waiting["id"]
        assert feed["mid"]
        as_manager = await video.stack.client.get(
            f"{VIDEO}/rooms/{room['id']}", headers=video.host.headers
        )
        assert as_manager.json()["feeds"] == []  # an access token is not in the call
    finally:
        await patient.close()
        await doctor.close()
