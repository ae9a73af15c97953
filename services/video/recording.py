"""Recording a call to an MP4 file: the host's video and every admitted participant's voice,
mixed, encoded in a worker thread.

The event loop only copies frame references into a bounded queue (dropping when the encoder
falls behind); mixing, H.264 and AAC encoding and muxing run in the thread, so recording never
stalls media.
"""

import asyncio
import contextlib
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
from aiortc.mediastreams import MediaStreamError
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from services.video.media import Feed, Publication
from services.video.mixing import RATE, AudioMix

logger = logging.getLogger("telemed.video.recording")
QUEUE_ITEMS = 256  # a few seconds of one video and several voices
TIME_BASE = Fraction(1, 90_000)
# (seconds since the recording started, who, frame); who is None for the host's video.
Item = tuple[float, uuid.UUID | None, VideoFrame | AudioFrame] | None


class Pictures(Protocol):
    """Decoded video to record: a participant's publication, or an ICU bed's IP camera."""

    def subscribe(self, codec: str | None = None, *, keyframes_only: bool = False) -> Feed: ...


class Writer:
    """The MP4 file: its streams start with the first video frame, whose size the file keeps."""

    def __init__(self, container: OutputContainer) -> None:
        self.container = container
        self.video: VideoStream | None = None
        self.audio: AudioStream | None = None
        self.mix = AudioMix()
        self.frames = 0
        self._last_pts = -1

    def write_video(self, at: float, frame: VideoFrame) -> None:
        if self.video is None:
            self.video = self.container.add_stream("libx264", rate=30)
            self.video.width, self.video.height = frame.width, frame.height
            self.video.pix_fmt = "yuv420p"
            # The encoder's own clock too: at its default (1/rate) two frames that arrive
            # closer than a 30th of a second would get one timestamp, which the muxer refuses.
            self.video.time_base = self.video.codec_context.time_base = TIME_BASE
            self.video.options = {"preset": "ultrafast"}
            self.audio = self.container.add_stream("aac", rate=RATE)
            self.audio.layout = "mono"
        # The publisher may change resolution mid-call; the file keeps the first one.
        image = frame.reformat(width=self.video.width, height=self.video.height, format="yuv420p")
        image.pts = max(int(at / TIME_BASE), self._last_pts + 1)
        image.time_base = TIME_BASE
        self._last_pts = image.pts
        self.container.mux(self.video.encode(image))
        self.frames += 1
        self.write_audio(at)

    def write_audio(self, now: float | None) -> None:
        if self.audio is not None and (mixed := self.mix.take(now)) is not None:
            self.container.mux(self.audio.encode(mixed))

    def finish(self) -> None:
        if self.video is not None and self.audio is not None:
            self.write_audio(None)
            self.container.mux(self.video.encode(None))
            self.container.mux(self.audio.encode(None))


def encode(path: Path, items: "queue.Queue[Item]") -> int:
    """Writes the queued frames until the end marker; returns how many video frames it wrote."""
    with av.open(str(path), "w", format="mp4") as container:
        writer = Writer(container)
        while (item := items.get()) is not None:
            at, who, frame = item
            if isinstance(frame, VideoFrame):
                writer.write_video(at, frame)
            elif who is not None:
                writer.mix.add(who, at, frame)
        writer.finish()
    return writer.frames


@dataclass
class Recording:
    room_id: uuid.UUID
    publisher_id: uuid.UUID
    path: Path
    bearer: str
    started_at: float = field(default_factory=time.time)
    fed: int = 0
    dropped: int = 0
    _items: "queue.Queue[Item]" = field(default_factory=lambda: queue.Queue(QUEUE_ITEMS))
    _started: float = field(default_factory=time.monotonic)
    _pumps: dict[uuid.UUID | None, asyncio.Task[None]] = field(default_factory=dict)
    _result: "asyncio.Future[int] | None" = None

    def start(self, video: Pictures) -> None:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[int] = loop.create_future()
        self._result = result

        def run() -> None:
            try:
                count = encode(self.path, self._items)
            except Exception as exc:  # reported to whoever stops the recording
                loop.call_soon_threadsafe(_settle, result, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, result, count, None)

        threading.Thread(target=run, name=f"recording-{self.room_id}", daemon=True).start()
        self._pumps[None] = asyncio.create_task(self._feed(None, video.subscribe()))

    def hear(self, participant_id: uuid.UUID, audio: Publication) -> None:
        """Adds a participant's voice to the mix (again, after a rejoin)."""
        self.mute(participant_id)
        self._pumps[participant_id] = asyncio.create_task(
            self._feed(participant_id, audio.subscribe())
        )

    def mute(self, participant_id: uuid.UUID) -> None:
        """Takes a participant's voice out (sent back to the waiting room)."""
        pump = self._pumps.pop(participant_id, None)
        if pump is not None:
            pump.cancel()

    async def _feed(self, who: uuid.UUID | None, feed: Feed) -> None:
        try:
            while True:
                frame = await feed.recv()
                if not isinstance(frame, VideoFrame | AudioFrame):
                    continue
                try:
                    self._items.put_nowait((time.monotonic() - self._started, who, frame))
                    self.fed += who is None
                except queue.Full:
                    self.dropped += 1
        except MediaStreamError:
            pass  # the participant left; `stop` finishes the file
        finally:
            feed.end()

    async def stop(self) -> int:
        """Ends the file; returns the number of video frames in it."""
        assert self._result is not None
        pumps = list(self._pumps.values())
        self._pumps.clear()
        for pump in pumps:
            pump.cancel()
        for pump in pumps:
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        # The end marker must get in even if the queue is full, so wait for room off the loop.
        await asyncio.to_thread(self._items.put, None)
        count = await self._result
        if self.dropped:
            logger.warning("recording %s dropped %d frames", self.room_id, self.dropped)
        return count


def _settle(future: "asyncio.Future[int]", value: int | None, error: Exception | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value or 0)
