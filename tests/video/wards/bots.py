"""aiortc bots of the wards' signalling: a bedside tablet publishing a bed's camera, and a
doctor's overview receiving the grid and one bed full-size, each as a client app would."""

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from tests.video.peers import ColourTrack, ToneTrack

WARDS = "/api/video/wards"
SDP = {"Content-Type": "application/sdp"}


def _peer() -> RTCPeerConnection:
    """MAX_BUNDLE: under aiortc's default policy a second m-line of a kind (the voice after
    the full-size bed's sound) keeps a transport that BUNDLE discards, and never sends."""
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


def _prefer(transceiver: Any, mime: str, offered: tuple[str, ...]) -> None:
    """`mime` first among the `offered` video codecs."""
    codecs = [
        c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType.lower() in offered
    ]
    codecs.sort(key=lambda codec: codec.mimeType.lower() != mime)
    transceiver.setCodecPreferences(codecs)


@dataclass
class Bot:
    client: httpx.AsyncClient
    ward_id: str
    pc: RTCPeerConnection = field(default_factory=_peer)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    received: Counter[str] = field(default_factory=Counter)  # frames by the slot's mid

    def heartbeat(self) -> None:
        channel = self.pc.createDataChannel("heartbeat")

        async def beat() -> None:
            while True:
                if channel.readyState == "open":
                    channel.send("ping")
                await asyncio.sleep(0.5)

        self.tasks.append(asyncio.create_task(beat()))

    async def answer(self, path: str, token: str) -> httpx.Response:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        response = await self.client.post(
            path,
            content=self.pc.localDescription.sdp,
            headers=SDP | {"Authorization": f"Bearer {token}"},
        )
        if response.status_code == 201:
            await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
            for transceiver in self.pc.getTransceivers():
                if transceiver.direction == "recvonly":
                    self.tasks.append(asyncio.create_task(self._count(transceiver)))
        return response

    async def _count(self, transceiver: Any) -> None:
        track: MediaStreamTrack = transceiver.receiver.track
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.received[str(transceiver.mid)] += 1

    async def close(self) -> None:
        """Abruptly, as a pulled cable would: nothing is said to the server."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                await task
        self.tasks.clear()
        await self.pc.close()


@dataclass
class Bedside(Bot):
    bed_id: str = ""
    credential: str = ""
    size: tuple[int, int] = (320, 240)

    async def connect(self) -> httpx.Response:
        """Publishes the camera and takes the doctor's voice on one audio slot."""
        self.pc = _peer()
        self.pc.addTransceiver(ColourTrack(*self.size), direction="sendonly")
        self.pc.addTransceiver("audio", direction="recvonly")
        self.heartbeat()
        path = f"{WARDS}/{self.ward_id}/beds/{self.bed_id}/source"
        return await self.answer(path, self.credential)

    @property
    def voice(self) -> int:
        """Audio frames received: the doctor talking to the bed."""
        return sum(self.received.values())

    async def events(self, into: list[dict[str, Any]]) -> None:
        """Reads the tablet's events into `into` in the background."""
        path = f"{WARDS}/{self.ward_id}/beds/{self.bed_id}/events"

        async def read() -> None:
            headers = {"Authorization": f"Bearer {self.credential}"}
            async with self.client.stream("GET", path, headers=headers, timeout=None) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data:"):
                        into.append(json.loads(line[5:]))

        self.tasks.append(asyncio.create_task(read()))


@dataclass
class Watcher(Bot):
    token: str = ""
    tone: int | None = None  # Hz: the doctor's voice, sent when talking
    codecs: tuple[str, ...] = ("video/vp8", "video/h264")  # what the "browser" can receive
    viewer: dict[str, Any] = field(default_factory=dict)
    location: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def connect(self, beds: int) -> httpx.Response:
        """The offer's order: full-size VP8 and H.264, its sound, the voice, the grid."""
        for preferred in ("video/vp8", "video/h264"):
            slot = self.pc.addTransceiver("video", direction="recvonly")
            _prefer(slot, preferred, self.codecs)
        self.pc.addTransceiver("audio", direction="recvonly")
        if self.tone is not None:
            self.pc.addTransceiver(ToneTrack(self.tone), direction="sendonly")
        for _ in range(beds):
            _prefer(self.pc.addTransceiver("video", direction="recvonly"), "", self.codecs)
        self.heartbeat()
        response = await self.answer(f"{WARDS}/{self.ward_id}/viewers", self.token)
        if response.status_code == 201:
            self.location = response.headers["Location"]
            await self.refresh()
        return response

    async def refresh(self) -> dict[str, Any]:
        response = await self.client.get(self.location, headers=self.headers)
        assert response.status_code == 200, response.text
        self.viewer = response.json()
        return self.viewer

    def tile(self, bed_id: str) -> str:
        return str(next(t["mid"] for t in self.viewer["tiles"] if t["bed_id"] == bed_id))

    async def put(self, action: str, body: dict[str, Any]) -> httpx.Response:
        response = await self.client.put(
            f"{self.location}/{action}", json=body, headers=self.headers
        )
        if response.status_code == 200:
            self.viewer = response.json()
        return response
