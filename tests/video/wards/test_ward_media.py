"""The overview through real aiortc peers: beds publish with their device credentials, the
grid gets a keyframe a second, the bed opened full-size every frame, an empty bed nothing;
talking reaches the tablet; a bed whose picture stops raises an alarm (events, webhook, audit)
that clears when frames return."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.common.db import Database
from services.video.models import KERNEL_TABLES
from tests.video.cameras import LoopbackCamera
from tests.video.peers import until
from tests.video.wards.bots import Watcher
from tests.video.wards.conftest import WARDS, WardWorld, ward_world
from tests.webhooks.receiver import FAST_WEBHOOKS, Receiver, manager, subscribe

BEDS = (
    {"label": "Bed 1", "patient_ref": "IB 1"},
    {"label": "Bed 2", "patient_ref": "IB 2"},
    {"label": "Bed 3"},  # empty: nothing of it reaches a viewer
)


async def audit_actions(world: WardWorld) -> list[tuple[str, str | None]]:
    database: Database = world.video.stack.apps["video"].state.database
    records = KERNEL_TABLES.audit.records
    async with database.sessionmaker() as session:
        rows = await session.execute(
            select(records.c.action, records.c.detail).order_by(records.c.id)
        )
        return [(row.action, row.detail) for row in rows]


async def frames_in(watcher: Watcher, mid: str, seconds: float) -> int:
    before = watcher.received[mid]
    await asyncio.sleep(seconds)
    return watcher.received[mid] - before


async def test_the_grid_gets_keyframes_and_the_opened_bed_every_frame(ward: WardWorld) -> None:
    icu = await ward.ward(*BEDS)
    one, two, empty = icu["beds"]
    tablet, *_ = [await ward.bedside(icu, bed) for bed in (one, two, empty)]
    doctor = await ward.watcher(icu, tone=440)
    assert [tile["bed_id"] for tile in doctor.viewer["tiles"]] == [
        one["id"],
        two["id"],
        empty["id"],
    ]

    await until(
        lambda: (
            doctor.received[doctor.tile(one["id"])] >= 2
            and doctor.received[doctor.tile(two["id"])] >= 2
        )
    )
    grid = await frames_in(doctor, doctor.tile(one["id"]), 3.0)
    assert 1 <= grid <= 6, grid  # about one picture a second, not fifteen
    assert doctor.received[doctor.tile(empty["id"])] == 0

    opened = await doctor.put("focus", {"bed_id": one["id"]})
    assert opened.status_code == 200, opened.text
    focus_mid = doctor.viewer["focus_mid"]
    await until(lambda: doctor.received[focus_mid] >= 5)
    assert await frames_in(doctor, focus_mid, 2.0) >= 15  # every frame: 15 fps sent
    refused = await doctor.put("focus", {"bed_id": empty["id"]})
    assert refused.status_code == 409

    # Talking: the tablet is told, and hears the doctor's voice.
    told: list[dict[str, Any]] = []
    await tablet.events(told)
    await until(lambda: told == [{"event": "bed.talk", "talking": False}])
    talking = await doctor.put("talk", {"talking": True})
    assert talking.status_code == 200
    assert talking.json()["talking"] is True
    await until(lambda: told[-1]["talking"] is True)
    await until(lambda: tablet.voice >= 10)
    await doctor.put("focus", {"bed_id": None})
    await until(lambda: told[-1]["talking"] is False)

    actions = await audit_actions(ward)
    watched = [detail for action, detail in actions if action == "ward.watch"]
    assert len(watched) == 1
    assert f"by={ward.intensivist.id}" in str(watched[0])
    viewed = [detail for action, detail in actions if action in ("bed.view", "bed.view.end")]
    assert len(viewed) == 2
    assert "seconds=" in str(viewed[1])


@pytest.fixture
async def alarmed(
    clean_databases: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[WardWorld, Receiver]]:
    async with (
        Receiver().running() as receiver,
        ward_world(clean_databases, tmp_path, gateway=FAST_WEBHOOKS, ward_alarm_after=2.0) as world,
    ):
        yield world, receiver


async def test_a_bed_whose_picture_stops_raises_an_alarm_that_clears_itself(
    alarmed: tuple[WardWorld, Receiver],
) -> None:
    ward, receiver = alarmed
    hook = await manager(ward.video.stack, ward.centre)
    await subscribe(
        ward.video.stack, hook, receiver.url("icu"), ["ward.alarm_raised", "ward.alarm_cleared"]
    )
    icu = await ward.ward(BEDS[0])
    (bed,) = icu["beds"]
    tablet = await ward.bedside(icu, bed)
    token = await ward.watch_token(icu)
    seen: list[dict[str, Any]] = []

    async def read() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with ward.video.http.stream(
            "GET", f"{WARDS}/{icu['id']}/events", headers=headers, timeout=None
        ) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    seen.append(json.loads(line[5:]))

    reader = asyncio.create_task(read())
    try:
        await until(
            lambda: any(e["event"] == "ward.state" and e["beds"][0]["online"] for e in seen)
        )
        await tablet.close()  # the cable is pulled
        cut = time.monotonic()
        await until(lambda: any(e["event"] == "bed.alarm" for e in seen), within=10)
        assert time.monotonic() - cut < 2.0 + 2.0  # the threshold and a tick or two
        alarms = await ward.client.get(
            f"{WARDS}/{icu['id']}/alarms", params={"open": "true"}, headers=ward.intensivist.headers
        )
        (alarm,) = alarms.json()
        assert alarm["bed_id"] == bed["id"]
        assert alarm["last_frame_at"] is not None
        await until(lambda: [r.event["type"] for r in receiver.at("icu")] == ["ward.alarm_raised"])
        raised = receiver.at("icu")[0].event
        assert raised["resource"] == {"type": "bed", "id": bed["id"]}
        assert raised["data"]["bed_label"] == "Bed 1"

        assert (await tablet.connect()).status_code == 201  # the tablet reconnects by itself
        await until(lambda: any(e["event"] == "bed.alarm_cleared" for e in seen))
        await until(lambda: len(receiver.at("icu")) == 2)
        assert receiver.at("icu")[1].event["type"] == "ward.alarm_cleared"
        cleared = await ward.client.get(
            f"{WARDS}/{icu['id']}/alarms", headers=ward.intensivist.headers
        )
        assert cleared.json()[0]["cleared_at"] is not None
    finally:
        reader.cancel()
    actions = [action for action, _ in await audit_actions(ward)]
    assert actions.count("bed.alarm.raise") == 1
    assert actions.count("bed.alarm.clear") == 1


async def test_an_occupied_bed_that_never_sends_a_picture_alarms_too(ward: WardWorld) -> None:
    icu = await ward.ward(BEDS[0], BEDS[2])
    for bed in icu["beds"]:
        await ward.device(icu, bed)
    path = f"{WARDS}/{icu['id']}/alarms"

    async def open_alarms() -> list[str]:
        answer = await ward.client.get(
            path, params={"open": "true"}, headers=ward.intensivist.headers
        )
        return [alarm["bed_id"] for alarm in answer.json()]

    await until(lambda: open_alarms(), within=8)  # type: ignore[arg-type,return-value]
    assert await open_alarms() == [icu["beds"][0]["id"]]  # the empty bed raises none


async def test_an_ip_camera_reaches_the_grid_as_it_was_encoded_and_alarms_when_cut(
    ward: WardWorld,
) -> None:
    async with LoopbackCamera() as camera:
        icu = await ward.ward(
            {"label": "Bed 4", "patient_ref": "IB 4", "source": "rtsp", "rtsp_url": camera.url}
        )
        (bed,) = icu["beds"]
        doctor = await ward.watcher(icu)
        tile = doctor.tile(bed["id"])
        await until(lambda: doctor.received[tile] >= 2)
        assert 1 <= await frames_in(doctor, tile, 3.0) <= 6  # the camera's keyframe a second
        await doctor.put("focus", {"bed_id": bed["id"]})
        focus_mid = doctor.viewer["focus_mid"]
        assert focus_mid == "1"  # the H.264 slot: the camera's frames, not encoded again
        await until(lambda: doctor.received[focus_mid] >= 5)
        assert await frames_in(doctor, focus_mid, 2.0) >= 15
        refused = await doctor.put("talk", {"talking": True})
        assert refused.status_code == 409  # a camera has no tablet to talk through

        path = f"{WARDS}/{icu['id']}/alarms"

        async def alarm(open_now: bool) -> bool:
            answer = await ward.client.get(path, headers=ward.intensivist.headers)
            alarms = answer.json()
            return bool(alarms) and (alarms[0]["cleared_at"] is None) == open_now

        await camera.cut()
        await until(lambda: alarm(open_now=True), within=10)
        await camera.restore()
        await until(lambda: alarm(open_now=False), within=20)


async def test_a_browser_without_h264_sees_the_camera_decoded(ward: WardWorld) -> None:
    async with LoopbackCamera() as camera:
        icu = await ward.ward(
            {"label": "Bed 5", "patient_ref": "IB 5", "source": "rtsp", "rtsp_url": camera.url}
        )
        (bed,) = icu["beds"]
        doctor = await ward.watcher(icu, codecs=("video/vp8",))
        await doctor.put("focus", {"bed_id": bed["id"]})
        assert doctor.viewer["focus_mid"] == "0"
        await until(lambda: doctor.received["0"] >= 10)
        await until(lambda: doctor.received[doctor.tile(bed["id"])] >= 2)


async def test_ending_the_agreement_ends_the_watching(ward: WardWorld) -> None:
    icu = await ward.ward(BEDS[0])
    await ward.bedside(icu, icu["beds"][0])
    doctor = await ward.watcher(icu)
    await until(lambda: doctor.received[doctor.tile(icu["beds"][0]["id"])] >= 1)
    ended = await ward.client.patch(
        f"{WARDS}/{icu['id']}", json={"watcher_ids": []}, headers=ward.coordinator.headers
    )
    assert ended.status_code == 200, ended.text
    await until(lambda: not ward.wards.viewers)
    gone = await ward.video.http.get(doctor.location, headers=doctor.headers)
    assert gone.status_code == 404
    stale = Watcher(ward.video.http, icu["id"], token=doctor.token)
    ward.bots.append(stale)
    assert (
        await stale.connect(1)
    ).status_code == 403  # the token outlived the agreement; the viewing did not
    reasons = [d for a, d in await audit_actions(ward) if a == "ward.unwatch"]
    assert reasons == [f"by={ward.intensivist.id}; viewer={doctor.viewer['viewer_id']}; "
                       "reason=no longer watches the ward"]  # fmt: skip
