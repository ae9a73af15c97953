"""Request and response bodies of the video service."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, computed_field

from services.common.times import AwareInstant
from services.video.enums import (
    CAPACITY,
    Grant,
    ParticipantRole,
    ParticipantState,
    RoomKind,
    RoomStatus,
)
from services.video.ice import IceServer

# The host's guests: a room's capacity is eight at most, the host included.
MAX_INVITEES = 7
Invitees = Annotated[
    list[uuid.UUID],
    Field(
        max_length=MAX_INVITEES,
        description="Specialists and district medics of the host's region whom the host invites "
        "(a case's requesting medic, a consilium's members): they see the room and take their "
        "own join tokens, and wait in the waiting room until admitted.",
    ),
]


class RoomCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "d2d",
                    "title": "Cardiology: Petrov I. S., I21.4, transfer for PCI",
                    "starts_at": "2026-03-16T10:00:00+07:00",
                    "host_id": "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b",
                    "case_id": "5d2b8c41-7e3a-4f09-b6d2-1a9c3e7f5b20",
                    "invitee_ids": ["e3b0c442-98fc-4c14-9afb-f4c8996fb924"],
                }
            ]
        }
    )

    kind: RoomKind
    title: str = Field(min_length=1, max_length=200, examples=["Follow-up after cardiology visit"])
    starts_at: AwareInstant = Field(description="When the appointment begins (aware, any zone).")
    host_id: uuid.UUID | None = Field(
        default=None, description="The specialist who hosts; the caller when left out."
    )
    case_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = Field(
        default=None,
        description="Whose room it is: the caller's organisation when left out; only a room "
        "scheduler names another (the host's).",
    )
    patient_id: uuid.UUID | None = Field(
        default=None,
        description="The patient booked into the room, who may take their own join token; "
        "named by those who may issue the patient's link.",
    )
    invitee_ids: Invitees = []


class InviteesIn(BaseModel):
    """Who is invited from now on: the list replaces the room's invitees."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "invitee_ids": [
                        "e3b0c442-98fc-4c14-9afb-f4c8996fb924",
                        "0f8fad5b-d9cb-469f-a165-70867728950e",
                    ]
                }
            ]
        }
    )

    invitee_ids: Invitees


class QualityOut(BaseModel):
    """The server's view of one participant's link, from aiortc's `getStats`."""

    round_trip_ms: float | None = None
    packets_lost: int = 0
    jitter_ms: float | None = None
    inbound_kbps: float = 0.0
    outbound_kbps: float = 0.0


class ParticipantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    identity: str
    display_name: str
    role: ParticipantRole
    state: ParticipantState
    consented: bool
    audio_only: bool
    updated_at: datetime = Field(
        description="When the participant last joined or changed state or consent: for one "
        "who waits, since when.",
    )
    connected: bool = False
    quality: QualityOut | None = None


class RecordingOut(BaseModel):
    active: bool
    started_at: datetime | None = None
    file_id: uuid.UUID | None = None
    unstored: bool = Field(
        default=False,
        description="A finished recording waits for a manager to store it "
        "(`POST .../recording/store`).",
    )


class RoomOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: RoomKind
    status: RoomStatus
    title: str
    organization_id: uuid.UUID
    host_id: uuid.UUID
    case_id: uuid.UUID | None
    appointment_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    invitee_ids: list[uuid.UUID]
    starts_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def capacity(self) -> int:
        return CAPACITY[self.kind]


class Feed(BaseModel):
    """Whose video one of the caller's receive slots carries, by the slot's SDP `mid`."""

    mid: str
    participant_id: uuid.UUID


class RoomView(RoomOut):
    """A room as its participants see it: who is there, link quality, recording, ICE servers."""

    participants: list[ParticipantOut] = []
    recording: RecordingOut
    ice_servers: list[IceServer] = []
    feeds: list[Feed] = Field(
        default=[],
        description="For a join-token caller in the call: which participant's video each of "
        "their receive slots shows, so a client labels its tiles.",
    )


class TokenRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identity": "interpreter:1",
                    "display_name": "Interpreter (Shor language)",
                    "role": "guest",
                    "grants": ["publish", "subscribe"],
                }
            ]
        }
    )

    identity: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[A-Za-z0-9:._-]+$",
        description="Whom the token admits; the caller's own user id when left out.",
    )
    display_name: str | None = Field(default=None, max_length=200)
    role: ParticipantRole = ParticipantRole.SPECIALIST
    grants: list[Grant] | None = Field(
        default=None, description="Defaults by role: the host gets every grant."
    )


class PatientLinkRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "patient_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
                    "display_name": "Petrov Ivan Sergeevich",
                }
            ]
        }
    )

    patient_id: uuid.UUID
    display_name: str = Field(min_length=1, max_length=200)


class JoinTokenOut(BaseModel):
    token: str
    expires_at: datetime
    room_id: uuid.UUID
    identity: str
    grants: list[Grant]
    join_url: str
    ice_servers: list[IceServer]


class ConsentIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"consented": True}]})

    consented: bool


class AudioOnlyIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"audio_only": True}]})

    audio_only: bool


class RecordingStopped(BaseModel):
    file_id: uuid.UUID | None
    frames: int
    unstored: bool = Field(
        default=False,
        description="The files service refused the upload (the token it was made with may have "
        "expired): the file waits for `POST .../recording/store`.",
    )
