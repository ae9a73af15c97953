"""Video rooms with two video instances: every call of a room reaches the instance that holds
its peer connections, so two real peers meet there and see each other; rooms spread over both."""

import uuid
from typing import Any

from fastapi import FastAPI

from services.common.db import utcnow
from services.common.rendezvous import owner
from tests.conftest import Actor
from tests.scaleout.conftest import ScaledStack
from tests.video.peers import VIDEO, Peer, until

DOCTOR, PATIENT = (320, 240), (256, 192)
ROOM_ROUTE = "/api/video/rooms/{room_id}"


async def new_room(scaled: ScaledStack, host: Actor) -> dict[str, Any]:
    body = {"kind": "follow_up", "title": "Follow-up", "starts_at": utcnow().isoformat()}
    response = await scaled.client.post(f"{VIDEO}/rooms", json=body, headers=host.headers)
    assert response.status_code == 201, response.text
    room: dict[str, Any] = response.json()
    return room


async def issue(scaled: ScaledStack, actor: Actor, room: dict[str, Any], what: str,
                body: dict[str, Any]) -> str:  # fmt: skip
    response = await scaled.client.post(
        f"{VIDEO}/rooms/{room['id']}/{what}", json=body, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def sessions(app: FastAPI) -> set[str]:
    return {str(participant) for participant in app.state.live.hub.sessions}


async def test_two_peers_meet_on_the_room_instance_and_see_each_other(
    scaled: ScaledStack,
) -> None:
    organization = await scaled.stack.organization()
    host = await scaled.stack.actor("specialist", organization, "cardiology")
    coordinator = await scaled.stack.actor("coordinator", organization)
    room = await new_room(scaled, host)
    link = {"patient_id": str(uuid.uuid4()), "display_name": "Ivan Petrov"}
    doctor_token = await issue(scaled, host, room, "tokens", {})
    patient_token = await issue(scaled, coordinator, room, "patient-link", link)
    doctor = Peer(scaled.http, room["id"], doctor_token, DOCTOR)
    patient = Peer(scaled.http, room["id"], patient_token, PATIENT)
    instances = scaled.instances["video"]
    home = owner([instance.url for instance in instances], room["id"])
    (held,) = [instance.app for instance in instances if instance.url == home]
    (other,) = [instance.app for instance in instances if instance.url != home]
    try:
        assert (await doctor.join()).status_code == 201
        assert (await patient.join()).status_code == 201
        assert (doctor.state, patient.state) == ("admitted", "waiting")
        assert sessions(held) == {doctor.participant_id, patient.participant_id}
        assert sessions(other) == set()
        admit = await scaled.http.post(
            f"{VIDEO}/rooms/{room['id']}/participants/{patient.participant_id}/admit",
            headers=doctor.headers,
        )
        assert admit.status_code == 200, admit.text
        await until(lambda: doctor.got(PATIENT) and patient.got(DOCTOR))

        # Closing comes through the gateway too (as scheduling's does when a visit is
        # cancelled): it reaches the instance holding the call, which hangs everyone up.
        closed = await scaled.client.post(f"{VIDEO}/rooms/{room['id']}/close",
                                          headers=host.headers)  # fmt: skip
        assert closed.status_code == 200, closed.text
        await until(lambda: held.state.live.hub.peer_connections == 0)
        assert other.state.live.hub.peer_connections == 0
    finally:
        await doctor.close()
        await patient.close()


async def test_rooms_spread_over_both_instances_and_each_stays_on_its_own(
    scaled: ScaledStack,
) -> None:
    organization = await scaled.stack.organization()
    host = await scaled.stack.actor("specialist", organization, "cardiology")
    urls = [instance.url for instance in scaled.instances["video"]]
    homes: dict[str, str] = {}
    while len(set(homes.values())) < len(urls):  # each room lands on either with even odds
        assert len(homes) < 30, "every room went to one instance"
        room = await new_room(scaled, host)
        before = await scaled.served("video", "GET", ROOM_ROUTE)
        for written in (room["id"], room["id"].upper(), room["id"]):  # however the id is written
            view = await scaled.client.get(f"{VIDEO}/rooms/{written}", headers=host.headers)
            assert view.status_code == 200, view.text
        added = [now - then for now, then in zip(await scaled.served("video", "GET", ROOM_ROUTE),
                                                 before, strict=True)]  # fmt: skip
        assert sorted(added) == [0, 3], "a room's calls went to both instances"
        homes[room["id"]] = urls[added.index(3)]
        assert homes[room["id"]] == owner(urls, room["id"])
