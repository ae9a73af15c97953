"""The scheduling and consult answers the patient's screens read, as the public API documents
them; fields the screens do not use are ignored."""

import uuid
from datetime import datetime

from pydantic import Field

from web.cases.schemas import Answer, Case


class LocalSpan(Answer):
    start: datetime
    end: datetime
    timezone: str


class VisitRoom(Answer):
    """A video visit's room; the join times only for a visit the patient joins."""

    join_opens_at: datetime | None = None
    join_closes_at: datetime | None = None


class Appointment(Answer):
    id: uuid.UUID
    status: str
    visit_type: str
    organization_id: uuid.UUID
    specialty: str | None
    start: datetime
    end: datetime
    patient_local: LocalSpan
    room: VisitRoom | None = None

    @property
    def join_window(self) -> tuple[datetime, datetime] | None:
        """From when until when scheduling issues the patient's join link, as it states."""
        room = self.room
        if room is None or room.join_opens_at is None or room.join_closes_at is None:
            return None
        return room.join_opens_at, room.join_closes_at


class AppointmentPage(Answer):
    items: list[Appointment]
    next_cursor: str | None = None


class JoinLink(Answer):
    join_url: str


class WorseningSigns(Answer):
    signs: list[str] = Field(default_factory=list)


class PatientRequest(Case):
    """A patient's own request, read in full, with what answered it."""

    worsening_signs: list[str] = Field(default_factory=list)
    follow_up_appointment_id: uuid.UUID | None = None
