"""Recording one participant's video to an MP4 file, encoded in a worker thread.

The event loop only copies frame references into a bounded queue (dropping when the encoder
falls behind); H.264 encoding and muxing run in the thread, so recording never stalls media.
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

import av
from aiortc.mediastreams import MediaStreamError
from av.video.frame import VideoFrame

from services.video.media import Publication

logger = logging.getLogger("telemed.video.recording")
QUEUE_FRAMES = 64
TIME_BASE = Fraction(1, 90_000)
Item = tuple[float, VideoFrame] | None


def encode(path: Path, frames: "queue.Queue[Item]") -> int:
    """Writes the queued frames until the end marker; returns how many were encoded."""
    count = 0
    last_pts = -1
    with av.open(str(path), "w", format="mp4") as container:
        stream = None
        size = (0, 0)
        started = 0.0
        while (item := frames.get()) is not None:
            at, frame = item
            if stream is None:
                stream = container.add_stream("libx264", rate=30)
                stream.width, stream.height = size = (frame.width, frame.height)
                stream.pix_fmt = "yuv420p"
                stream.time_base = TIME_BASE
                stream.options = {"preset": "ultrafast"}
                started = at
            # The publisher may change resolution mid-call; the file keeps the first one.
            image = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            image.pts = max(int((at - started) / TIME_BASE), last_pts + 1)
            image.time_base = TIME_BASE
            last_pts = image.pts
            container.mux(stream.encode(image))
            count += 1
        if stream is not None:
            container.mux(stream.encode(None))
    return count


@dataclass
class Recording:
    room_id: uuid.UUID
    publisher_id: uuid.UUID
    path: Path
    bearer: str
    started_at: float = field(default_factory=time.time)
    fed: int = 0
    dropped: int = 0
    _frames: "queue.Queue[Item]" = field(default_factory=lambda: queue.Queue(QUEUE_FRAMES))
    _pump: asyncio.Task[None] | None = None
    _result: "asyncio.Future[int] | None" = None

    def start(self, video: Publication) -> None:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[int] = loop.create_future()
        self._result = result

        def run() -> None:
            try:
                count = encode(self.path, self._frames)
            except Exception as exc:  # reported to whoever stops the recording
                loop.call_soon_threadsafe(_settle, result, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, result, count, None)

        threading.Thread(target=run, name=f"recording-{self.room_id}", daemon=True).start()
        self._pump = asyncio.create_task(self._feed(video))

    async def _feed(self, video: Publication) -> None:
        feed = video.subscribe()
        try:
            while True:
                frame = await feed.recv()
                if not isinstance(frame, VideoFrame):
                    continue
                try:
                    self._frames.put_nowait((time.monotonic(), frame))
                    self.fed += 1
                except queue.Full:
                    self.dropped += 1
        except MediaStreamError:
            pass  # the publisher left; `stop` finishes the file
        finally:
            feed.end()

    async def stop(self) -> int:
        """Ends the file; returns the number of frames in it."""
        assert self._pump is not None
        assert self._result is not None
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump
        # The end marker must get in even if the queue is full, so wait for room off the loop.
        await asyncio.to_thread(self._frames.put, None)
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
