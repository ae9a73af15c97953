"""The demo's video visit: two bot peers (aiortc) join the room through the WHIP-style
signalling as a client app would, the doctor admits the patient, and frames flow both ways."""

import asyncio
import contextlib
import fractions
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av.video.frame import VideoFrame

from telemed.demo.api import Actor, Api, StepFailed

VIDEO = "/api/video"
CLOCK = fractions.Fraction(1, 90_000)
FPS = 15
HEARTBEAT_SECONDS = 0.5  # the server drops a participant silent for a few seconds
FRAMES_WANTED = 20
MEDIA_WITHIN_SECONDS = 20.0


class CameraTrack(MediaStreamTrack):
    """A camera stand-in: flat frames of its own size, so the other side can tell who sent."""

    kind = "video"

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.width, self.height = width, height
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._count / FPS - time.monotonic()))
        frame = VideoFrame(self.width, self.height, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([(self._count * 5) % 256]) * plane.buffer_size)
        frame.pts, frame.time_base = int(self._count / FPS / CLOCK), CLOCK
        self._count += 1
        return frame


@dataclass
class BotPeer:
    """One participant: sends its camera, receives one video, pings on a data channel."""

    api: Api
    room_id: str
    token: str
    size: tuple[int, int]
    pc: RTCPeerConnection = field(
        default_factory=lambda: RTCPeerConnection(RTCConfiguration(iceServers=[]))
    )
    received: dict[tuple[int, int], int] = field(default_factory=dict)
    first_frame_at: float | None = None
    participant_id: str = ""
    state: str = ""
    location: str = ""
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    @property
    def joiner(self) -> Actor:
        return Actor("join token", self.token)

    async def join(self) -> None:
        self.pc.addTransceiver(CameraTrack(*self.size), direction="sendonly")
        receiving = self.pc.addTransceiver("video", direction="recvonly")
        channel = self.pc.createDataChannel("heartbeat")

        async def beat() -> None:
            while True:
                if channel.readyState == "open":
                    channel.send("ping")
                await asyncio.sleep(HEARTBEAT_SECONDS)

        self.tasks.append(asyncio.create_task(beat()))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        response = await self.api.call(
            "POST", f"{VIDEO}/rooms/{self.room_id}/sessions", self.joiner, expect=201,
            content=self.pc.localDescription.sdp, headers={"Content-Type": "application/sdp"},
        )  # fmt: skip
        self.location = response.headers["Location"]
        self.participant_id = response.headers["X-Participant-Id"]
        self.state = response.headers["X-Participant-State"]
        await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
        self.tasks.append(asyncio.create_task(self._count(receiving.receiver.track)))

    async def _count(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    if self.first_frame_at is None:
                        self.first_frame_at = time.monotonic()
                    size = (frame.width, frame.height)
                    self.received[size] = self.received.get(size, 0) + 1

    async def leave(self) -> None:
        if self.location:
            await self.api.call("DELETE", self.location, self.joiner, expect=(204, 404))
            self.location = ""

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)  # cancelled, or ended
        await self.pc.close()


@dataclass(frozen=True)
class Visit:
    doctor_join_seconds: float
    patient_state: str  # as the patient joined: waiting, until the doctor admits them
    media_seconds: float  # from admission to frames flowing both ways
    doctor_got: int  # frames of the patient's camera the doctor received
    patient_got: int


DOCTOR_CAMERA, PATIENT_CAMERA = (640, 360), (320, 240)


async def hold_visit(api: Api, room_id: str, doctor_token: str, patient_token: str) -> Visit:
    """The doctor opens the room, the patient joins and waits, the doctor admits them; done
    once each has received `FRAMES_WANTED` frames of the other's camera."""
    doctor = BotPeer(api, room_id, doctor_token, DOCTOR_CAMERA)
    patient = BotPeer(api, room_id, patient_token, PATIENT_CAMERA)
    try:
        started = time.monotonic()
        await doctor.join()
        doctor_join = time.monotonic() - started
        await patient.join()
        waited_as = patient.state
        if patient.state == "waiting":
            await api.call(
                "POST", f"{VIDEO}/rooms/{room_id}/participants/{patient.participant_id}/admit",
                doctor.joiner,
            )  # fmt: skip
        admitted = time.monotonic()
        deadline = admitted + MEDIA_WITHIN_SECONDS
        while (
            doctor.received.get(PATIENT_CAMERA, 0) < FRAMES_WANTED
            or patient.received.get(DOCTOR_CAMERA, 0) < FRAMES_WANTED
        ):
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"media did not flow within {MEDIA_WITHIN_SECONDS:.0f} s: the doctor got "
                    f"{doctor.received}, the patient {patient.received} (frames by size)"
                )
            await asyncio.sleep(0.05)
        flowing = time.monotonic() - admitted
        visit = Visit(
            doctor_join, waited_as, flowing, doctor.received.get(PATIENT_CAMERA, 0),
            patient.received.get(DOCTOR_CAMERA, 0),
        )  # fmt: skip
        await patient.leave()
        await doctor.leave()
        return visit
    finally:
        await patient.close()
        await doctor.close()


def join_token_of(join_url: str) -> str:
    """The patient's join link is `<gateway>/join/<token>`."""
    return join_url.rstrip("/").rsplit("/", 1)[1]


def room_id_of(appointment: dict[str, Any]) -> uuid.UUID | None:
    room = appointment.get("room") or {}
    return uuid.UUID(room["room_id"]) if room.get("state") == "ready" else None
