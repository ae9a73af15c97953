"""Link quality per participant (room view and Prometheus), and audio only on a poor link."""

import uuid
from typing import Any

import httpx

from tests.video.conftest import VideoWorld
from tests.video.peers import Peer, until
from tests.video.test_media import DOCTOR, PATIENT, move

VIDEO = "/api/video"


async def in_a_call(video: VideoWorld) -> tuple[dict[str, Any], Peer, Peer]:
    room = await video.room()
    doctor = video.peer(room, await video.token(room), DOCTOR)
    patient = video.peer(room, await video.patient_token(room), PATIENT)
    await doctor.join()
    await patient.join()
    await move(video, doctor, patient, "admit")
    await until(lambda: doctor.got(PATIENT) and patient.got(DOCTOR))
    return room, doctor, patient


async def test_link_quality_reaches_the_room_view_and_the_metrics(video: VideoWorld) -> None:
    room, doctor, patient = await in_a_call(video)
    try:

        async def sampled() -> bool:
            await video.live.sample_quality()
            session = video.live.hub.sessions[uuid.UUID(patient.participant_id or "")]
            return session.quality.outbound_kbps > 0

        await until(sampled)

        async def in_the_view() -> bool:
            # The service resamples on its own every half second, so read until a sample shows.
            view = await video.http.get(f"{VIDEO}/rooms/{room['id']}", headers=doctor.headers)
            assert view.status_code == 200, view.text
            people = {p["id"]: p for p in view.json()["participants"]}
            quality = people[patient.participant_id]["quality"]
            assert quality["packets_lost"] >= 0
            return bool(quality["outbound_kbps"] > 0)

        await until(in_the_view)
        # Scraped from the video process itself, as Prometheus does (the gateway hides /metrics).
        service_url = video.stack.apps["gateway"].state.upstreams.urls["video"][0]
        async with httpx.AsyncClient(base_url=service_url) as scraper:
            metrics = await scraper.get("/metrics")
        assert metrics.status_code == 200
        assert f'participant="{patient.participant_id}"' in metrics.text
    finally:
        await doctor.close()
        await patient.close()


async def test_a_participant_on_a_poor_link_switches_to_audio_only_and_back(
    video: VideoWorld,
) -> None:
    room, doctor, patient = await in_a_call(video)
    path = f"{VIDEO}/rooms/{room['id']}/participants/{patient.participant_id}/audio-only"
    session = video.live.hub.sessions[uuid.UUID(patient.participant_id or "")]
    try:
        response = await video.http.put(path, json={"audio_only": True}, headers=patient.headers)
        assert response.status_code == 200, response.text
        assert response.json()["audio_only"] is True
        assert all(slot.source is None for slot in session.slots if slot.kind == "video")
        someone_else = await video.http.put(path, json={"audio_only": True}, headers=doctor.headers)
        assert someone_else.status_code == 404

        back = await video.http.put(path, json={"audio_only": False}, headers=patient.headers)
        assert back.json()["audio_only"] is False
        before = patient.received[DOCTOR]
        await until(lambda: patient.received[DOCTOR] > before + 5)
    finally:
        await doctor.close()
        await patient.close()
