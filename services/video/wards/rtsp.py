"""An ICU IP camera's RTSP stream, ingested with PyAV: its H.264 frames pass through to viewers
as the camera encoded them, and are decoded only for viewers that need pictures.

A worker thread owns the connection (PyAV's reads block, outside the GIL), reconnects by itself
after a short backoff whenever the camera drops, and hands every picture to the event loop,
where the feeds live. A picture goes on once the next one begins, since FFmpeg may hand one
over in parts (a camera repeating SPS and PPS before each slice) while aiortc sends each packet
as a whole picture: one frame of delay, 67 ms at 15 fps. Keyframes reach the feeds with the
stream's SPS and PPS in front, so a keyframes-only tile can start from any of them; timestamps
run on one 90 kHz clock across reconnections, because a receiver takes a jump back for garbage.
"""

import asyncio
import contextlib
import logging
import threading
import time
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit

import av
from aiortc.mediastreams import MediaStreamError
from av.container import InputContainer
from av.packet import Packet
from av.video.codeccontext import VideoCodecContext
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from services.video.forwarding import EncodedFeed, is_keyframe
from services.video.media import Feed

logger = logging.getLogger("telemed.video.wards.rtsp")
H264 = "video/h264"
CLOCK = Fraction(1, 90_000)  # RTP's video clock, which aiortc's packetizer expects
OPEN_TIMEOUT = 5.0  # seconds for the RTSP handshake and the stream's first frames
READ_TIMEOUT = 2.0  # a camera silent this long is reconnected
BACKOFF = (0.5, 4.0)  # seconds before the first retry, and at most
START_CODE = b"\x00\x00\x00\x01"
PARAMETER_SETS = frozenset({7, 8})  # SPS, PPS
DELIMITER = 9  # an access unit delimiter, which must stay first


def _nal_units(data: bytes) -> list[bytes]:
    """An Annex B access unit's NAL units, without start codes (nor the zero byte a four-byte
    start code leaves behind)."""
    return [nal.rstrip(b"\x00") for nal in data.split(b"\x00\x00\x01") if nal.strip(b"\x00")]


def _parameter_sets(data: bytes) -> bytes:
    """The SPS and PPS an access unit (or Annex B extradata) carries, in Annex B."""
    units = [nal for nal in _nal_units(data) if nal[0] & 0x1F in PARAMETER_SETS]
    return b"".join(START_CODE + nal for nal in units)


def _with_parameter_sets(data: bytes, sets: bytes) -> bytes:
    """A keyframe with the SPS and PPS in front of it (after its delimiter, if any)."""
    units = [START_CODE + nal for nal in _nal_units(data)]
    lead = 1 if units and units[0][4] & 0x1F == DELIMITER else 0
    return b"".join([*units[:lead], sets, *units[lead:]])


class PictureFeed:
    """One consumer's decoded pictures of a camera: the newest frame, never a growing queue.
    A `keyframes_only` feed (a grid tile) takes the keyframes' pictures alone, so that our
    encoder works for it about once a second."""

    def __init__(self, camera: "CameraStream", *, keyframes_only: bool = False) -> None:
        self._camera = camera
        self._frame: VideoFrame | None = None
        self._ready = asyncio.Event()
        self.keyframes_only = keyframes_only
        self.ended = False

    def put(self, frame: VideoFrame, keyframe: bool) -> None:
        if keyframe or not self.keyframes_only:
            self._frame = frame
            self._ready.set()

    async def recv(self) -> VideoFrame:
        while not self.ended:
            if self._frame is not None:
                frame, self._frame = self._frame, None
                return frame
            self._ready.clear()
            await self._ready.wait()
        raise MediaStreamError

    def request_keyframe(self) -> None:
        """Our encoder makes this subscriber's keyframes; the camera need not."""

    def end(self) -> None:
        """Stops the feed and wakes a `recv` waiting on it."""
        self.ended = True
        self._camera.pictures.discard(self)
        self._ready.set()


