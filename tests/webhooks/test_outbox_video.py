"""The video service's event in its outbox: a recording announced once the files service has
stored it, when it stops or, if the files service could not take it then, when it is stored
later; a recording kept unstored announces nothing."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port
from tests.video.conftest import VideoWorld, video_world
from tests.video.peers import Peer, until
from tests.video.test_recording import consent
from tests.webhooks.test_outbox import Feed

RECORDING = "/api/video/rooms/{}/recording"


@pytest.fixture
async def video(
    clean_databases: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[VideoWorld]:
    """The video tests' world, with the gateway's relay kept off the feeds."""
    monkeypatch.setenv("TELEMED_GATEWAY_EVENT_SOURCES", "[]")
    async with video_world(clean_databases, tmp_path) as world:
        assert world.stack.apps["gateway"].state.settings.event_sources == []
        yield world


async def record(video: VideoWorld, room: dict[str, str], peer: Peer) -> httpx.Response:
    """Records the host's camera for a few frames; returns the answer to stopping it."""
    await consent(video, peer)
    path = RECORDING.format(room["id"])
    started = await video.stack.client.post(path, headers=video.host.headers)
    assert started.status_code == 201, started.text
    await until(lambda: video.live.recordings[uuid.UUID(room["id"])].fed > 10)
    return await video.stack.client.delete(path, headers=video.host.headers)


async def test_a_stored_recording_is_announced(video: VideoWorld) -> None:
    feed = Feed(video.stack, "video")
    case_id = str(uuid.uuid4())
    room = await video.room(case_id=case_id)
    doctor = video.peer(room, await video.token(room))
    try:
        await doctor.join()
        stopped = await record(video, room, doctor)
        assert stopped.status_code == 200, stopped.text
        (ready,) = await feed.pending()
        assert ready["type"] == "recording.ready"
        assert ready["resource"] == {"type": "room", "id": room["id"]}
        assert ready["organization_ids"] == [room["organization_id"]]
        assert ready["data"] == {
            "file_id": stopped.json()["file_id"],
            "room_kind": "follow_up",
            "case_id": case_id,
            "appointment_id": None,
        }
        await feed.drain()

        # The files service is down when the next recording stops: kept, not announced.
        upstreams = video.stack.apps["gateway"].state.upstreams
        files_url = upstreams.urls["files"]
        upstreams.urls["files"] = f"http://127.0.0.1:{free_port()}"
        kept = await record(video, room, doctor)
        assert kept.json()["unstored"] is True
    finally:
        await doctor.close()
    assert await feed.pending() == []
    upstreams.urls["files"] = files_url
    store = f"{RECORDING.format(room['id'])}/store"
    stored = await video.stack.client.post(store, headers=video.host.headers)
    assert stored.status_code == 200, stored.text
    (later,) = await feed.pending()
    assert later["type"] == "recording.ready"
    assert later["data"]["file_id"] == stored.json()["file_id"] != ready["data"]["file_id"]
    file = await video.stack.client.get(
        f"/api/files/files/{later['data']['file_id']}", headers=video.host.headers
    )
    assert (file.json()["kind"], file.json()["case_id"]) == ("recording", None)
