"""`/visits`: a specialist's remote appointments of today and the next week, and the rooms of
their cases and consilia (a medic's: the rooms they are invited to), each with who waits now."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.common.db import utcnow
from web.cases.views import Directory
from web.deps import SignedInDep
from web.i18n import zone_of
from web.templating import render_page
from web.video.api import VideoApi
from web.video.deps import VideoApiDep
from web.video.schemas import Appointment, Room
from web.visit_patients import VisitPatient, visit_patient

router = APIRouter(include_in_schema=False)
AHEAD = timedelta(days=8)  # today and the week after it
# Visits that will not be held: their rooms are not offered.
NOT_HELD = {"cancelled", "noshow", "entered_in_error", "fulfilled"}


@dataclass(frozen=True)
class Visit:
    """One line of the list: a booked visit or a room of a case, and who waits in it now."""

    room_id: uuid.UUID
    starts_at: datetime
    kind: str  # a visit type (`remote`, ...) or a room kind (`d2d`, `consilium`)
    title: str  # the patient's name for a booked visit, else the room's title
    today: bool
    waiting: int | None  # None: not the person's to see (not the host), or not asked
    patient: VisitPatient | None = None  # a booked visit's, with their birth date if kept


def start_of_day(now: datetime, zone_name: str | None) -> datetime:
    local = now.astimezone(zone_of(zone_name))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def _waiting(api: VideoApi, token: str, room_id: uuid.UUID) -> int | None:
    view = await api.room_view(token, room_id)
    return view.waiting if view is not None else None


async def visits_of(
    api: VideoApi, token: str, me: uuid.UUID, role: str | None, zone: str | None
) -> list[Visit]:
    """Soonest first: who waits is asked only of today's rooms the person hosts."""
    day = start_of_day(utcnow(), zone)
    tomorrow = day + timedelta(days=1)
    booked: list[Appointment] = []
    if role == "specialist":
        page = await api.appointments(token, me, day, day + AHEAD)
        booked = [a for a in page.items if a.status not in NOT_HELD and a.room_id]
    # Only visits booked before scheduling kept the patient's name are asked of the directory.
    unnamed = [a.patient_id for a in booked if a.patient_name is None]
    patients = await Directory.people(api, token, unnamed)
    rooms: dict[uuid.UUID, Room] = {room.id: room for room in await api.rooms(token)}
    found: list[Visit] = []
    for appointment in booked:
        room_id, today = appointment.room_id, appointment.start < tomorrow
        if room_id is None:
            continue
        room = rooms.pop(room_id, None)
        hosted = room is None or room.host_id == me
        person = patients.get(appointment.patient_id) if appointment.patient_id else None
        patient = visit_patient(
            appointment.patient_name,
            appointment.patient_birth_date,
            person.full_name if person else None,
            appointment.start.astimezone(day.tzinfo).date(),
        )
        title = patient.name if patient else (room.title if room else "")
        waiting = await _waiting(api, token, room_id) if today and hosted else None
        kind = appointment.visit_type
        found.append(Visit(room_id, appointment.start, kind, title, today, waiting, patient))
    for room in rooms.values():
        today = room.starts_at < tomorrow
        waiting = await _waiting(api, token, room.id) if today and room.host_id == me else None
        found.append(Visit(room.id, room.starts_at, room.kind, room.title, today, waiting))
    return sorted(found, key=lambda visit: visit.starts_at)


@router.get("/visits")
async def visits_page(request: Request, signed_in: SignedInDep, api: VideoApiDep) -> Response:
    session = signed_in.session
    assert session.user_id is not None  # a signed-in session's
    found = await visits_of(
        api, signed_in.access_token, session.user_id, session.role, session.timezone
    )
    return render_page(request, "video/visits.html", {"visits": found})
