"""Persistence of the wards domain: wards, the organisations that watch them, beds, alarms."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import IdMixin, TimestampMixin, UTCDateTime, string_enum
from services.video.models import Base
from services.video.wards.enums import SourceKind


class Ward(IdMixin, TimestampMixin, Base):
    """An intensive-care ward of a hospital, managed by that hospital's coordinators."""

    __tablename__ = "wards"

    # Indexed for the wards of an organisation (its own list and the monitoring job's roster).
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Whether the ward's video may be recorded at all; each bed's patient must consent too.
    recording_allowed: Mapped[bool] = mapped_column(default=False)
    # Loaded with the ward: who may see it depends on them, and every answer lists the beds.
    watchers: Mapped[list["WardWatcher"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )
    beds: Mapped[list["Bed"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True, order_by="Bed.label"
    )

    @property
    def watcher_ids(self) -> list[uuid.UUID]:
        return sorted(watcher.organization_id for watcher in self.watchers)


class WardWatcher(Base):
    """An agreement: this organisation's (a regional centre's) doctors may watch the ward."""

    __tablename__ = "ward_watchers"

    ward_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wards.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed for the wards an organisation watches (`GET /api/video/wards`).
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)


class Bed(IdMixin, TimestampMixin, Base):
    __tablename__ = "beds"
    __table_args__ = (UniqueConstraint("ward_id", "label"),)

    ward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(40))
    # The hospital's own reference to the patient in the bed (a case-history number): ICU
    # patients are rarely people of the portal. None: the bed is empty and shows nothing.
    patient_ref: Mapped[str | None] = mapped_column(String(64))
    patient_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The patient's (or their representative's) consent to recording; reset with the patient.
    recording_consent: Mapped[bool] = mapped_column(default=False)
    source: Mapped[SourceKind] = mapped_column(string_enum(SourceKind), default=SourceKind.TABLET)
    # An IP camera's stream; it may carry the camera's credentials, so answers never show it.
    rtsp_url: Mapped[str | None] = mapped_column(String(500))
    # SHA-256 of the bedside tablet's device credential, which is shown once when issued.
    device_secret_hash: Mapped[str | None] = mapped_column(String(64))
    device_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BedAlarm(IdMixin, Base):
    """A bed whose picture stopped: raised after the configured silence, cleared when frames
    return."""

    __tablename__ = "bed_alarms"
    # The open alarms of a ward (the overview and the monitoring job ask for them).
    __table_args__ = (Index("ix_bed_alarms_ward_id_cleared_at", "ward_id", "cleared_at"),)

    ward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"))
    bed_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beds.id", ondelete="CASCADE"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The last frame seen before the silence; None when the source never sent one.
    last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
