"""aiortc test peers that join rooms through the real HTTP signalling, as a client app would."""

import asyncio
import contextlib
import fractions
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av.audio.frame import AudioFrame
from av.video.frame import VideoFrame

VIDEO = "/api/video"
CLOCK = fractions.Fraction(1, 90_000)


class ColourTrack(MediaStreamTrack):
    """A camera stand-in: flat frames of one size at `fps`, so receivers can tell who sent."""

    kind = "video"

    def __init__(self, width: int, height: int, fps: int = 15) -> None:
        super().__init__()
        self.width, self.height, self.fps = width, height, fps
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count / self.fps
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = VideoFrame(self.width, self.height, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([(self._count * 7) % 256]) * plane.buffer_size)
        frame.pts = int(self._count / self.fps / CLOCK)
        frame.time_base = CLOCK
        self._count += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A microphone stand-in: a steady sine tone, 20 ms a frame, so a mix can tell who spoke."""

    kind = "audio"
    rate = 48_000
    samples = 960

    def __init__(self, frequency: int) -> None:
        super().__init__()
        self.frequency = frequency
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._count * self.samples / self.rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        index = np.arange(self._count * self.samples, (self._count + 1) * self.samples)
        wave = 6000 * np.sin(2 * np.pi * self.frequency * index / self.rate)
        frame = AudioFrame.from_ndarray(
            wave.astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = self.rate
        frame.pts = self._count * self.samples
        frame.time_base = fractions.Fraction(1, self.rate)
        self._count += 1
        return frame


async def until(check: Callable[[], bool | Awaitable[bool]], within: float = 15.0) -> None:
    """Polls `check` until it holds or the deadline passes."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


@dataclass
class Peer:
    client: httpx.AsyncClient
    room_id: uuid.UUID | str
    token: str
    size: tuple[int, int] = (320, 240)
    slots: int = 3
    pc: RTCPeerConnection = field(
        default_factory=lambda: RTCPeerConnection(RTCConfiguration(iceServers=[]))
    )
    received: Counter[tuple[int, int]] = field(default_factory=Counter)
    participant_id: str | None = None
    state: str | None = None
    location: str | None = None
    response: httpx.Response | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    beating: bool = True
    keyframe_requests: int = 0  # PLI/FIR the server sent about our video
    tone: int | None = None  # Hz: also publish audio, a tone of this pitch

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def offer(self) -> str:
        sender = self.pc.addTransceiver(ColourTrack(*self.size), direction="sendonly").sender
        send_keyframe = sender._send_keyframe

        def keyframe_requested() -> None:
            self.keyframe_requests += 1
            send_keyframe()

        sender._send_keyframe = keyframe_requested  # type: ignore[method-assign]
        if self.tone is not None:
            self.pc.addTransceiver(ToneTrack(self.tone), direction="sendonly")
        for _ in range(self.slots):
            self.pc.addTransceiver("video", direction="recvonly")
        channel = self.pc.createDataChannel("heartbeat")

        async def beat() -> None:
            while True:
                if channel.readyState == "open" and self.beating:
                    channel.send("ping")
                await asyncio.sleep(0.5)

        self.tasks.append(asyncio.create_task(beat()))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def join(self) -> httpx.Response:
        """Posts the offer; on 201 applies the answer and starts counting received frames."""
        sdp = await self.offer()
        response = await self.client.post(
            f"{VIDEO}/rooms/{self.room_id}/sessions",
            content=sdp,
            headers=self.headers | {"Content-Type": "application/sdp"},
        )
        self.response = response
        if response.status_code != 201:
            return response
        self.location = response.headers["Location"]
        self.participant_id = response.headers["X-Participant-Id"]
        self.state = response.headers["X-Participant-State"]
        await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
        for transceiver in self.pc.getTransceivers():
            if transceiver.direction == "recvonly":
                self.tasks.append(asyncio.create_task(self._count(transceiver)))
        return response

    async def _count(self, transceiver: RTCRtpTransceiver) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await transceiver.receiver.track.recv()
                assert isinstance(frame, VideoFrame)
                self.received[(frame.width, frame.height)] += 1

    def got(self, size: tuple[int, int], at_least: int = 5) -> bool:
        return self.received[size] >= at_least

    async def leave(self) -> httpx.Response:
        assert self.location is not None
        return await self.client.delete(self.location, headers=self.headers)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                await task
        await self.pc.close()


@dataclass
class EventLog:
    """Collects a room's Server-Sent Events in the background."""

    events: list[dict[str, Any]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def start(self, client: httpx.AsyncClient, room_id: str, token: str) -> None:
        async def read() -> None:
            url = f"{VIDEO}/rooms/{room_id}/events"
            async with client.stream("GET", url, params={"token": token}) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        self.events.append(json.loads(line[6:]))

        self.task = asyncio.create_task(read())

    def seen(self, event: str, **fields: Any) -> bool:
        return any(
            e["event"] == event and all(e.get(k) == v for k, v in fields.items())
            for e in self.events
        )

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
