"""The video event webhooks announce, recorded in the outbox: a recording stored in the files
service, where subscribers fetch it (with `files:read`) by `data.file_id`."""

import uuid

from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.video.models import OUTBOX, Room


async def recording_ready(uow: UnitOfWork, room: Room, file_id: uuid.UUID) -> None:
    """For the room's organisation, the only one the video service knows."""
    data = {
        "file_id": file_id,
        "room_kind": room.kind.value,
        "case_id": room.case_id,
        "appointment_id": room.appointment_id,
    }
    await OUTBOX.record(
        uow, EventType.RECORDING_READY, ("room", room.id), [room.organization_id], data
    )
