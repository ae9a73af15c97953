"""The wards' events webhooks announce, recorded in the outbox: a bed's alarm raised and
cleared, for the hospital and every organisation that watches the ward."""

from datetime import datetime

from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.video.models import OUTBOX
from services.video.wards.live import BedEntry, WardEntry
from services.video.wards.models import BedAlarm


async def alarm_changed(
    uow: UnitOfWork, ward: WardEntry, bed: BedEntry, alarm: BedAlarm, *, cleared: bool
) -> None:
    data: dict[str, str | datetime | None] = {
        "ward_id": str(ward.id),
        "bed_label": bed.label,
        "alarm_id": str(alarm.id),
        "raised_at": alarm.raised_at,
        "last_frame_at": alarm.last_frame_at,
        "cleared_at": alarm.cleared_at,
    }
    kind = EventType.WARD_ALARM_CLEARED if cleared else EventType.WARD_ALARM_RAISED
    await OUTBOX.record(uow, kind, ("bed", bed.id), [ward.organization_id, *ward.watcher_ids], data)
