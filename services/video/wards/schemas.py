"""Request and response bodies of the wards domain."""

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.video.ice import IceServer
from services.video.wards.enums import SourceKind

MAX_WATCHERS = 10
Watchers = Annotated[
    list[uuid.UUID],
    Field(
        max_length=MAX_WATCHERS,
        description="Organisations (regional centres) whose doctors may watch the ward, by "
        "agreement with the hospital; the hospital's own staff always may.",
    ),
]
Label = Annotated[str, Field(min_length=1, max_length=40, examples=["Bed 3"])]
PatientRef = Annotated[
    str | None,
    Field(
        max_length=64,
        description="The hospital's reference to the patient in the bed (a case-history "
        "number); null when the bed is empty, and an empty bed shows nothing to viewers.",
        examples=["IB 2026/1142"],
    ),
]
RtspUrl = Annotated[
    str | None,
    Field(
        max_length=500,
        pattern=r"^rtsps?://[^\s]+$",
        description="The IP camera's H.264 stream (`rtsp://user:password@camera/stream`); "
        "never shown back, since it may hold the camera's password.",
        examples=["rtsp://icu:secret@10.12.0.31:554/Streaming/Channels/102"],
    ),
]


class WardCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "ICU, Belovo district hospital",
                    "recording_allowed": True,
                    "watcher_ids": ["3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10"],
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=200, examples=["ICU, Belovo district hospital"])
    recording_allowed: bool = Field(
        default=False,
        description="Whether the ward's video may be recorded; each patient must consent too.",
    )
    watcher_ids: Watchers = []


class WardChange(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recording_allowed": False,
                    "watcher_ids": [
                        "3f1c2a9e-8d4b-4c7e-9a51-0b6f2d7e4c10",
                        "8a6e0804-2bd0-4672-b79d-d97027f9071a",
                    ],
                }
            ]
        }
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    recording_allowed: bool | None = None
    watcher_ids: Watchers | None = None


class SourceFields(BaseModel):
    source: SourceKind | None = None
    rtsp_url: RtspUrl = None

    @model_validator(mode="after")
    def _camera_has_a_stream(self) -> Self:
        if self.source is SourceKind.RTSP and not self.rtsp_url:
            raise ValueError("an RTSP camera needs its rtsp_url")
        if self.rtsp_url and self.source is SourceKind.TABLET:
            raise ValueError("a tablet bed takes no rtsp_url")
        return self


class BedCreate(SourceFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "Bed 3",
                    "patient_ref": "IB 2026/1142",
                    "recording_consent": True,
                    "source": "rtsp",
                    "rtsp_url": "rtsp://icu:secret@10.12.0.31:554/Streaming/Channels/102",
                }
            ]
        }
    )

    label: Label
    patient_ref: PatientRef = None
    recording_consent: bool = Field(
        default=False, description="The patient's (or representative's) consent to recording."
    )


class BedChange(SourceFields):
    """Only the fields given change; `patient_ref: null` empties the bed (and withdraws the
    consent to recording, which belonged to the patient)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"patient_ref": "IB 2026/1187", "recording_consent": False}]
        }
    )

    label: Label | None = None
    patient_ref: PatientRef = None
    recording_consent: bool | None = None


class BedLive(BaseModel):
    """The bed's picture as this moment's video process sees it."""

    online: bool = Field(description="Frames arrived within the alarm threshold.")
    seconds_since_frame: float | None = Field(
        description="Since the last frame; null when none arrived since the service started."
    )
    alarm_since: datetime | None = Field(description="When the open alarm was raised, if any.")
    recording: bool = Field(default=False, description="Whether the bed is being recorded.")


class BedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ward_id: uuid.UUID
    label: str
    patient_ref: str | None
    occupied: bool
    recording_consent: bool
    source: SourceKind
    rtsp_configured: bool
    device_issued_at: datetime | None
    live: BedLive | None = None


class WardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    recording_allowed: bool
    watcher_ids: list[uuid.UUID]
    beds: list[BedOut]
    may_manage: bool = Field(description="Whether the caller manages the ward (its coordinator).")


class DeviceCredentialOut(BaseModel):
    """Shown once: the bedside tablet keeps it; issuing another revokes this one."""

    credential: str
    bedside_url: str = Field(
        description="Opened once on the tablet: the page keeps the credential and publishes "
        "the camera from then on, reconnecting by itself."
    )
    issued_at: datetime


class WatchTokenOut(BaseModel):
    token: str = Field(description="Bearer for the ward's overview calls (viewers, events).")
    expires_at: datetime
    ice_servers: list[IceServer]


class AlarmOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ward_id: uuid.UUID
    bed_id: uuid.UUID
    raised_at: datetime
    last_frame_at: datetime | None
    cleared_at: datetime | None


class Tile(BaseModel):
    """Which bed one of the viewer's receive slots (`mid`) shows."""

    mid: str
    bed_id: uuid.UUID


class ViewerOut(BaseModel):
    viewer_id: uuid.UUID
    tiles: list[Tile] = Field(description="The grid: keyframes only, a picture a second or so.")
    focus_bed_id: uuid.UUID | None = Field(description="The bed opened full-size, if any.")
    focus_mid: str | None = Field(description="The slot showing it at the full frame rate.")
    talking: bool = Field(description="Whether the viewer's voice goes to the focused bed.")


class FocusIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"bed_id": "b7d1e5a2-3c4f-4e8b-9a60-1f2d3c4b5a69"}]}
    )

    bed_id: uuid.UUID | None = Field(description="The bed to open full-size; null closes it.")


class TalkIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"talking": True}]})

    talking: bool = Field(description="Speak to the focused bed's tablet, or stop.")
