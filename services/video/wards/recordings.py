"""Recording an ICU bed's picture: only while the ward allows it and the bed's patient has
consented, stopped at once when either ends; the file is stored in the files service as the
doctor who started it (who attaches it to a case like any other file)."""

import contextlib
import logging
import uuid
from dataclasses import dataclass, field

from services.common.errors import Conflict, NotFound
from services.common.owner_only import private_folder
from services.files.client import FilesClient
from services.video.recording import Recording
from services.video.schemas import RecordingStopped
from services.video.settings import VideoSettings
from services.video.wards.live import WardsLive

logger = logging.getLogger("telemed.video.wards.recordings")


@dataclass
class BedRecordings:
    wards: WardsLive
    files: FilesClient
    settings: VideoSettings
    active: dict[uuid.UUID, Recording] = field(default_factory=dict)  # by bed id

    def start(self, ward_id: uuid.UUID, bed_id: uuid.UUID, bearer: str) -> Recording:
        ward = self.wards.rosters.get(ward_id)
        bed = ward.bed(bed_id) if ward is not None else None
        if ward is None or bed is None:
            raise NotFound("No such bed in this ward.")
        if (refusal := ward.may_record(bed)) is not None:
            raise Conflict(refusal)
        if bed_id in self.active:
            raise Conflict("The bed is already being recorded.")
        picture = self.wards.pictures.get(bed_id)
        if picture is None or picture.last_frame_at is None:
            raise Conflict("The bed has no picture to record.")
        directory = self.settings.resolved_recording_dir()
        private_folder(directory)
        recording = Recording(ward_id, bed_id, directory / f"{uuid.uuid4()}.mp4", bearer)
        recording.start(picture)
        self.active[bed_id] = recording
        return recording

    async def stop(self, bed_id: uuid.UUID, bearer: str | None = None) -> RecordingStopped:
        """Finishes the file and stores it as `bearer` (the starter when None); a file the
        files service does not take is deleted, since it may not stay outside the record."""
        recording = self.active.pop(bed_id, None)
        if recording is None:
            raise NotFound("The bed is not being recorded.")
        try:
            frames = await recording.stop()
            if not frames:
                return RecordingStopped(file_id=None, frames=0)
            stored = await self.files.upload(
                recording.path, bearer or recording.bearer, kind="recording",
                name=f"icu-bed-{bed_id}.mp4",
            )  # fmt: skip
            return RecordingStopped(file_id=stored.id, frames=frames)
        finally:
            recording.path.unlink(missing_ok=True)

    async def enforce(self) -> list[uuid.UUID]:
        """Stops every recording the ward or the patient no longer allows; answers their beds."""
        stopped = []
        for bed_id in list(self.active):
            ward = next((w for w in self.wards.rosters.values() if w.bed(bed_id)), None)
            bed = ward.bed(bed_id) if ward is not None else None
            if ward is None or bed is None or ward.may_record(bed) is not None:
                try:
                    await self.stop(bed_id)
                except Exception:  # the file is gone either way; the audit says it stopped
                    logger.exception("the recording of bed %s could not be stored", bed_id)
                stopped.append(bed_id)
        return stopped

    async def close(self) -> None:
        for recording in self.active.values():
            with contextlib.suppress(Exception):
                await recording.stop()
            recording.path.unlink(missing_ok=True)
        self.active.clear()
