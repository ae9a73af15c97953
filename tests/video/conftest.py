"""A video world: an organisation with a host specialist, a room, and helpers to issue tokens."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.common.db import utcnow
from services.video.live import Live
from tests.conftest import Actor, Stack, running_stack
from tests.servers import serve
from tests.video.peers import VIDEO, Peer

FAST = {"video": {"heartbeat_timeout": 2.0, "stats_interval": 0.5}}


@dataclass
class VideoWorld:
    stack: Stack
    host: Actor
    coordinator: Actor
    url: str  # the in-process gateway on a real socket, for streams and browsers
    http: httpx.AsyncClient  # a real HTTP client of `url`

    @property
    def live(self) -> Live:
        runtime: Live = self.stack.apps["video"].state.live
        return runtime

    async def room(self, kind: str = "follow_up", **fields: Any) -> dict[str, Any]:
        body = {"kind": kind, "title": "Follow-up", "starts_at": utcnow().isoformat()} | fields
        response = await self.stack.client.post(
            f"{VIDEO}/rooms", json=body, headers=self.host.headers
        )
        assert response.status_code == 201, response.text
        room: dict[str, Any] = response.json()
        return room

    async def token(self, room: dict[str, Any], actor: Actor | None = None, **body: Any) -> str:
        response = await self.stack.client.post(
            f"{VIDEO}/rooms/{room['id']}/tokens", json=body, headers=(actor or self.host).headers
        )
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    async def patient_token(self, room: dict[str, Any], name: str = "Ivan Petrov") -> str:
        response = await self.stack.client.post(
            f"{VIDEO}/rooms/{room['id']}/patient-link",
            json={"patient_id": str(uuid.uuid4()), "display_name": name},
            headers=self.coordinator.headers,
        )
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    def peer(self, room: dict[str, Any], token: str, size: tuple[int, int] = (320, 240)) -> Peer:
        return Peer(self.http, room["id"], token, size)


@contextlib.asynccontextmanager
async def video_world(
    databases: dict[str, str],
    tmp_path: Any,
    gateway: dict[str, Any] | None = None,
    **video_settings: Any,
) -> AsyncIterator[VideoWorld]:
    """`gateway`: the gateway's settings to override, e.g. fast webhook timings."""
    overrides = {"video": FAST["video"] | video_settings, "gateway": gateway or {}}
    async with contextlib.AsyncExitStack() as exits:
        stack = await exits.enter_async_context(running_stack(databases, tmp_path, overrides))
        organization = await stack.organization()
        host = await stack.actor("specialist", organization, "cardiology")
        coordinator = await stack.actor("coordinator", organization)
        url = await exits.enter_async_context(serve(stack.apps["gateway"], lifespan="off"))
        http = await exits.enter_async_context(httpx.AsyncClient(base_url=url, timeout=20))
        world = VideoWorld(stack, host, coordinator, url, http)
        yield world
        await world.live.close_all()
        assert world.live.hub.peer_connections == 0


@pytest.fixture
async def video(clean_databases: dict[str, str], tmp_path: Any) -> AsyncIterator[VideoWorld]:
    async with video_world(clean_databases, tmp_path) as world:
        yield world


def later(minutes: int) -> str:
    return (utcnow() + timedelta(minutes=minutes)).isoformat()
