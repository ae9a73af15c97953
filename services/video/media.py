"""The media path: one aiortc peer connection per participant, tracks relayed between them.

Each client offers its own audio and video (sendonly) and a fixed number of receive slots
(recvonly audio + video pairs). The server answers every slot as sendonly and later points a
slot at another participant's track with `SlotTrack.switch`, so admitting someone, sending them
back to the waiting room or losing a participant never needs renegotiation — which WHIP/WHEP
signalling could not carry, since the server cannot send the client a new offer.

A slot whose link negotiated the publisher's codec gets the publisher's encoded frames as they
arrived (`forwarding.py`), so the server neither decodes nor encodes them. Decoded pictures come
from one `MediaRelay` per published track, subscribed unbuffered: a subscriber that lags gets the
newest frame, never a growing queue. A drain subscriber keeps the relay reading the track even
when nobody watches, because aiortc queues decoded frames without bound otherwise.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay, RelayStreamTrack
from aiortc.mediastreams import MediaStreamError
from av.frame import Frame
from av.packet import Packet

from services.common.errors import BadRequest
from services.video.forwarding import EncodedTap
from services.video.quality import Quality

logger = logging.getLogger("telemed.video.media")
KINDS = ("audio", "video")
# Every link prefers VP8 so that publisher and subscribers share a codec and frames can be
# forwarded as they are; H.264 stays for clients that offer nothing else.
PREFERRED_VIDEO_CODEC = "video/vp8"
Vanished = Callable[["Session", str], Awaitable[None]]


class Feed(Protocol):
    """Frames (decoded) or packets (encoded) of one published track, for one consumer."""

    async def recv(self) -> Frame | Packet: ...  # type: ignore[type-arg]

    def request_keyframe(self) -> None: ...

    def end(self) -> None: ...


class DecodedFeed:
    """A relay subscription to a track's decoded frames."""

    def __init__(self, proxy: RelayStreamTrack, tap: EncodedTap) -> None:
        self._proxy = proxy
        self._tap = tap
        tap.start_decoding()

    async def recv(self) -> Frame | Packet:  # type: ignore[type-arg]
        return await self._proxy.recv()

    def request_keyframe(self) -> None:
        """Our encoder makes the subscriber's keyframes; the publisher need not."""

    def end(self) -> None:
        """Wakes a `recv` waiting on the relay (it raises MediaStreamError), the way the relay
        itself ends its subscriptions when the source stops."""
        if self._proxy.readyState == "ended":
            return
        self._tap.stop_decoding()
        self._proxy._frame = None
        if self._proxy._new_frame_event is not None:
            self._proxy._new_frame_event.set()
        self._proxy.stop()


