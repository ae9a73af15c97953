"""The scheduling and video answers the video screens read, as the public API documents them;
fields the screens do not use are ignored."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AppointmentRoom(Answer):
    state: str
    room_id: uuid.UUID | None = None


class Appointment(Answer):
    id: uuid.UUID
    status: str
    visit_type: str
    patient_id: uuid.UUID | None = None
    # As the directory named the patient at booking; null on older visits.
    patient_name: str | None = None
    patient_birth_date: date | None = None
    start: datetime
    end: datetime
    room: AppointmentRoom | None = None

    @property
    def room_id(self) -> uuid.UUID | None:
        return self.room.room_id if self.room else None


class AppointmentPage(Answer):
    items: list[Appointment]


class Room(Answer):
    id: uuid.UUID
    kind: str
    status: str
    title: str
    host_id: uuid.UUID
    case_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    starts_at: datetime


class Participant(Answer):
    id: uuid.UUID
    display_name: str
    role: str
    state: str
    connected: bool = False


class RoomView(Room):
    participants: list[Participant] = []

    @property
    def waiting(self) -> int:
        """Those in the waiting room now (connected, not yet admitted)."""
        return sum(1 for p in self.participants if p.state == "waiting" and p.connected)


class JoinToken(Answer):
    token: str
    expires_at: datetime
    identity: str
    grants: list[str]
    ice_servers: list[dict[str, object]] = []