class CameraStream:
    """A bed's IP camera (`monitor.Camera`): a `forwarding.Tap` for viewers on H.264, decoded
    pictures for the others."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.kind = "video"
        self.codec: str | None = None  # known once the stream first opens
        self.feeds: set[EncodedFeed] = set()
        self.pictures: set[PictureFeed] = set()
        self.frames = 0
        self.last_frame_at: float | None = None  # monotonic
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._exited = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Where the frames' timestamps stand, so that a new connection's frames continue them.
        self._last_pts: int | None = None
        self._last_pts_at = 0.0
        # The worker thread's own, for the connection it reads: the latest SPS and PPS, whether
        # a keyframe came yet, and whether the decoder runs.
        self._sets = b""
        self._keyed = self._decoding = False

    @property
    def camera(self) -> str:
        """The camera's address for logs: never the credentials an RTSP URL carries."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or 554}"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._run, name=f"rtsp {self.camera}", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Ends every feed at once; the thread leaves at its next frame, or when its read times
        out, or (in the middle of connecting) when the connection attempt times out."""
        self._stopping.set()
        feeds: list[Feed] = [*self.feeds, *self.pictures]
        for feed in feeds:
            feed.end()
        if self._thread is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exited.wait(), READ_TIMEOUT + 0.5)

    def subscribe(self, codec: str | None = None, *, keyframes_only: bool = False) -> Feed:
        """The camera's own frames for a consumer on H.264 while the camera sends H.264 (or is
        yet to say: the source kind promises H.264); decoded pictures for anyone else."""
        if codec == H264 and self.codec in (None, H264):
            feed = EncodedFeed(self, keyframes_only=keyframes_only)
            self.feeds.add(feed)
            return feed
        pictures = PictureFeed(self, keyframes_only=keyframes_only)
        self.pictures.add(pictures)
        return pictures

    def request_keyframe(self) -> None:
        """A no-op: an IP camera makes keyframes at its own interval (its GOP setting) and RTSP
        has no way to ask it for one; a feed waits for the next."""

    # --- on the event loop ---------------------------------------------------------------

    def _opened(self, codec: str) -> None:
        self.codec = codec
        if codec != H264:  # their slots empty, and are relinked to decoded pictures
            for feed in list(self.feeds):
                feed.end()

    def _arrived(self, packet: "Packet[Any] | None", keyframe: bool) -> None:
        if self._stopping.is_set():
            return
        self.frames += 1
        self.last_frame_at = time.monotonic()
        if packet is not None:
            for feed in list(self.feeds):
                feed.offer(packet, keyframe)

    def _decoded(self, frame: VideoFrame, keyframe: bool) -> None:
        for feed in list(self.pictures):
            feed.put(frame, keyframe)

    # --- in the worker thread ------------------------------------------------------------

    def _call(self, callback: Any, *args: Any) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the event loop closed under us: nobody is left to feed
            self._stopping.set()

    def _run(self) -> None:
        delay, failing = BACKOFF[0], False
        try:
            while not self._stopping.is_set():
                try:
                    container = av.open(
                        self.url,
                        options={"rtsp_transport": "tcp", "timeout": str(int(READ_TIMEOUT * 1e6))},
                        timeout=(OPEN_TIMEOUT, READ_TIMEOUT),
                    )
                    with container:
                        if self._pump(container):
                            delay, failing = BACKOFF[0], False
                    reason = "the stream ended"
                except Exception as exc:  # refused, timed out, garbled: all mean "try again"
                    reason = repr(exc)
                    if isinstance(exc, av.FFmpegError):  # not its text: that ends with the URL,
                        reason = exc.strerror or type(exc).__name__  # and the password with it
                if not failing and not self._stopping.is_set():
                    logger.warning("camera %s: %s; reconnecting", self.camera, reason)
                failing = True
                if self._stopping.wait(delay):
                    break
                delay = min(delay * 2, BACKOFF[1])
        finally:
            self._call(self._exited.set)

    def _pump(self, container: InputContainer) -> bool:
        """Reads one connection until it ends; answers whether any frame came."""
        stream: VideoStream = container.streams.video[0]
        codec = f"video/{stream.codec_context.name}"
        self._call(self._opened, codec)
        logger.info("camera %s: streaming %s", self.camera, codec)
        extradata = stream.codec_context.extradata or b""
        self._sets = _parameter_sets(extradata) if extradata.startswith(b"\x00\x00") else b""
        self._keyed = self._decoding = False
        offset: int | None = None
        unit, unit_pts, unit_key = b"", -1, False
        for packet in container.demux(stream):
            if self._stopping.is_set():
                break
            if packet.size == 0:
                continue
            if packet.pts is None or stream.time_base is None:  # FFmpeg's first, unsynchronised
                self._call(self._arrived, None, False)
                continue
            pts = int(packet.pts * stream.time_base / CLOCK)
            if offset is None:  # a new connection continues the timestamps of the last one
                offset = -pts
                if self._last_pts is not None:
                    elapsed = int((time.monotonic() - self._last_pts_at) / CLOCK)
                    offset += self._last_pts + 1 + elapsed
            if pts + offset == unit_pts:  # more of the picture
                unit, unit_key = unit + bytes(packet), unit_key or bool(packet.is_keyframe)
                continue
            if unit:
                self._picture(codec, stream.codec_context, unit, unit_pts, unit_key)
            unit, unit_pts, unit_key = bytes(packet), pts + offset, bool(packet.is_keyframe)
            self._last_pts, self._last_pts_at = unit_pts, time.monotonic()
        return offset is not None

    def _picture(
        self, codec: str, decoder: VideoCodecContext, data: bytes, pts: int, keyframe: bool
    ) -> None:
        """Hands one picture to the feeds, and to the decoder while decoded feeds exist."""
        passed: Packet[Any] | None = None
        if codec == H264:
            keyframe = is_keyframe(H264, data)
            found = _parameter_sets(data)
            if found:
                self._sets = found
            elif keyframe and self._sets:
                data = _with_parameter_sets(data, self._sets)
            # A connection's frames before its first keyframe refer to pictures no feed had.
            self._keyed = self._keyed or keyframe
            if self._keyed:
                passed = Packet(data)
                passed.pts, passed.time_base = pts, CLOCK
        self._call(self._arrived, passed, keyframe)
        if not self.pictures:
            self._decoding = False  # and it starts again at a keyframe
        elif self._decoding or keyframe:
            self._decoding = True
            with contextlib.suppress(av.FFmpegError):  # one bad picture; the next may do
                for frame in decoder.decode(Packet(data)):
                    frame.pts, frame.time_base = pts, CLOCK
                    self._call(self._decoded, frame, keyframe)
