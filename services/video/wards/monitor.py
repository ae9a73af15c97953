"""The monitoring job of the wards this instance owns: it rereads wards and beds, keeps their
IP cameras' streams running, asks the cameras behind grid tiles for a keyframe every grid
interval, tells the overviews each bed's state, and raises and clears the alarm of a bed
whose picture stopped.

An alarm is raised once an occupied bed with a source has sent no frame for
`ward_alarm_after` seconds (counted from when this process began expecting one, if it never
did), and cleared when frames return or the bed stops being monitored. Raising and clearing
each go on the audit trail, into the outbox for webhooks, and to the overviews at once.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select

from services.common.audit import AuditTables
from services.common.db import Database, utcnow
from services.common.uow import standalone_unit_of_work
from services.video.wards import service
from services.video.wards.enums import SourceKind
from services.video.wards.events import alarm_changed
from services.video.wards.live import BedEntry, Picture, WardEntry, WardsLive
from services.video.wards.models import BedAlarm, Ward
from services.video.wards.recordings import BedRecordings

logger = logging.getLogger("telemed.video.wards.monitor")
# An IP camera's stream: started for a bed, stopped when the bed no longer needs it.
CameraFactory = Callable[[str], "Camera"]


class Camera(Picture, Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class OpenAlarm:
    id: uuid.UUID
    raised_at: datetime


@dataclass
class Monitor:
    live: WardsLive
    database: Database
    audit_tables: AuditTables
    camera: CameraFactory
    recordings: BedRecordings
    alarms: dict[uuid.UUID, OpenAlarm] = field(default_factory=dict)  # by bed id
    cameras: dict[uuid.UUID, tuple[str, Camera]] = field(default_factory=dict)  # by bed id
    expected_since: dict[uuid.UUID, float] = field(default_factory=dict)  # monotonic, by bed
    _next_roster: float = 0.0
    _next_keyframes: float = 0.0

    @property
    def tick(self) -> float:
        return min(0.5, self.live.settings.ward_alarm_after / 4)

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except Exception:  # a database hiccup must not end the monitoring for good
                logger.exception("ward monitoring step failed")
            await asyncio.sleep(self.tick)

    async def step(self) -> None:
        now = time.monotonic()
        settings = self.live.settings
        if now >= self._next_roster:
            self._next_roster = now + settings.ward_roster_seconds
            await self.refresh()
        if now >= self._next_keyframes:
            self._next_keyframes = now + settings.ward_grid_interval
            for picture in self.live.wants_keyframes():
                picture.request_keyframe()
        await self.check_alarms(now)
        self.publish_state(now)

    async def refresh(self, ward_id: uuid.UUID | None = None) -> None:
        """Rereads the owned wards (or one, after a change through the API)."""
        async with self.database.sessionmaker() as session:
            query = select(Ward) if ward_id is None else select(Ward).where(Ward.id == ward_id)
            wards = [WardEntry.of(w) for w in (await session.scalars(query)).all()]
            first = ward_id is None and not self.live.rosters
            if first:  # alarms left open by an earlier run stay open until frames return
                still_open = select(BedAlarm).where(BedAlarm.cleared_at.is_(None))
                for row in await session.scalars(still_open):
                    self.alarms[row.bed_id] = OpenAlarm(row.id, row.raised_at)
        owned = {w.id: w for w in wards if self.live.settings.owns(str(w.id))}
        if ward_id is None:
            gone = set(self.live.rosters) - set(owned)
        else:
            gone = set() if ward_id in owned else {ward_id}
        for lost in gone:
            self.live.rosters.pop(lost, None)
            self.live.relink(lost)
        for ward in owned.values():
            changed = self.live.rosters.get(ward.id) != ward
            self.live.rosters[ward.id] = ward
            if changed:
                self.live.relink(ward.id)
                self.live.events.publish(ward.id, "ward.roster")
        for ward_id in gone | {w for w in owned if w in self.live.rosters}:
            await self._end_lapsed(ward_id)
        await self._run_cameras()
        for bed_id in await self.recordings.enforce():
            async with standalone_unit_of_work(self.database, self.audit_tables) as uow:
                service.audit(
                    uow, "bed.recording.stop", service.BED, bed_id,
                    detail="reason=no longer allowed (ward or patient's consent)",
                )  # fmt: skip

    async def _end_lapsed(self, ward_id: uuid.UUID) -> None:
        lapsed = await self.live.end_lapsed_viewings(ward_id)
        if not lapsed:
            return
        async with standalone_unit_of_work(self.database, self.audit_tables) as uow:
            for viewer in lapsed:
                service.audit(
                    uow, "ward.unwatch", service.RESOURCE, ward_id, by=viewer.identity,
                    detail=f"viewer={viewer.id}; reason=no longer watches the ward",
                )  # fmt: skip

    def _monitored(self) -> dict[uuid.UUID, tuple[WardEntry, BedEntry]]:
        return {
            bed.id: (ward, bed)
            for ward in self.live.rosters.values()
            for bed in ward.beds
            if bed.monitored
        }

    async def _run_cameras(self) -> None:
        wanted = {
            bed.id: (bed, str(bed.rtsp_url))
            for _, bed in self._monitored().values()
            if bed.source is SourceKind.RTSP
        }
        for bed_id, (url, camera) in list(self.cameras.items()):
            if wanted.get(bed_id, (None, None))[1] != url:
                del self.cameras[bed_id]
                await camera.stop()
                ward_id = next((w.id for w in self.live.rosters.values() if w.bed(bed_id)), None)
                if ward_id is not None:
                    self.live.detach_picture(bed_id, ward_id)
                else:
                    self.live.pictures.pop(bed_id, None)
        for bed_id, (bed, url) in wanted.items():
            if bed_id not in self.cameras:
                camera = self.camera(url)
                self.cameras[bed_id] = (url, camera)
                await camera.start()
                self.live.attach_picture(bed, camera)

    def silence(self, bed_id: uuid.UUID, now: float) -> float:
        """Seconds since the bed's last frame, or since this process began expecting one."""
        expected = self.expected_since.setdefault(bed_id, now)
        # A source dropped for silence takes its picture along, but not its last frame's time
        # (`WardsLive.last_frame_at` keeps it), so the alarm counts from that frame.
        last = self.live.last_frame_at(bed_id)
        return now - max(expected, last) if last is not None else now - expected

    async def check_alarms(self, now: float) -> None:
        monitored = self._monitored()
        for bed_id in set(self.expected_since) - set(monitored):
            del self.expected_since[bed_id]
        after = self.live.settings.ward_alarm_after
        for bed_id, (ward, bed) in monitored.items():
            quiet = self.silence(bed_id, now)
            if quiet > after and bed_id not in self.alarms:
                await self._raise(ward, bed, quiet)
            elif quiet < min(2.0, after) and bed_id in self.alarms:
                await self._clear(ward, bed, "frames returned")
        for bed_id in [b for b in self.alarms if b not in monitored]:
            found = next(
                ((w, b) for w in self.live.rosters.values() for b in w.beds if b.id == bed_id),
                None,
            )
            if found is not None:
                await self._clear(*found, "no longer monitored")

    async def _raise(self, ward: WardEntry, bed: BedEntry, quiet: float) -> None:
        last = self.live.last_frame_at(bed.id)
        now = utcnow()
        last_frame_at = now - timedelta(seconds=time.monotonic() - last) if last else None
        async with standalone_unit_of_work(self.database, self.audit_tables) as uow:
            alarm = BedAlarm(ward_id=ward.id, bed_id=bed.id, raised_at=now,
                             last_frame_at=last_frame_at)  # fmt: skip
            uow.session.add(alarm)
            await uow.session.flush()
            service.audit(
                uow, "bed.alarm.raise", service.BED, bed.id,
                detail=f"ward={ward.id}; silent={quiet:.1f}s",
            )  # fmt: skip
            await alarm_changed(uow, ward, bed, alarm, cleared=False)
        self.alarms[bed.id] = OpenAlarm(alarm.id, now)
        logger.warning("bed %s of ward %s: no picture for %.1f s", bed.label, ward.id, quiet)
        self.live.events.publish(
            ward.id, "bed.alarm", bed_id=str(bed.id), label=bed.label,
            raised_at=now.isoformat(), last_frame_at=last_frame_at,
        )  # fmt: skip

    async def _clear(self, ward: WardEntry, bed: BedEntry, reason: str) -> None:
        open_alarm = self.alarms.pop(bed.id)
        async with standalone_unit_of_work(self.database, self.audit_tables) as uow:
            alarm = await uow.session.get(BedAlarm, open_alarm.id)
            if alarm is None or alarm.cleared_at is not None:
                return
            alarm.cleared_at = utcnow()
            service.audit(
                uow, "bed.alarm.clear", service.BED, bed.id,
                detail=f"ward={ward.id}; reason={reason}",
            )  # fmt: skip
            await alarm_changed(uow, ward, bed, alarm, cleared=True)
        self.live.events.publish(
            ward.id, "bed.alarm_cleared", bed_id=str(bed.id), label=bed.label, reason=reason
        )

    def state(self, ward: WardEntry, now: float) -> list[dict[str, object]]:
        """Each bed as the overview shows it."""
        after = self.live.settings.ward_alarm_after
        beds: list[dict[str, object]] = []
        for bed in ward.beds:
            last = self.live.last_frame_at(bed.id)
            seconds = round(now - last, 1) if last is not None else None
            alarm = self.alarms.get(bed.id)
            beds.append({
                "bed_id": str(bed.id),
                "occupied": bed.occupied,
                "online": seconds is not None and seconds <= after,
                "seconds_since_frame": seconds,
                "alarm_since": alarm.raised_at.isoformat() if alarm else None,
                "recording": bed.id in self.recordings.active,
            })  # fmt: skip
        return beds

    def publish_state(self, now: float) -> None:
        for ward in self.live.rosters.values():
            if self.live.events.listeners(ward.id):
                self.live.events.publish(ward.id, "ward.state", beds=self.state(ward, now))

    async def close(self) -> None:
        await self.recordings.close()
        for _, camera in self.cameras.values():
            with contextlib.suppress(Exception):
                await camera.stop()
        self.cameras.clear()
