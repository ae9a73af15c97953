"""PBX calls through the gateway: events taken once per (call, event), a dropped call's one
callback, recordings fetched from a loopback recording server (or uploaded by the PBX's client)
and stored through the files service, calls linked to appeals, and who may do what."""

import asyncio
import io
import math
import struct
import wave
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import Actor, Stack, running_stack
from tests.consult.appeals.conftest import CONSULT, Hotline, at
from tests.consult.conftest import _api_client
from tests.scheduling.conftest import assert_problem
from tests.servers import serve

CALLER = "+7 913 123-45-67"
# Recordings are stored as the client's files; it reads back those it uploads itself.
TELEPHONY = ["telephony:events", "files:write", "files:read"]


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of a 440 Hz tone, as a PBX records a call."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(rate)
        recording.writeframes(frames)
    return buffer.getvalue()


RECORDING = wav_bytes()


def recording_server() -> Starlette:
    """The PBX's recording server: `/rec/<name>.wav` serves the tone, `/rec/gone.wav` a 404,
    `/rec/page.wav` a web page; `/private/` is outside the sources consult is given."""

    async def recording(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "gone.wav":
            return Response(status_code=404)
        if name == "page.wav":
            return Response(b"<html>no</html>", media_type="text/html")
        return Response(RECORDING, media_type="audio/wav")

    return Starlette(
        routes=[
            Route("/rec/{name}", recording),
            Route("/private/{name}", recording),
        ]
    )


@pytest.fixture
async def recordings() -> AsyncIterator[str]:
    async with serve(recording_server()) as url:
        yield url


@pytest.fixture
async def stack(
    clean_databases: dict[str, str], tmp_path: Path, recordings: str
) -> AsyncIterator[Stack]:
    consult = {
        "appeal_escalation_interval_seconds": 3600.0,
        "telephony": {"recording_sources": [f"{recordings}/rec"]},
    }
    async with running_stack(clean_databases, tmp_path, {"consult": consult}) as running:
        yield running


@pytest.fixture
async def pbx(hotline: Hotline) -> Actor:
    """The insurer's contact centre's PBX."""
    return await _api_client(hotline.stack, hotline.insurer, TELEPHONY)


async def report(
    hotline: Hotline, pbx: Actor, call_id: str, event: str, **fields: Any
) -> httpx.Response:
    body = {"call_id": call_id, "event": event, "at": hotline.clock.now.isoformat(),
            "line": "8800", "caller": CALLER} | fields  # fmt: skip
    return await hotline.client.post(f"{CONSULT}/calls/events", json=body, headers=pbx.headers)


async def reported(
    hotline: Hotline, pbx: Actor, call_id: str, event: str, **fields: Any
) -> dict[str, Any]:
    response = await report(hotline, pbx, call_id, event, **fields)
    assert response.status_code == 200, response.text
    call: dict[str, Any] = response.json()
    return call


async def due_callbacks(hotline: Hotline, actor: Actor) -> list[dict[str, Any]]:
    page = await hotline.read(actor, "/callbacks/due")
    items: list[dict[str, Any]] = page["items"]
    return items


async def test_a_dropped_call_delivered_twice_leaves_exactly_one_callback(
    hotline: Hotline, pbx: Actor
) -> None:
    await reported(hotline, pbx, "1718871234.42", "started")
    hotline.clock.advance(seconds=95)
    first = await report(hotline, pbx, "1718871234.42", "dropped")
    again = await report(hotline, pbx, "1718871234.42", "dropped")
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    call = first.json()
    assert (call["outcome"], call["caller"], call["appeal_id"]) == ("dropped", CALLER, None)
    assert (call["duration_seconds"], call["talk_seconds"]) == (95, None)
    assert call["organization_id"] == hotline.insurer["id"]
    ended = await reported(hotline, pbx, "1718871234.42", "ended")  # the PBX hangs it up too
    assert ended["callback_id"] == call["callback_id"] is not None
    hotline.clock.advance(minutes=15)
    due = await due_callbacks(hotline, hotline.colleague)  # the centre's queue: anyone's
    assert len(due) == 1
    callback = due[0]
    assert (callback["id"], callback["reason"], callback["phone"]) == (
        call["callback_id"],
        "dropped_call",
        CALLER,
    )
    assert (callback["appeal_id"], callback["call_id"], callback["assignee_id"]) == (
        None,
        call["id"],
        None,
    )
    assert callback["organization_id"] == hotline.insurer["id"]


async def test_a_first_event_delivered_twice_at_once_is_taken_once(
    hotline: Hotline, pbx: Actor
) -> None:
    both = await asyncio.gather(*(report(hotline, pbx, "racing", "dropped") for _ in range(2)))
    assert [response.status_code for response in both] == [200, 200], both[1].text
    assert both[0].json() == both[1].json()
    assert sorted(response.headers.get("idempotent-replayed", "") for response in both) == [
        "",
        "true",
    ]
    hotline.clock.advance(minutes=15)
    assert [each["call_id"] for each in await due_callbacks(hotline, hotline.operator)] == [
        both[0].json()["id"]
    ]


async def test_an_unanswered_call_that_ends_is_dropped_an_answered_one_completed(
    hotline: Hotline, pbx: Actor
) -> None:
    await reported(hotline, pbx, "abandoned", "started")
    hotline.clock.advance(seconds=40)
    abandoned = await reported(hotline, pbx, "abandoned", "ended")
    assert abandoned["outcome"] == "dropped"
    assert abandoned["callback_id"] is not None
    talked = await reported(hotline, pbx, "talked", "started")
    assert talked["outcome"] == "ringing"
    hotline.clock.advance(seconds=20)
    answered = await reported(hotline, pbx, "talked", "answered", extension="204")
    assert (answered["outcome"], answered["extension"]) == ("talking", "204")
    hotline.clock.advance(minutes=4)
    ended = await reported(hotline, pbx, "talked", "ended")
    assert (ended["outcome"], ended["callback_id"]) == ("completed", None)
    assert (ended["duration_seconds"], ended["talk_seconds"]) == (260, 240)
    withheld = await reported(hotline, pbx, "withheld", "dropped", caller=None)
    assert (withheld["outcome"], withheld["callback_id"]) == ("dropped", None)  # nobody to call
    hotline.clock.advance(minutes=15)
    assert [each["call_id"] for each in await due_callbacks(hotline, hotline.operator)] == [
        abandoned["id"]
    ]


async def test_the_appeal_filed_on_a_call_gets_its_recording(hotline: Hotline, pbx: Actor) -> None:
    await reported(hotline, pbx, "live", "started")
    await reported(hotline, pbx, "live", "answered", extension="204")
    offered = await hotline.read(hotline.operator, "/calls", linked="false")
    assert [(each["external_id"], each["caller"]) for each in offered] == [("live", CALLER)]
    appeal = await hotline.filed(call_id=offered[0]["id"])
    assert appeal["call_refused"] is None
    assert await hotline.read(hotline.operator, "/calls", linked="false") == []
    hotline.clock.advance(minutes=3)
    await reported(hotline, pbx, "live", "ended")
    url = f"{hotline.stack.apps['consult'].state.settings.telephony.recording_sources[0]}/live.wav"
    stored = await reported(hotline, pbx, "live", "recording_available", recording_url=url)
    assert stored["recording"]["media_type"] == "audio/wav"
    assert stored["recording"]["size"] == len(RECORDING)
    calls = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/calls")
    assert [(each["id"], each["outcome"], each["linked_by"]) for each in calls] == [
        (offered[0]["id"], "completed", str(hotline.operator.id))
    ]
    assert calls[0]["recording"] == stored["recording"]
    history = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/history")
    assert [event["kind"] for event in history][-2:] == ["call_linked", "recording_attached"]
    # An operator of the region but of another organisation than the PBX's hears it too.
    assert await hear(hotline, hotline.polyclinic_operator, appeal["id"], owner=False) == RECORDING


async def hear(hotline: Hotline, actor: Actor, appeal_id: str, *, owner: bool) -> bytes:
    """The recording of the appeal's call as `actor` hears it: with consult's grant, which
    only an operator of the PBX's own organisation (`owner`) could do without."""
    grant_response = await hotline.client.post(
        f"{CONSULT}/appeals/{appeal_id}/calls/grant", headers=actor.headers
    )
    assert grant_response.status_code == 200, grant_response.text
    grant = grant_response.json()
    (file_id,) = grant["file_ids"]
    without = await hotline.client.get(f"/api/files/files/{file_id}/content", headers=actor.headers)
    assert without.status_code == (200 if owner else 404)
    content = await hotline.client.get(
        f"/api/files/files/{file_id}/content",
        headers=actor.headers | {"Telemed-Grant": grant["grant"]},
    )
    assert content.status_code == 200, content.text
    assert content.headers["content-type"].startswith("audio/wav")
    return content.content


async def test_a_recording_waits_for_its_call_to_be_linked(hotline: Hotline, pbx: Actor) -> None:
    """The PBX's client uploads the audio itself; the call was cut mid-conversation, and the
    operator files the appeal after the callback reaches the caller."""
    await reported(hotline, pbx, "cut", "started")
    await reported(hotline, pbx, "cut", "answered", extension="207")
    hotline.clock.advance(minutes=2)
    dropped = await reported(hotline, pbx, "cut", "dropped")
    uploaded = await hotline.client.post(
        "/api/files/files",
        params={"kind": "recording", "name": "cut.wav"},
        content=RECORDING,
        headers=pbx.headers | {"Content-Type": "application/octet-stream"},
    )
    assert uploaded.status_code == 201, uploaded.text
    waiting = await reported(
        hotline, pbx, "cut", "recording_available", recording_file_id=uploaded.json()["id"]
    )
    assert waiting["recording"]["file_id"] == uploaded.json()["id"]
    assert waiting["appeal_id"] is None
    appeal = await hotline.filed()
    link = f"{CONSULT}/appeals/{appeal['id']}/calls"
    linked = await hotline.client.post(
        link, json={"call_id": dropped["id"]}, headers=hotline.colleague.headers
    )
    assert linked.status_code == 200, linked.text
    assert (linked.json()["appeal_id"], linked.json()["linked_by"]) == (
        appeal["id"],
        str(hotline.colleague.id),
    )
    again = await hotline.client.post(
        link, json={"call_id": dropped["id"]}, headers=hotline.operator.headers
    )
    assert again.status_code == 200
    assert again.json() == linked.json()
    callbacks = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/callbacks")
    assert [(each["id"], each["call_id"]) for each in callbacks] == [
        (dropped["callback_id"], dropped["id"])
    ]
    history = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/history")
    linked_events = [event for event in history if event["kind"] == "call_linked"]
    assert linked_events[0]["note"] == f"{CALLER}, line 8800, dropped"
    assert "recording_attached" in [event["kind"] for event in history]
    assert await hear(hotline, hotline.operator, appeal["id"], owner=True) == RECORDING
    other = await hotline.filed()
    taken = await hotline.client.post(
        f"{CONSULT}/appeals/{other['id']}/calls",
        json={"call_id": dropped["id"]},
        headers=hotline.operator.headers,
    )
    assert assert_problem(taken, 409)["appeal_id"] == appeal["id"]


async def test_recordings_come_only_as_audio_from_the_sources_named(
    hotline: Hotline, pbx: Actor, recordings: str
) -> None:
    await reported(hotline, pbx, "rec", "started")
    for url, status in [
        (f"{recordings}/private/rec.wav", 422),  # not a source
        (f"{recordings}/records/rec.wav", 422),  # a path beside the source's
        (f"{recordings}/rec/gone.wav", 422),  # the PBX's server has no such file
        (f"{recordings}/rec/page.wav", 422),  # not audio
    ]:
        response = await report(hotline, pbx, "rec", "recording_available", recording_url=url)
        assert_problem(response, status)
    both = await report(
        hotline,
        pbx,
        "rec",
        "recording_available",
        recording_url=f"{recordings}/rec/rec.wav",
        recording_file_id="8d5c7a4e-2b1f-4c3d-9e8f-0a1b2c3d4e5f",
    )
    assert_problem(both, 422)
    stray = await report(hotline, pbx, "rec", "ended", recording_url=f"{recordings}/rec/rec.wav")
    assert_problem(stray, 422)
    unknown = await report(
        hotline,
        pbx,
        "rec",
        "recording_available",
        recording_file_id="8d5c7a4e-2b1f-4c3d-9e8f-0a1b2c3d4e5f",
    )
    assert_problem(unknown, 422)
    ended = await reported(hotline, pbx, "rec", "ended")
    assert (await hotline.read(hotline.operator, f"/calls/{ended['id']}"))["recording"] is None


async def test_only_the_telephony_client_reports_and_only_operators_read_calls(
    hotline: Hotline, pbx: Actor
) -> None:
    no_scope = await _api_client(hotline.stack, hotline.insurer, ["files:write"])
    for actor in (hotline.operator, hotline.mis, no_scope, hotline.patient):
        assert_problem(await report(hotline, actor, "intruder", "dropped"), 403)
    call = await reported(hotline, pbx, "call", "started")
    appeal = await hotline.filed(call_id=call["id"])
    calls = f"/appeals/{appeal['id']}/calls"
    assert len(await hotline.read(hotline.polyclinic_operator, calls)) == 1  # the region's
    assert_problem(await hotline.get(hotline.far_operator, calls), 404)  # another region's
    assert_problem(await hotline.get(hotline.far_operator, f"/calls/{call['id']}"), 404)
    assert_problem(await hotline.get(pbx, calls), 403)  # the PBX reads nothing back
    assert_problem(await hotline.get(pbx, f"/calls/{call['id']}"), 403)
    assert_problem(await hotline.get(hotline.mis, f"/calls/{call['id']}"), 404)
    assert await hotline.read(hotline.far_operator, "/calls") == []  # their hotline's only
    mine = await hotline.filed(hotline.patient, channel="web", region="42")
    assert_problem(await hotline.get(hotline.patient, f"/appeals/{mine['id']}/calls"), 403)
    refused = await hotline.filed(hotline.far_operator, region="27", call_id=call["id"])
    assert refused["call_refused"] == "No call with this id is visible to you."
    assert_problem(await hotline.get(hotline.mis, "/calls"), 403)
    assert at(call["started_at"]) == hotline.clock.now
    hotline.clock.advance(hours=13)
    assert await hotline.read(hotline.operator, "/calls") == []  # only the last 12 hours
    assert hotline.clock.now - at(call["started_at"]) > timedelta(hours=12)
