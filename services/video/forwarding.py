"""Forwarding encoded media: a publisher's frames reach subscribers as they arrived, without
being decoded and encoded again for each subscriber.

aiortc's receiver reassembles each encoded frame from RTP and puts it on a queue that its
decoder thread reads. `EncodedTap` takes that queue's place: it hands every frame to the
subscribers' `EncodedFeed`s (their senders only packetize an `av.Packet`) and passes frames on
to the decoder only while something needs pictures (a recording, or a subscriber whose link
negotiated another codec). A subscriber's keyframe request (PLI/FIR) goes back to the publisher
as a PLI, since only the publisher's encoder can make one.
"""

import asyncio
import queue
import time
from fractions import Fraction
from typing import Any, Protocol

from aiortc import RTCRtpReceiver
from aiortc.mediastreams import MediaStreamError
from av.packet import Packet

FEED_FRAMES = 30  # two seconds of video at 15 fps; a feed further behind starts over
KEYFRAME_REQUEST_INTERVAL = 0.25  # seconds; one PLI serves every subscriber waiting on it
H264_KEY_NAL_TYPES = frozenset({5, 7})  # IDR slice, sequence parameter set


def is_keyframe(mime_type: str, data: bytes) -> bool:
    """Whether a decoder can start from this frame (audio frames all stand alone)."""
    codec = mime_type.lower()
    if codec == "video/vp8":
        return bool(data) and not data[0] & 0x01  # RFC 6386 §9.1: P bit clear
    if codec == "video/h264":  # Annex B, as aiortc's depayloader writes it
        return any(
            nal and nal[0] & 0x1F in H264_KEY_NAL_TYPES for nal in data.split(b"\x00\x00\x01")
        )
    return not codec.startswith("video/")


class Tap(Protocol):
    """A source of encoded frames that feeds subscribe to: a receiver's (`EncodedTap`) or an
    IP camera's stream."""

    kind: str
    feeds: "set[EncodedFeed]"

    def request_keyframe(self) -> None: ...


class EncodedFeed:
    """One subscriber's share of a publisher's encoded frames: a short queue. Video that falls
    behind is dropped up to the next keyframe, because a frame without the frames it refers to
    breaks the picture until then. A `keyframes_only` feed (a tile of the ICU overview) takes
    nothing but keyframes: each stands alone, so a picture every second or so costs the server
    one frame instead of fifteen."""

    def __init__(self, tap: Tap, *, keyframes_only: bool = False) -> None:
        self._tap = tap
        self._frames: asyncio.Queue[Packet[Any] | None] = asyncio.Queue(FEED_FRAMES)
        self._needs_keyframe = tap.kind == "video"
        self.keyframes_only = keyframes_only
        self.ended = False

    def offer(self, packet: "Packet[Any]", keyframe: bool) -> None:
        if self.keyframes_only and not keyframe:
            return
        if self._needs_keyframe:
            if not keyframe:
                self._tap.request_keyframe()
                return
            self._needs_keyframe = False
        if self._frames.full():
            while not self._frames.empty():
                self._frames.get_nowait()
            if self._tap.kind == "video":
                self._needs_keyframe = True
                self._tap.request_keyframe()
                return
        self._frames.put_nowait(packet)

    async def recv(self) -> "Packet[Any]":
        packet = await self._frames.get() if not self.ended else None
        if packet is None:
            raise MediaStreamError
        return packet

    def request_keyframe(self) -> None:
        self._tap.request_keyframe()

    def end(self) -> None:
        """Stops the feed and wakes a `recv` waiting on it."""
        if self.ended:
            return
        self.ended = True
        self._tap.feeds.discard(self)
        if self._frames.full():
            self._frames.get_nowait()
        self._frames.put_nowait(None)


class EncodedTap(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue; `put` is called on the event loop."""

    def __init__(self, receiver: RTCRtpReceiver, kind: str, *, forward: bool) -> None:
        super().__init__()
        self.receiver = receiver
        self.kind = kind
        self.forward = forward
        self.feeds: set[EncodedFeed] = set()
        self.decoders = 0
        self.frames = 0
        self.last_frame_at: float | None = None  # monotonic
        self._last_request = float("-inf")
        self._requests: set[asyncio.Task[None]] = set()

    def attach(self) -> None:
        """Must run before the receiver starts (it hands the queue to its decoder thread then)."""
        self.receiver._RTCRtpReceiver__decoder_queue = self  # type: ignore[attr-defined]

    @property
    def decoding(self) -> bool:
        return not self.forward or self.decoders > 0

    def subscribe(self, *, keyframes_only: bool = False) -> EncodedFeed:
        feed = EncodedFeed(self, keyframes_only=keyframes_only)
        self.feeds.add(feed)
        self.request_keyframe()
        return feed

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is not None:  # None is the receiver stopping its decoder: always let it through
            codec, frame = item
            self.frames += 1
            self.last_frame_at = time.monotonic()
            if self.feeds:
                packet = Packet(frame.data)
                packet.pts = frame.timestamp
                packet.time_base = Fraction(1, codec.clockRate)
                keyframe = is_keyframe(codec.mimeType, frame.data)
                for feed in list(self.feeds):
                    feed.offer(packet, keyframe)
            if not self.decoding:
                return
        super().put(item, block, timeout)

    def start_decoding(self) -> None:
        self.decoders += 1
        self.request_keyframe()  # the decoder cannot start from an inter frame

    def stop_decoding(self) -> None:
        self.decoders = max(0, self.decoders - 1)

    def request_keyframe(self) -> None:
        if self.kind != "video":
            return
        now = time.monotonic()
        if now - self._last_request < KEYFRAME_REQUEST_INTERVAL:
            return
        self._last_request = now
        for source in self.receiver.getSynchronizationSources():
            task = asyncio.ensure_future(self.receiver._send_rtcp_pli(source.source))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)
