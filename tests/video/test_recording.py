"""Recording needs everyone's consent, encodes off the event loop, and lands in the files
service as a playable MP4 attached to the case; a later joiner without consent stops it; a file
the files service cannot take when it stops is kept until a manager stores it."""

import asyncio
import io
import uuid
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.video.frame import VideoFrame

from services.video.recording import Writer
from tests.servers import free_port
from tests.video.conftest import VideoWorld
from tests.video.peers import EventLog, Peer, until

DOCTOR, PATIENT = (320, 240), (256, 192)


async def consent(video: VideoWorld, peer: Peer, value: bool = True) -> None:
    response = await video.http.put(
        f"/api/video/rooms/{peer.room_id}/participants/{peer.participant_id}/consent",
        json={"consented": value},
        headers=peer.headers,
    )
    assert response.status_code == 200, response.text


async def video_frames(mp4: bytes) -> list[VideoFrame]:
    """The file's decoded pictures, decoded off the event loop: the peers and the video service
    share it, and a loop held for seconds would miss the peers' heartbeats."""

    def decode() -> list[VideoFrame]:
        container = av.open(io.BytesIO(mp4), mode="r")
        assert isinstance(container, InputContainer)
        with container:
            return list(container.decode(video=0))

    return await asyncio.to_thread(decode)


async def test_consented_recording_is_stored_and_playable(video: VideoWorld) -> None:
    case_id = uuid.uuid4()
    room = await video.room(case_id=str(case_id))
    recording = f"/api/video/rooms/{room['id']}/recording"
    doctor = video.peer(room, await video.token(room), DOCTOR)
    patient = video.peer(room, await video.patient_token(room), PATIENT)
    late = video.peer(room, await video.token(room, identity="family-1", role="guest"))
    log = EventLog()
    try:
        await doctor.join()
        log.start(video.http, room["id"], doctor.token)
        await patient.join()
        await consent(video, doctor)
        refused = await video.stack.client.post(recording, headers=video.host.headers)
        assert refused.status_code == 409, refused.text
        assert refused.json()["without_consent"] == ["Ivan Petrov"]

        await consent(video, patient)
        started = await video.stack.client.post(recording, headers=video.host.headers)
        assert started.status_code == 201, started.text
        await until(lambda: log.seen("recording.started"))
        doctor_video = video.live.hub.sessions[uuid.UUID(doctor.participant_id)].publications[
            "video"
        ]
        await until(lambda: doctor_video.frames > 30)
        assert doctor_video.tap.decoders == 1  # forwarded frames are decoded for the file only
        stopped = await video.stack.client.delete(recording, headers=video.host.headers)
        assert stopped.status_code == 200, stopped.text
        assert doctor_video.tap.decoders == 0
        file_id = stopped.json()["file_id"]
        assert stopped.json()["frames"] > 10

        stored = await video.stack.client.get(
            f"/api/files/files/{file_id}", headers=video.host.headers
        )
        assert stored.json()["kind"] == "recording"
        # The host's own file: only consult binds a file to a case (it is listed in one).
        assert stored.json()["case_id"] is None
        content = await video.stack.client.get(
            f"/api/files/files/{file_id}/content", headers=video.host.headers
        )
        frames = await video_frames(content.content)
        assert len(frames) == stopped.json()["frames"]
        assert (frames[0].width, frames[0].height) == DOCTOR

        # Recording again, then someone joins who has not consented: it stops by itself.
        again = await video.stack.client.post(recording, headers=video.host.headers)
        assert again.is_success, again.text
        await until(lambda: video.live.recordings[uuid.UUID(room["id"])].fed > 5)
        await late.join()
        await until(lambda: sum(e["event"] == "recording.stopped" for e in log.events) == 2)
        assert room["id"] not in {str(key) for key in video.live.recordings}
    finally:
        await log.stop()
        for peer in (doctor, patient, late):
            await peer.close()


def loudest_pitches(samples: np.ndarray, rate: int, count: int) -> set[int]:
    """The `count` strongest frequencies (Hz, to the nearest 10) of a signal."""
    spectrum = np.abs(np.fft.rfft(samples))
    frequencies = np.fft.rfftfreq(len(samples), 1 / rate)
    strongest: list[int] = []
    for index in np.argsort(spectrum)[::-1]:
        pitch = int(round(frequencies[index], -1))
        if all(abs(pitch - other) > 50 for other in strongest):
            strongest.append(pitch)
        if len(strongest) == count:
            break
    return set(strongest)


