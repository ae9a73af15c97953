"""Bad signalling input gets clear problems, never a server error, and leaks no connection."""

import asyncio
import uuid

from services.common.db import utcnow
from tests.video.conftest import VideoWorld, later
from tests.video.peers import Peer

PROBLEM = "application/problem+json"


async def post_offer(
    video: VideoWorld, room_id: str, token: str, body: str, media_type: str = "application/sdp"
) -> tuple[int, dict[str, object]]:
    response = await video.http.post(
        f"/api/video/rooms/{room_id}/sessions",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": media_type},
    )
    assert response.headers["content-type"] == PROBLEM, response.text
    return response.status_code, response.json()


async def test_bad_offers_are_clear_problems_and_leak_nothing(video: VideoWorld) -> None:
    assert type(asyncio.get_running_loop()).__module__.startswith("asyncio")  # not uvloop
    room, other = await video.room(), await video.room()
    token = await video.token(room)
    good = Peer(video.http, room["id"], token)
    sdp = await good.offer()
    await good.close()

    assert (await post_offer(video, room["id"], token, "v=0\r\nnonsense"))[0] == 400
    broken = "\r\n".join(line for line in sdp.splitlines() if not line.startswith("a=ice-"))
    assert (await post_offer(video, room["id"], token, broken))[0] == 400
    assert (await post_offer(video, room["id"], token, sdp, "text/plain"))[0] == 415
    assert (await post_offer(video, room["id"], token + "x", sdp))[0] == 401
    assert (await post_offer(video, room["id"], "not-a-token", sdp))[0] == 401
    status, body = await post_offer(video, other["id"], token, sdp)
    assert status == 403
    assert "another room" in str(body["detail"])
    assert video.live.hub.peer_connections == 0

    closed = await video.stack.client.post(
        f"/api/video/rooms/{room['id']}/close", headers=video.host.headers
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    status, body = await post_offer(video, room["id"], token, sdp)
    assert status == 410
    assert body["reason"] == "closed"
    assert video.live.hub.peer_connections == 0


async def test_ice_restart_is_refused_and_trickle_accepted(video: VideoWorld) -> None:
    room = await video.room()
    peer = video.peer(room, await video.token(room))
    try:
        await peer.join()
        assert peer.location is not None
        headers = peer.headers | {"Content-Type": "application/trickle-ice-sdpfrag"}
        candidate = "a=mid:0\r\na=candidate:1 1 udp 2130706431 10.9.9.9 9 typ host\r\n"
        response = await video.http.patch(peer.location, content=candidate, headers=headers)
        assert response.status_code == 204
        restart = "a=ice-ufrag:fresh\r\na=ice-pwd:brandnewpasswordbrandnew\r\n"
        response = await video.http.patch(peer.location, content=restart, headers=headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        assert (await peer.leave()).status_code == 204
        assert video.live.hub.peer_connections == 0
    finally:
        await peer.close()


async def test_room_opens_only_shortly_before_the_appointment(video: VideoWorld) -> None:
    room = await video.room(starts_at=later(120))
    status, body = await post_offer(video, room["id"], await video.token(room),
                                    await Peer(video.http, room["id"], "").offer())  # fmt: skip
    assert status == 409
    assert "opens_at" in body
    assert video.live.hub.peer_connections == 0


async def test_the_client_scheduling_uses(video: VideoWorld) -> None:
    from services.video.client import VideoClient
    from services.video.enums import RoomKind

    client = VideoClient(video.stack.client)
    bearer = video.coordinator.access_token
    room = await client.create_room(
        bearer, kind=RoomKind.FOLLOW_UP, title="Follow-up", starts_at=utcnow(),
        host_id=video.host.id,
    )  # fmt: skip
    link = await client.patient_join_link(room.id, uuid.uuid4(), "Ivan Petrov", bearer)
    assert link.join_url.endswith(f"/join/{link.token}")
    assert (await client.release_room(room.id, bearer)).status == "closed"
