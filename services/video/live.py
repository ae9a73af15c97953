"""The live side of rooms: ties the rules in `service.py` to peer connections, room events and
recordings, which exist only in this process."""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from services.common.audit import AuditTables
from services.common.db import Database
from services.common.errors import Conflict, NotFound, ProblemError, ServiceUnavailable
from services.common.owner_only import private_folder
from services.common.uow import UnitOfWork, standalone_unit_of_work
from services.files.client import FilesClient
from services.video import service
from services.video.enums import ParticipantState
from services.video.events import RoomEvents
from services.video.media import MediaHub, Session
from services.video.models import Participant, Room
from services.video.outbox_events import recording_ready
from services.video.quality import QualityMetrics, sample
from services.video.recording import Recording
from services.video.schemas import RecordingStopped
from services.video.settings import VideoSettings
from services.video.tokens import JoinClaims, JoinTokens

logger = logging.getLogger("telemed.video.live")


@dataclass(frozen=True)
class Unstored:
    """A finished recording the files service has not taken yet."""

    path: Path
    frames: int


@dataclass
class Live:
    settings: VideoSettings
    tokens: JoinTokens
    files: FilesClient
    database: Database
    audit_tables: AuditTables
    metrics: QualityMetrics
    events: RoomEvents = field(default_factory=RoomEvents)
    recordings: dict[uuid.UUID, Recording] = field(default_factory=dict)
    stopped: dict[uuid.UUID, RecordingStopped] = field(default_factory=dict)
    unstored: dict[uuid.UUID, Unstored] = field(default_factory=dict)
    hub: MediaHub = field(init=False)

    def __post_init__(self) -> None:
        self.hub = MediaHub(
            heartbeat_timeout=self.settings.heartbeat_timeout,
            connect_timeout=self.settings.connect_timeout,
            on_vanished=self._vanished,
            forward_encoded=self.settings.forward_encoded,
        )

    def publish(self, room_id: uuid.UUID, event: str, participant: Participant) -> None:
        self.events.publish(
            room_id,
            event,
            participant_id=str(participant.id),
            identity=participant.identity,
            display_name=participant.display_name,
            state=participant.state.value,
        )

    async def join(
        self, uow: UnitOfWork, room: Room, claims: JoinClaims, offer_sdp: str
    ) -> tuple[Participant, str]:
        participant = await service.join(uow, room, claims, self.settings.open_before)
        answer = await self.hub.connect(
            room.id,
            participant.id,
            participant.identity,
            offer_sdp,
            admitted=participant.state is ParticipantState.ADMITTED,
            audio_only=participant.audio_only,
        )
        event = (
            "participant.joined"
            if participant.state is ParticipantState.ADMITTED
            else ("participant.waiting")
        )
        self.publish(room.id, event, participant)
        if room.id in self.recordings and not participant.consented:
            self.stop_soon(room, "a participant without consent joined")
        elif participant.state is ParticipantState.ADMITTED:
            self._hear(room.id, participant.id)
        return participant, answer

    def _hear(self, room_id: uuid.UUID, participant_id: uuid.UUID) -> None:
        """Puts an admitted participant's voice into the room's recording, if one runs."""
        recording = self.recordings.get(room_id)
        session = self.hub.sessions.get(participant_id)
        audio = session.publications.get("audio") if session else None
        if recording is not None and audio is not None:
            recording.hear(participant_id, audio)

    async def move(
        self,
        uow: UnitOfWork,
        room: Room,
        participant: Participant,
        target: ParticipantState,
        by: str,
    ) -> None:
        service.move(uow, room, participant, target, by)
        if room.id in self.recordings:
            self.recordings[room.id].mute(participant.id)
        if target is ParticipantState.ADMITTED:
            self.hub.admit(participant.id)
            self._hear(room.id, participant.id)
            self.publish(room.id, "participant.admitted", participant)
        elif target is ParticipantState.WAITING:
            self.hub.hold(participant.id)
            self.publish(room.id, "participant.returned_to_waiting", participant)
        else:
            await self.hub.disconnect(participant.id)
            self.metrics.forget(str(room.id), str(participant.id))
            name = "removed" if target is ParticipantState.REMOVED else "left"
            self.publish(room.id, f"participant.{name}", participant)

    async def close(self, uow: UnitOfWork, room: Room, bearer: str) -> None:
        rows = await service.participants(uow, room.id)
        service.close_room(uow, room, rows)
        if room.id in self.recordings:
            await self.stop_recording(room, bearer, "the room closed", uow)
        await self.hub.close_room(room.id)
        self.events.publish(room.id, "room.closed")
        self.events.close_room(room.id)

    async def _vanished(self, session: Session, reason: str) -> None:
        """A participant's heartbeat stopped: they left, as far as everyone else can tell."""
        async with standalone_unit_of_work(self.database, self.audit_tables) as uow:
            participant = await uow.session.get(Participant, session.participant_id)
            if participant is None or participant.state not in service.PRESENT:
                return
            participant.state = ParticipantState.LEFT
            service.audit(
                uow, "participant.leave", session.room_id, by=session.identity,
                detail=f"reason={reason}",
            )  # fmt: skip
        self.metrics.forget(str(session.room_id), str(session.participant_id))
        self.publish(session.room_id, "participant.left", participant)

    def start_recording(self, room: Room, publisher_id: uuid.UUID, bearer: str) -> Recording:
        if room.id in self.recordings:
            raise Conflict("The room is already being recorded.")
        session = self.hub.sessions.get(publisher_id)
        video = session.publications.get("video") if session else None
        if video is None:
            raise Conflict("The host is not connected with video; there is nothing to record.")
        directory = self.settings.resolved_recording_dir()
        private_folder(directory)  # the encoder makes its files by the umask; this folder is 0700
        recording = Recording(room.id, publisher_id, directory / f"{uuid.uuid4()}.mp4", bearer)
        recording.start(video)
        self.recordings[room.id] = recording
        for present in self.hub.in_room(room.id):
            if present.admitted:
                self._hear(room.id, present.participant_id)
        self.events.publish(room.id, "recording.started")
        return recording

    def stop_soon(self, room: Room, reason: str) -> None:
        """Stops a recording without waiting (a join must not wait for the upload)."""
        task = asyncio.create_task(self.stop_recording(room, None, reason))
        task.add_done_callback(_log_failure)

    async def stop_recording(
        self, room: Room, bearer: str | None, reason: str, uow: UnitOfWork | None = None
    ) -> RecordingStopped:
        """Finishes the file and stores it through the files service, attached to the case,
        as the person who stops it (or who started it, when it stops on its own). `uow` is
        the request's, when there is one: a second session would wait on the first (SQLite)."""
        recording = self.recordings.pop(room.id, None)
        if recording is None:
            raise NotFound("The room is not being recorded.")
        try:
            frames = await recording.stop()
        except Exception as exc:  # the encoder thread failed: the file is unusable
            logger.exception("recording %s could not be written", room.id)
            recording.path.unlink(missing_ok=True)
            self.events.publish(room.id, "recording.stopped", file_id=None, reason="failed")
            raise ServiceUnavailable(
                "The recording could not be written; nothing was stored."
            ) from exc
        if not frames:  # stopped before its first frame: no file to keep
            recording.path.unlink(missing_ok=True)
            return await self._stopped(room, None, 0, reason, uow)
        self.unstored[room.id] = Unstored(recording.path, frames)
        try:
            return await self.store_recording(room, bearer or recording.bearer, reason, uow)
        except ProblemError as error:
            # The starter's token may have expired by now: the file waits on disk for a
            # manager to store it with theirs (`POST .../recording/store`).
            logger.warning("recording %s kept unstored: %s", room.id, error.detail)
            self.events.publish(room.id, "recording.unstored", reason=reason)
            await self._audit(
                uow, room, "recording.stop", f"unstored: {error.detail}; reason={reason}"
            )
            return RecordingStopped(file_id=None, frames=frames, unstored=True)

    async def store_recording(
        self, room: Room, bearer: str, reason: str, uow: UnitOfWork | None = None
    ) -> RecordingStopped:
        """Uploads the room's finished, not yet stored recording as the bearer's owner."""
        pending = self.unstored.get(room.id)
        if pending is None:
            raise NotFound("The room has no recording waiting to be stored.")
        stored = await self.files.upload(
            pending.path,
            bearer,
            kind="recording",
            name=f"video-{room.id}.mp4",
        )
        del self.unstored[room.id]
        pending.path.unlink(missing_ok=True)
        return await self._stopped(room, stored.id, pending.frames, reason, uow)

    async def _stopped(
        self,
        room: Room,
        file_id: uuid.UUID | None,
        frames: int,
        reason: str,
        uow: UnitOfWork | None,
    ) -> RecordingStopped:
        result = RecordingStopped(file_id=file_id, frames=frames)
        self.stopped[room.id] = result
        async with self._unit_of_work(uow) as work:
            detail = f"file={file_id}; reason={reason}"
            service.audit(work, "recording.stop", room.id, detail=detail)
            if file_id is not None:
                await recording_ready(work, room, file_id)
        self.events.publish(room.id, "recording.stopped", file_id=str(file_id), reason=reason)
        return result

    async def _audit(self, uow: UnitOfWork | None, room: Room, action: str, detail: str) -> None:
        async with self._unit_of_work(uow) as work:
            service.audit(work, action, room.id, detail=detail)

    @contextlib.asynccontextmanager
    async def _unit_of_work(self, uow: UnitOfWork | None) -> AsyncIterator[UnitOfWork]:
        """The request's unit of work when there is one, else one of its own."""
        if uow is not None:
            yield uow
            return
        async with standalone_unit_of_work(self.database, self.audit_tables) as own:
            yield own

    async def sample_quality(self) -> None:
        """Refreshes every session's link quality and publishes it; runs every few seconds."""
        for session in list(self.hub.sessions.values()):
            try:
                await sample(session.pc, session.quality)
            except Exception:  # a connection closing under us; the next round skips it
                logger.debug("stats of %s failed", session.identity, exc_info=True)
                continue
            room, who = str(session.room_id), str(session.participant_id)
            self.metrics.observe(room, who, session.quality)
            self.events.publish(
                session.room_id, "network.quality", participant_id=who,
                quality=session.quality.as_dict(),
            )  # fmt: skip
        self.metrics.peers.set(self.hub.peer_connections)

    async def run_quality(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stats_interval)
            await self.sample_quality()

    async def close_all(self) -> None:
        for recording in list(self.recordings.values()):
            with contextlib.suppress(Exception):
                await recording.stop()
        self.recordings.clear()
        await self.hub.close()
        self.events.close()


def _log_failure(task: "asyncio.Task[RecordingStopped]") -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("stopping a recording failed", exc_info=task.exception())