class SlotTrack(MediaStreamTrack):
    """What one receive slot's sender sends: whichever source it is switched to, or nothing."""

    def __init__(self, kind: str, codec: str, mid: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.codec = codec
        self.mid = mid  # the transceiver's, by which the client tells its slots apart
        self.source: Feed | None = None
        self.publisher: uuid.UUID | None = None
        self._changed = asyncio.Event()

    def switch(self, source: Feed | None, publisher: uuid.UUID | None) -> None:
        previous = self.source
        self.source, self.publisher = source, publisher
        self._changed.set()
        if previous is not None:
            previous.end()

    def keyframe_requested(self) -> None:
        if self.source is not None:
            self.source.request_keyframe()

    async def recv(self) -> Frame | Packet:  # type: ignore[type-arg]
        while self.readyState == "live":
            source = self.source
            if source is None:
                self._changed.clear()
                await self._changed.wait()
                continue
            try:
                frame = await source.recv()
            except MediaStreamError:
                if self.source is source:  # the publisher's track ended
                    self.source = self.publisher = None
                continue
            if self.source is source:
                return frame
        raise MediaStreamError

    def stop(self) -> None:
        self.switch(None, None)
        super().stop()


@dataclass
class Publication:
    """A participant's received track: its encoded frames, its decoded frames through a relay,
    and the drain that keeps the relay read."""

    track: MediaStreamTrack
    tap: EncodedTap
    codec: str = ""
    relay: MediaRelay = field(default_factory=MediaRelay)
    drain: asyncio.Task[None] | None = None

    @property
    def frames(self) -> int:
        return self.tap.frames

    @property
    def last_frame_at(self) -> float | None:
        return self.tap.last_frame_at

    def subscribe(self, codec: str | None = None, *, keyframes_only: bool = False) -> Feed:
        """Encoded frames when the consumer's `codec` is the publisher's and forwarding is on;
        decoded frames otherwise (and always when no codec is given). `keyframes_only` asks
        for keyframes alone where frames are forwarded."""
        if self.tap.forward and codec is not None and codec == self.codec:
            return self.tap.subscribe(keyframes_only=keyframes_only)
        return DecodedFeed(self._relayed(), self.tap)

    def request_keyframe(self) -> None:
        self.tap.request_keyframe()

    def _relayed(self) -> RelayStreamTrack:
        proxy = self.relay.subscribe(self.track, buffered=False)
        assert isinstance(proxy, RelayStreamTrack)
        return proxy

    def start(self) -> None:
        self.drain = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        proxy = self._relayed()
        with contextlib.suppress(MediaStreamError):
            while True:
                await proxy.recv()


@dataclass
class Session:
    room_id: uuid.UUID
    participant_id: uuid.UUID
    identity: str
    pc: RTCPeerConnection
    admitted: bool
    started: float = field(default_factory=time.monotonic)
    last_seen: float | None = None
    publications: dict[str, Publication] = field(default_factory=dict)
    slots: list[SlotTrack] = field(default_factory=list)
    audio_only: bool = False
    quality: Quality = field(default_factory=Quality)
    watchdog: asyncio.Task[None] | None = None

    def free_slot(self, kind: str) -> SlotTrack | None:
        return next((s for s in self.slots if s.kind == kind and s.source is None), None)


class MediaHub:
    """Every live peer connection of this process, grouped by room."""

    def __init__(
        self,
        *,
        heartbeat_timeout: float,
        connect_timeout: float,
        on_vanished: Vanished,
        forward_encoded: bool = True,
    ) -> None:
        self.sessions: dict[uuid.UUID, Session] = {}
        self.forward_encoded = forward_encoded
        self.heartbeat_timeout = heartbeat_timeout
        self.connect_timeout = connect_timeout
        self._on_vanished = on_vanished
        self._peer_connections: set[RTCPeerConnection] = set()

    @property
    def peer_connections(self) -> int:
        return len(self._peer_connections)

    def in_room(self, room_id: uuid.UUID) -> list[Session]:
        return [s for s in self.sessions.values() if s.room_id == room_id]

    async def connect(
        self,
        room_id: uuid.UUID,
        participant_id: uuid.UUID,
        identity: str,
        offer_sdp: str,
        *,
        admitted: bool,
        audio_only: bool = False,
        slot_codecs: Sequence[str] = (),
    ) -> str:
        """Answers the participant's offer (all candidates included); replaces an older session
        of the same participant, since a rejoin means that one is dead. `slot_codecs` names the
        codec each of the client's video receive slots should prefer, in the offer's order
        (VP8 for any not named), so a slot can carry a source's frames as they came."""
        if "m=" not in offer_sdp or not offer_sdp.startswith("v=0"):
            raise BadRequest("The body is not an SDP offer.")
        await self.disconnect(participant_id)
        # MAX_BUNDLE: under aiortc's default (balanced) policy, media after the first of each
        # kind keeps a transport that BUNDLE then discards, so those slots never send.
        pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self._peer_connections.add(pc)
        session = Session(room_id, participant_id, identity, pc, admitted, audio_only=audio_only)
        try:
            answer = await self._negotiate(session, offer_sdp, slot_codecs)
        except Exception as exc:
            await self._close_pc(pc)
            if isinstance(exc, BadRequest):
                raise
            raise BadRequest(f"The SDP offer cannot be used: {exc or type(exc).__name__}.") from exc
        self.sessions[participant_id] = session
        for publication in session.publications.values():
            publication.start()
        if admitted:
            self._link_all(session)
        session.watchdog = asyncio.create_task(self._watch(session))
        return answer

    async def _negotiate(self, session: Session, offer_sdp: str, slot_codecs: Sequence[str]) -> str:
        pc = session.pc
        video_slots = 0

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind in session.publications:
                return
            receiver = next(r for r in pc.getReceivers() if r.track is track)
            tap = EncodedTap(receiver, track.kind, forward=self.forward_encoded)
            tap.attach()
            session.publications[track.kind] = Publication(track, tap)

        @pc.on("datachannel")
        def on_channel(channel: RTCDataChannel) -> None:
            @channel.on("message")
            def on_message(message: object) -> None:
                session.last_seen = time.monotonic()
                if message == "ping" and channel.readyState == "open":
                    channel.send("pong")

        await pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        for transceiver in pc.getTransceivers():
            receives = transceiver._offerDirection == "sendonly"  # a recvonly slot of the client
            preferred = PREFERRED_VIDEO_CODEC
            if receives and transceiver.kind == "video":
                if video_slots < len(slot_codecs):
                    preferred = slot_codecs[video_slots]
                video_slots += 1
            _prefer_codec(transceiver, preferred)
            codec = _codec_of(transceiver)
            if receives:
                slot = SlotTrack(transceiver.kind, codec, transceiver.mid)
                transceiver.direction = "sendonly"
                transceiver.sender.replaceTrack(slot)
                _forward_keyframe_requests(transceiver, slot)
                session.slots.append(slot)
                continue
            publication = session.publications.get(transceiver.kind)
            if publication is not None and publication.track is transceiver.receiver.track:
                publication.codec = codec
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    def _link(self, publisher: Session, subscriber: Session) -> None:
        for kind, publication in publisher.publications.items():
            if kind == "video" and subscriber.audio_only:
                continue
            if any(s.publisher == publisher.participant_id and s.kind == kind
                   for s in subscriber.slots):  # fmt: skip
                continue
            slot = subscriber.free_slot(kind)
            if slot is None:
                logger.info("no free %s slot for %s", kind, subscriber.identity)
                continue
            slot.switch(publication.subscribe(slot.codec), publisher.participant_id)

    @staticmethod
    def _unlink(publisher_id: uuid.UUID, subscriber: Session, kinds: tuple[str, ...]) -> None:
        for slot in subscriber.slots:
            if slot.publisher == publisher_id and slot.kind in kinds:
                slot.switch(None, None)

    def _link_all(self, session: Session) -> None:
        for other in self.in_room(session.room_id):
            if other is not session and other.admitted:
                self._link(other, session)
                self._link(session, other)

    def _unlink_all(self, session: Session) -> None:
        for other in self.in_room(session.room_id):
            if other is not session:
                self._unlink(session.participant_id, other, KINDS)
                self._unlink(other.participant_id, session, KINDS)

    def admit(self, participant_id: uuid.UUID) -> None:
        session = self.sessions.get(participant_id)
        if session is not None and not session.admitted:
            session.admitted = True
            self._link_all(session)

    def hold(self, participant_id: uuid.UUID) -> None:
        """Back to the waiting room: connected, but nobody's media flows either way."""
        session = self.sessions.get(participant_id)
        if session is not None and session.admitted:
            session.admitted = False
            self._unlink_all(session)

    def set_audio_only(self, participant_id: uuid.UUID, audio_only: bool) -> None:
        """Stops (or resumes) sending video to a participant on a poor link."""
        session = self.sessions.get(participant_id)
        if session is None or session.audio_only == audio_only:
            return
        session.audio_only = audio_only
        if audio_only:
            for slot in session.slots:
                if slot.kind == "video":
                    slot.switch(None, None)
        elif session.admitted:
            self._link_all(session)

    async def disconnect(self, participant_id: uuid.UUID) -> bool:
        session = self.sessions.pop(participant_id, None)
        if session is None:
            return False
        self._unlink_all(session)
        if session.watchdog is not None and session.watchdog is not asyncio.current_task():
            session.watchdog.cancel()
        for slot in session.slots:
            slot.stop()
        for publication in session.publications.values():
            if publication.drain is not None:
                publication.drain.cancel()
        await self._close_pc(session.pc)
        return True

    async def close_room(self, room_id: uuid.UUID) -> None:
        for session in self.in_room(room_id):
            await self.disconnect(session.participant_id)

    async def close(self) -> None:
        for participant_id in list(self.sessions):
            await self.disconnect(participant_id)

    async def _close_pc(self, pc: RTCPeerConnection) -> None:
        try:
            await pc.close()
        finally:
            self._peer_connections.discard(pc)

    async def _watch(self, session: Session) -> None:
        """Drops a participant whose heartbeat stopped: far sooner than ICE consent (~30 s)."""
        while True:
            await asyncio.sleep(min(0.5, self.heartbeat_timeout / 4))
            now = time.monotonic()
            if session.pc.connectionState in ("failed", "closed"):
                reason = "connection-failed"
            elif session.last_seen is None and now - session.started > self.connect_timeout:
                reason = "never-connected"
            elif session.last_seen is not None and now - session.last_seen > self.heartbeat_timeout:
                reason = "heartbeat-timeout"
            else:
                continue
            logger.info("participant %s vanished: %s", session.identity, reason)
            await self.disconnect(session.participant_id)
            await self._on_vanished(session, reason)
            return


def _prefer_codec(transceiver: RTCRtpTransceiver, preferred: str) -> None:
    """Puts `preferred` first among the codecs both sides support; the answer lists them in
    this order and the client sends (and receives) the first."""
    if transceiver.kind == "video":
        transceiver._codecs.sort(key=lambda codec: codec.mimeType.lower() != preferred)


def _codec_of(transceiver: RTCRtpTransceiver) -> str:
    return transceiver._codecs[0].mimeType.lower() if transceiver._codecs else ""


def _forward_keyframe_requests(transceiver: RTCRtpTransceiver, slot: SlotTrack) -> None:
    """A subscriber's PLI or FIR makes our encoder send a keyframe (decoded frames), and is
    passed on to the publisher when we forward its encoded frames."""
    sender = transceiver.sender
    own = sender._send_keyframe

    def keyframe_requested() -> None:
        own()
        slot.keyframe_requested()

    sender._send_keyframe = keyframe_requested  # type: ignore[method-assign]
