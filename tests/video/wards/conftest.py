"""A ward world: a district hospital with an ICU ward, its coordinator and doctor, the regional
centre that watches it and its intensivist, and a doctor of another region."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.video.wards.live import WardsLive
from tests.conftest import Actor
from tests.video.conftest import VideoWorld, video_world
from tests.video.wards.bots import Bedside, Watcher

WARDS = "/api/video/wards"


@dataclass
class WardWorld:
    video: VideoWorld
    hospital: dict[str, Any]
    centre: dict[str, Any]
    coordinator: Actor  # the hospital's
    intensivist: Actor  # the regional centre's
    stranger: Actor  # a specialist of another region
    bots: list[Bedside | Watcher] = field(default_factory=list)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.video.stack.client

    @property
    def wards(self) -> WardsLive:
        runtime: WardsLive = self.video.stack.apps["video"].state.wards
        return runtime

    async def ward(self, *beds: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """A ward the centre watches, with `beds` added in order."""
        body = {"name": "ICU", "watcher_ids": [self.centre["id"]]} | fields
        created = await self.client.post(WARDS, json=body, headers=self.coordinator.headers)
        assert created.status_code == 201, created.text
        ward: dict[str, Any] = created.json()
        for bed in beds:
            added = await self.client.post(
                f"{WARDS}/{ward['id']}/beds", json=bed, headers=self.coordinator.headers
            )
            assert added.status_code == 201, added.text
        return await self.read(ward["id"])

    async def read(self, ward_id: str, actor: Actor | None = None) -> dict[str, Any]:
        response = await self.client.get(
            f"{WARDS}/{ward_id}", headers=(actor or self.coordinator).headers
        )
        assert response.status_code == 200, response.text
        ward: dict[str, Any] = response.json()
        return ward

    async def device(self, ward: dict[str, Any], bed: dict[str, Any]) -> str:
        issued = await self.client.post(
            f"{WARDS}/{ward['id']}/beds/{bed['id']}/device", headers=self.coordinator.headers
        )
        assert issued.status_code == 201, issued.text
        credential: str = issued.json()["credential"]
        return credential

    async def watch_token(self, ward: dict[str, Any], actor: Actor | None = None) -> str:
        issued = await self.client.post(
            f"{WARDS}/{ward['id']}/watch-token", headers=(actor or self.intensivist).headers
        )
        assert issued.status_code == 201, issued.text
        token: str = issued.json()["token"]
        return token

    async def bedside(self, ward: dict[str, Any], bed: dict[str, Any]) -> Bedside:
        """A tablet bot publishing the bed's camera."""
        credential = await self.device(ward, bed)
        bot = Bedside(self.video.http, ward["id"], bed_id=bed["id"], credential=credential)
        self.bots.append(bot)
        response = await bot.connect()
        assert response.status_code == 201, response.text
        return bot

    async def watcher(self, ward: dict[str, Any], **options: Any) -> Watcher:
        token = await self.watch_token(ward)
        bot = Watcher(self.video.http, ward["id"], token=token, **options)
        self.bots.append(bot)
        response = await bot.connect(len(ward["beds"]))
        assert response.status_code == 201, response.text
        return bot


@contextlib.asynccontextmanager
async def ward_world(
    databases: dict[str, str], tmp_path: Path, **video_settings: Any
) -> AsyncIterator[WardWorld]:
    async with video_world(databases, tmp_path, **video_settings) as video:
        stack = video.stack
        hospital = await stack.organization()
        centre = await stack.organization(kind="regional_centre")
        elsewhere = await stack.organization(region="54", timezone="Asia/Novosibirsk")
        world = WardWorld(
            video,
            hospital,
            centre,
            await stack.actor("coordinator", hospital),
            await stack.actor("specialist", centre, "anesthesiology"),
            await stack.actor("specialist", elsewhere, "anesthesiology"),
        )
        try:
            yield world
        finally:
            for bot in world.bots:
                await bot.close()


@pytest.fixture
async def ward(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[WardWorld]:
    async with ward_world(clean_databases, tmp_path, ward_alarm_after=2.0) as world:
        yield world


def bed_id(ward: dict[str, Any], label: str) -> uuid.UUID:
    return uuid.UUID(next(bed["id"] for bed in ward["beds"] if bed["label"] == label))
