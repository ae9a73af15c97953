"""An ICU IP camera's RTSP stream, ingested with PyAV from a real RTSP server on loopback
(GStreamer's): frames pass through to H.264 consumers, decoded pictures go to the others, and
the stream comes back by itself after the camera drops."""

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from fractions import Fraction
from typing import Any

import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
)
from aiortc.codecs.h264 import H264Encoder
from aiortc.mediastreams import MediaStreamError
from av.packet import Packet
from av.video.frame import VideoFrame

from services.video.forwarding import EncodedFeed, is_keyframe
from services.video.media import Feed
from services.video.wards.monitor import Camera
from services.video.wards.rtsp import CameraStream, PictureFeed
from tests.video.cameras import LoopbackCamera
from tests.video.peers import until

H264 = "video/h264"
SECOND = 90_000  # in the 1/90000 time base of the packets


def pts(packet: "Packet[Any]") -> int:
    assert packet.pts is not None
    return packet.pts


def nal_types(packet: "Packet[Any]") -> list[int]:
    units = bytes(packet).split(b"\x00\x00\x01")
    return [nal[0] & 0x1F for nal in units if nal.strip(b"\x00")]


def starts_a_picture(packet: "Packet[Any]") -> bool:
    """An IDR with the SPS and PPS before it, after the access unit delimiter if there is one:
    what a decoder needs to start from this packet."""
    types = nal_types(packet)
    if types[:1] == [9]:
        types = types[1:]
    return types[:2] == [7, 8] and 5 in types


@pytest.fixture
async def camera() -> AsyncIterator[LoopbackCamera]:
    async with LoopbackCamera() as camera:
        yield camera


@contextlib.asynccontextmanager
async def streaming(url: str) -> AsyncIterator[CameraStream]:
    stream = CameraStream(url)
    started: Camera = stream  # what the monitoring job takes
    await started.start()
    try:
        yield stream
    finally:
        await stream.stop()


async def packets(feed: Feed, count: int) -> list["Packet[Any]"]:
    received: list[Packet[Any]] = []
    async with asyncio.timeout(15):
        while len(received) < count:
            packet = await feed.recv()
            assert isinstance(packet, Packet)
            received.append(packet)
    return received


async def test_frames_arrive_and_the_time_of_the_last_one_advances(
    camera: LoopbackCamera,
) -> None:
    async with streaming(camera.url) as stream:
        await until(lambda: stream.frames >= 5)
        first = stream.last_frame_at
        assert first is not None
        assert time.monotonic() - first < 1
        await until(lambda: (stream.last_frame_at or 0) > first)
        assert stream.codec == H264