async def test_recording_mixes_the_voices_of_admitted_participants(video: VideoWorld) -> None:
    room = await video.room(case_id=str(uuid.uuid4()))
    recording = f"/api/video/rooms/{room['id']}/recording"
    doctor = video.peer(room, await video.token(room), DOCTOR)
    patient = video.peer(room, await video.patient_token(room), PATIENT)
    doctor.tone, patient.tone = 440, 1000
    try:
        await doctor.join()
        await patient.join()
        admitted = await video.http.post(
            f"/api/video/rooms/{room['id']}/participants/{patient.participant_id}/admit",
            headers=doctor.headers,
        )
        assert admitted.status_code == 200, admitted.text
        await consent(video, doctor)
        await consent(video, patient)
        await until(lambda: doctor.got(PATIENT))
        again = await video.stack.client.post(recording, headers=video.host.headers)
        assert again.is_success, again.text
        # Decoding starts at the next keyframe the publisher sends on request; generous, as
        # a suite's worth of peers has shared this process before.
        await until(lambda: video.live.recordings[uuid.UUID(room["id"])].fed > 45, within=40)
        stopped = await video.stack.client.delete(recording, headers=video.host.headers)
        assert stopped.status_code == 200, stopped.text
        content = await video.stack.client.get(
            f"/api/files/files/{stopped.json()['file_id']}/content", headers=video.host.headers
        )
    finally:
        await doctor.close()
        await patient.close()
    container = av.open(io.BytesIO(content.content), mode="r")
    assert isinstance(container, InputContainer)
    with container:
        audio = container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio)])
        picture = container.streams.video[0]
        assert picture.duration is not None
        assert picture.time_base is not None
        video_seconds = float(picture.duration * picture.time_base)
    assert abs(len(samples) / audio.rate - video_seconds) < 1.0  # one timeline for both
    assert loudest_pitches(samples, audio.rate, 2) == {440, 1000}  # both voices are in it


def test_frames_closer_than_the_frame_rate_are_kept_apart(tmp_path: Path) -> None:
    path = tmp_path / "burst.mp4"
    with av.open(str(path), "w", format="mp4") as output:
        writer = Writer(output)
        for at in (0.0, 0.5, 0.51, 0.52, 0.6):  # a burst after a network hiccup
            writer.write_video(at, VideoFrame(*DOCTOR, "yuv420p"))
        writer.finish()
    container = av.open(str(path), mode="r")
    assert isinstance(container, InputContainer)
    with container:
        assert len(list(container.decode(video=0))) == 5


async def test_a_recording_the_files_service_cannot_take_waits_to_be_stored(
    video: VideoWorld,
) -> None:
    room = await video.room(case_id=str(uuid.uuid4()))
    recording = f"/api/video/rooms/{room['id']}/recording"
    doctor = video.peer(room, await video.token(room), DOCTOR)
    try:
        await doctor.join()
        await consent(video, doctor)
        again = await video.stack.client.post(recording, headers=video.host.headers)
        assert again.is_success, again.text
        await until(lambda: video.live.recordings[uuid.UUID(room["id"])].fed > 10)
        upstreams = video.stack.apps["gateway"].state.upstreams
        files_url = upstreams.urls["files"]
        upstreams.urls["files"] = f"http://127.0.0.1:{free_port()}"  # the files service is down
        stopped = await video.stack.client.delete(recording, headers=video.host.headers)
        assert stopped.status_code == 200, stopped.text
        assert stopped.json()["unstored"] is True
        assert stopped.json()["file_id"] is None
    finally:
        await doctor.close()
    view = await video.stack.client.get(
        f"/api/video/rooms/{room['id']}", headers=video.host.headers
    )
    assert view.json()["recording"]["unstored"] is True

    upstreams.urls["files"] = files_url  # back up: the host stores the kept file
    store = f"{recording}/store"
    stored = await video.stack.client.post(store, headers=video.host.headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["frames"] == stopped.json()["frames"]
    content = await video.stack.client.get(
        f"/api/files/files/{stored.json()['file_id']}/content", headers=video.host.headers
    )
    assert len(await video_frames(content.content)) == stored.json()["frames"]
    again = await video.stack.client.post(store, headers=video.host.headers)
    assert again.status_code == 404
    assert not list(video.live.settings.resolved_recording_dir().iterdir())
