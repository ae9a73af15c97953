"""The video service's ward answers as the ward screens read them (`/api/video/wards`);
fields the screens do not use are ignored."""

import uuid
from datetime import datetime

from web.cases.schemas import Answer


class BedLive(Answer):
    online: bool
    seconds_since_frame: float | None = None
    alarm_since: datetime | None = None
    recording: bool = False


class Bed(Answer):
    id: uuid.UUID
    label: str
    patient_ref: str | None
    occupied: bool
    recording_consent: bool
    source: str
    rtsp_configured: bool
    device_issued_at: datetime | None
    live: BedLive | None = None


class Ward(Answer):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    recording_allowed: bool
    watcher_ids: list[uuid.UUID]
    beds: list[Bed]
    may_manage: bool

    @property
    def occupied(self) -> int:
        return sum(1 for bed in self.beds if bed.occupied)


class DeviceCredential(Answer):
    """Shown once: the tablet keeps it, the service only its hash."""

    credential: str
    bedside_url: str
    issued_at: datetime


class WatchToken(Answer):
    token: str
    expires_at: datetime
    ice_servers: list[dict[str, object]] = []


class RecordingStarted(Answer):
    started_at: datetime | None = None


class RecordingStopped(Answer):
    """`file_id`: the recording, stored in the files service as the caller's file; None when
    no frame was recorded."""

    file_id: uuid.UUID | None
    frames: int


class Alarm(Answer):
    id: uuid.UUID
    bed_id: uuid.UUID
    raised_at: datetime
    last_frame_at: datetime | None
    cleared_at: datetime | None
