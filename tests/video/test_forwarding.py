"""Encoded frames go from publisher to subscribers without the server decoding them."""

import asyncio
import uuid
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import pytest
from aiortc.mediastreams import MediaStreamError
from av.video.codeccontext import VideoCodecContext
from av.video.frame import VideoFrame

from services.video.forwarding import FEED_FRAMES, EncodedFeed, EncodedTap, is_keyframe
from services.video.media import DecodedFeed, Session
from tests.video.conftest import VideoWorld, video_world
from tests.video.peers import Peer, until

DOCTOR, PATIENT = (320, 240), (256, 192)


def encoded(codec: str, count: int) -> list[bytes]:
    """`count` frames of a moving picture, encoded with PyAV as a browser's encoder would."""
    context = av.CodecContext.create(codec, "w")
    assert isinstance(context, VideoCodecContext)
    context.width, context.height, context.pix_fmt = 160, 120, "yuv420p"
    context.time_base = Fraction(1, 15)
    context.options = {"g": "100"}  # only the first frame is a keyframe
    packets = []
    for index in range(count + 5):
        frame = VideoFrame(160, 120, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes((index * 9 + x) % 256 for x in range(plane.buffer_size)))
        frame.pts = index
        packets += context.encode(frame)
    packets += context.encode(None)
    return [bytes(packet) for packet in packets[:count]]


@pytest.mark.parametrize(("codec", "mime"), [("libvpx", "video/VP8"), ("libx264", "video/H264")])
def test_keyframes_are_told_from_inter_frames(codec: str, mime: str) -> None:
    first, *rest = encoded(codec, 4)
    assert is_keyframe(mime, first)
    assert not any(is_keyframe(mime, frame) for frame in rest)
    assert is_keyframe("audio/opus", rest[0])


@dataclass
class Source:
    source: int = 1234


@dataclass
class Receiver:
    """The two calls an `EncodedTap` makes of an aiortc receiver, recorded."""

    plis: list[int] = field(default_factory=list)

    def getSynchronizationSources(self) -> list[Source]:  # noqa: N802 - aiortc's name
        return [Source()]

    async def _send_rtcp_pli(self, media_ssrc: int) -> None:
        self.plis.append(media_ssrc)


@dataclass
class Codec:
    mimeType: str = "video/VP8"  # noqa: N815 - aiortc's name
    clockRate: int = 90_000  # noqa: N815


@dataclass
class Frame:
    data: bytes
    timestamp: int


async def test_a_feed_that_falls_behind_skips_to_the_next_keyframe() -> None:
    receiver = Receiver()
    tap = EncodedTap(receiver, "video", forward=True)  # type: ignore[arg-type]
    key, *inter = encoded("libvpx", FEED_FRAMES + 3)
    tap.put((Codec(), Frame(inter[0], 0)))  # before anyone subscribed: nobody gets it
    feed = tap.subscribe()
    await asyncio.sleep(0)
    assert receiver.plis == [1234]  # a new subscriber asks the publisher for a keyframe
    tap.put((Codec(), Frame(inter[1], 6000)))
    assert feed._frames.empty()  # it cannot start from an inter frame
    tap.put((Codec(), Frame(key, 12000)))
    for index, frame in enumerate(inter[: FEED_FRAMES - 1]):
        tap.put((Codec(), Frame(frame, 18000 + 6000 * index)))
    first = await feed.recv()
    assert bytes(first) == key
    assert first.pts == 12000
    assert first.time_base == Fraction(1, 90_000)
    tap.put((Codec(), Frame(inter[-1], 10**6)))  # now full: a slow subscriber
    tap.put((Codec(), Frame(inter[-2], 10**6 + 6000)))  # overflows: dropped to the next keyframe
    assert feed._frames.empty()
    tap.put((Codec(), Frame(key, 10**6 + 12000)))
    assert bytes(await feed.recv()) == key
    feed.end()
    assert feed not in tap.feeds
    with pytest.raises(MediaStreamError):
        await feed.recv()
    assert tap.qsize() == 0  # forwarding with no decoded consumer: nothing reached the decoder


def session_of(video: VideoWorld, peer: Peer) -> Session:
    assert peer.participant_id is not None
    return video.live.hub.sessions[uuid.UUID(peer.participant_id)]


async def call(video: VideoWorld) -> tuple[Peer, Peer]:
    room = await video.room()
    doctor = video.peer(room, await video.token(room), DOCTOR)
    patient = video.peer(room, await video.patient_token(room), PATIENT)
    await doctor.join()
    await patient.join()
    # The doctor publishes for a while first, so the patient subscribes mid-stream.
    await until(lambda: session_of(video, doctor).publications["video"].frames > 5)
    response = await video.http.post(
        f"/api/video/rooms/{room['id']}/participants/{patient.participant_id}/admit",
        headers=doctor.headers,
    )
    assert response.status_code == 200, response.text
    await until(lambda: doctor.got(PATIENT) and patient.got(DOCTOR))
    return doctor, patient


def linked_sources(session: Session) -> list[Any]:
    return [slot.source for slot in session.slots if slot.publisher is not None]


async def test_subscribers_decode_the_publishers_own_frames(video: VideoWorld) -> None:
    doctor, patient = await call(video)
    try:
        for peer in (doctor, patient):
            session = session_of(video, peer)
            (source,) = linked_sources(session)
            assert isinstance(source, EncodedFeed)
            assert session.publications["video"].codec == "video/vp8"
            assert session.publications["video"].tap.decoders == 0  # the server decodes nothing
        # Subscribed to mid-stream, the doctor was asked for a keyframe to start the patient on.
        assert doctor.keyframe_requests >= 1
    finally:
        await doctor.close()
        await patient.close()


async def test_without_forwarding_the_server_relays_decoded_frames(
    clean_databases: dict[str, str], tmp_path: Any
) -> None:
    async with video_world(clean_databases, tmp_path, forward_encoded=False) as video:
        doctor, patient = await call(video)
        try:
            session = session_of(video, doctor)
            (source,) = linked_sources(session)
            assert isinstance(source, DecodedFeed)
            assert session.publications["video"].tap.decoding
        finally:
            await doctor.close()
            await patient.close()