@pytest.mark.parametrize("option", ["", "--sdp-only"])
async def test_an_h264_consumer_gets_the_camera_frames_from_a_keyframe_with_its_sps(
    option: str,
) -> None:
    """With `--sdp-only` the camera sends SPS and PPS in the SDP alone: the stream puts them in
    front of every keyframe itself."""
    async with LoopbackCamera(option=option) as camera, streaming(camera.url) as stream:
        feed = stream.subscribe(H264)
        assert isinstance(feed, EncodedFeed)
        first, *rest = await packets(feed, 20)
        assert is_keyframe(H264, bytes(first))
        assert starts_a_picture(first)
        assert all(p.time_base == Fraction(1, SECOND) for p in [first, *rest])
        steps = [pts(b) - pts(a) for a, b in itertools.pairwise([first, *rest])]
        assert all(step == SECOND // 15 for step in steps), steps  # every frame, at 15 fps
        keyframes = [p for p in rest if is_keyframe(H264, bytes(p))]
        assert keyframes
        assert all(starts_a_picture(p) for p in keyframes)


async def test_a_keyframes_only_consumer_gets_one_picture_a_second(
    camera: LoopbackCamera,
) -> None:
    async with streaming(camera.url) as stream:
        tile = stream.subscribe(H264, keyframes_only=True)
        received = await packets(tile, 3)
        assert all(starts_a_picture(p) for p in received)
        steps = [pts(b) - pts(a) for a, b in itertools.pairwise(received)]
        assert steps == [SECOND, SECOND]  # the camera's keyframe interval


async def pictures(feed: Feed, count: int) -> list[VideoFrame]:
    received: list[VideoFrame] = []
    async with asyncio.timeout(15):
        while len(received) < count:
            frame = await feed.recv()
            assert isinstance(frame, VideoFrame)
            received.append(frame)
    return received


async def test_a_consumer_on_another_codec_gets_decoded_pictures(camera: LoopbackCamera) -> None:
    async with streaming(camera.url) as stream:
        feed = stream.subscribe("video/vp8")
        tile = stream.subscribe("video/vp8", keyframes_only=True)
        assert isinstance(feed, PictureFeed)
        frames = await pictures(feed, 5)
        assert {(f.width, f.height) for f in frames} == {(640, 480)}
        times = [f.pts or 0 for f in frames]
        assert times == sorted(set(times))
        assert frames[0].time_base == Fraction(1, SECOND)
        # A tile's pictures are the keyframes' alone: one a second for our encoder.
        shown = await pictures(tile, 3)
        assert [(b.pts or 0) - (a.pts or 0) for a, b in itertools.pairwise(shown)] == [SECOND] * 2


async def test_an_mjpeg_camera_is_decoded_even_for_an_h264_consumer() -> None:
    async with LoopbackCamera(option="--mjpeg") as camera, streaming(camera.url) as stream:
        await until(lambda: stream.codec == "video/mjpeg")
        feed = stream.subscribe(H264)
        assert isinstance(feed, PictureFeed)
        (frame,) = await pictures(feed, 1)
        assert (frame.width, frame.height) == (640, 480)


async def test_the_stream_comes_back_by_itself_after_the_camera_drops(
    camera: LoopbackCamera,
) -> None:
    async with streaming(camera.url) as stream:
        feed = stream.subscribe(H264)
        (previous,) = await packets(feed, 1)
        await camera.cut()
        await until(lambda: time.monotonic() - (stream.last_frame_at or 0) > 1.5, within=5)
        silent = stream.frames
        await camera.restore()
        await until(lambda: stream.frames > silent + 15, within=20)
        # The same feed goes on, on a clock that kept running meanwhile, from a keyframe.
        while pts(packet := (await packets(feed, 1))[0]) - pts(previous) < 1.5 * SECOND:
            assert pts(packet) > pts(previous)
            previous = packet
        assert starts_a_picture(packet)


@pytest.mark.parametrize("cut", [False, True], ids=["streaming", "reconnecting"])
async def test_stop_is_prompt_and_ends_every_feed(camera: LoopbackCamera, cut: bool) -> None:
    stream = CameraStream(camera.url)
    await stream.start()
    feeds = [stream.subscribe(H264), stream.subscribe(H264, keyframes_only=True)]
    feeds.append(stream.subscribe("video/vp8"))
    await until(lambda: stream.frames > 0)
    if cut:
        await camera.cut()
        await until(lambda: time.monotonic() - (stream.last_frame_at or 0) > 1, within=5)
    waiting = [asyncio.create_task(drain(feed)) for feed in feeds]
    started = time.monotonic()
    await stream.stop()
    assert time.monotonic() - started < 3
    for task in waiting:
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(task, 1)
    assert not stream.feeds
    assert not stream.pictures
    thread = stream._thread
    assert thread is not None
    await until(lambda: not thread.is_alive(), within=1)


async def drain(feed: Feed) -> None:
    while True:
        await feed.recv()


async def test_a_camera_that_refuses_is_retried_and_its_password_stays_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera = LoopbackCamera()  # its port, with nothing listening yet
    url = camera.url.replace("rtsp://", "rtsp://icu:secret@")
    async with streaming(url) as stream:
        await until(lambda: "camera 127.0.0.1" in caplog.text, within=5)
        assert "refused" in caplog.text
        async with camera:
            await until(lambda: stream.frames > 0, within=20)
    assert "secret" not in caplog.text


class Passthrough(MediaStreamTrack):
    """A sending track whose frames are the camera's encoded packets, as a viewer's slot
    forwards them."""

    kind = "video"

    def __init__(self, feed: Feed) -> None:
        super().__init__()
        self.feed = feed

    async def recv(self) -> Any:
        return await self.feed.recv()


async def test_aiortc_sends_the_camera_frames_as_they_came_and_a_peer_decodes_them() -> None:
    """No re-encoding: aiortc's H.264 packetizer takes the camera's packets, and the receiving
    peer's decoder makes 640x480 pictures of them. The camera sends its SPS and PPS in the SDP
    alone, so the decoder starts only thanks to those the stream puts in front of keyframes."""
    sender, receiver = (RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2))
    sizes: list[tuple[int, int]] = []

    @receiver.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        async def count() -> None:
            with contextlib.suppress(MediaStreamError):
                while True:
                    frame = await track.recv()
                    assert isinstance(frame, VideoFrame)
                    sizes.append((frame.width, frame.height))

        tasks.append(asyncio.create_task(count()))

    tasks: list[asyncio.Task[None]] = []
    async with LoopbackCamera(option="--sdp-only") as camera, streaming(camera.url) as stream:
        feed = stream.subscribe(H264)
        assert isinstance(feed, EncodedFeed)
        transceiver = sender.addTransceiver(Passthrough(feed), direction="sendonly")
        capabilities = RTCRtpSender.getCapabilities("video")
        transceiver.setCodecPreferences(
            [c for c in capabilities.codecs if c.mimeType.lower() == H264]
        )
        try:
            await sender.setLocalDescription(await sender.createOffer())
            await receiver.setRemoteDescription(sender.localDescription)
            await receiver.setLocalDescription(await receiver.createAnswer())
            await sender.setRemoteDescription(receiver.localDescription)
            await until(lambda: len(sizes) >= 30, within=20)  # two seconds of video
            assert set(sizes) == {(640, 480)}
            encoder = transceiver.sender._RTCRtpSender__encoder  # type: ignore[attr-defined]
            assert isinstance(encoder, H264Encoder)
            assert encoder.codec is None  # its libx264 context, made at the first encoding
        finally:
            await sender.close()
            await receiver.close()
            for task in tasks:
                task.cancel()
