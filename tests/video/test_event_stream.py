"""Room events through the gateway: a listener who leaves frees the stream behind the gateway."""

import uuid

import httpx

from tests.video.conftest import VideoWorld
from tests.video.peers import VIDEO, until


async def test_a_listener_who_goes_away_is_let_go_by_the_gateway_and_the_service(
    video: VideoWorld,
) -> None:
    room = await video.room()
    token = await video.token(room)
    room_id = uuid.UUID(room["id"])
    async with (
        httpx.AsyncClient(base_url=video.url, timeout=10) as listener,
        listener.stream(
            "GET", f"{VIDEO}/rooms/{room_id}/events", params={"token": token}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                break
        assert video.live.events.listeners(room_id) == 1
    # The listener's connection is closed; nothing else will ever end this stream.
    await until(lambda: video.live.events.listeners(room_id) == 0, within=10)
