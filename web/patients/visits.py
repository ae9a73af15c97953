"""The patient's home: their visits to come, with the way into a video visit while it is open,
and their last visits. Joining asks scheduling for a new link when the patient presses the
button and sends the browser there: the link's token is made then, lives minutes, and is never
written into a page of the console."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.common.db import utcnow
from web.cases.schemas import Organization
from web.cases.views import Directory
from web.deps import SignedIn, SignedInFormDep
from web.i18n import local_time
from web.patients.api import NotYet, PatientApi, PatientApiDep
from web.patients.labels import COMING, PATIENT_LABELS
from web.patients.schemas import Appointment
from web.templating import render_page

router = APIRouter(include_in_schema=False)
# A visit that began this long ago may still be going on (the longest a schedule offers).
LONGEST_VISIT = timedelta(hours=8)
UPCOMING_SHOWN = 20
PAST_DAYS = 365
PAST_SHOWN = 5
# Scheduling's statuses in which the patient may still join a video visit (`rooms.py`).
JOINABLE = frozenset({"booked", "checked_in", "arrived"})


@dataclass(frozen=True)
class Visit:
    """A visit as the home page lists it, times in the patient's zone with the zone named."""

    appointment: Appointment
    starts: str
    place: str
    join: str  # "open", "later" (`opens` says when), or "" when there is nothing to join
    opens: str = ""


def join_state(appointment: Appointment, now: datetime) -> str:
    """Scheduling's window, as the appointment states it: a remote visit's link is issued
    inside its room's join window while it is booked, checked in or under way."""
    window = appointment.join_window
    if window is None or appointment.status not in JOINABLE:
        return ""
    opens_at, closes_at = window
    if now >= closes_at:
        return ""
    return "open" if now >= opens_at else "later"


def visit_of(
    appointment: Appointment,
    now: datetime,
    language: str,
    organizations: dict[uuid.UUID, Organization],
) -> Visit:
    zone = appointment.patient_local.timezone
    organization = organizations.get(appointment.organization_id)
    join = join_state(appointment, now)
    window = appointment.join_window
    opens = local_time(window[0], language, zone) if join and window else ""
    return Visit(
        appointment=appointment,
        starts=local_time(appointment.start, language, zone),
        place=organization.name if organization else "",
        join=join,
        opens=opens,
    )


async def home_page(
    request: Request,
    signed_in: SignedIn,
    api: PatientApi,
    *,
    refused: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The visits to come (earliest first) and the last ones (latest first)."""
    token, now = signed_in.access_token, utcnow()
    language: str = request.state.language
    coming = await api.appointments(
        token, starts_from=now - LONGEST_VISIT, statuses=COMING, limit=UPCOMING_SHOWN
    )
    coming = [appointment for appointment in coming if appointment.end > now]
    held = await api.appointments(
        token, starts_from=now - timedelta(days=PAST_DAYS), starts_before=now, limit=200
    )
    past = [item for item in held if item.end <= now or item.status not in COMING]
    directory: Directory = request.app.state.directory_names
    organizations = await directory.organizations(api, token)
    context = {
        **PATIENT_LABELS,
        "upcoming": [visit_of(item, now, language, organizations) for item in coming],
        "past": [
            visit_of(item, now, language, organizations) for item in reversed(past[-PAST_SHOWN:])
        ],
        "refused": refused,
    }
    return render_page(request, "patients/home.html", context, status=status)


@router.post("/appointments/{appointment_id}/join")
async def join(
    request: Request,
    appointment_id: uuid.UUID,
    signed_in: SignedInFormDep,
    api: PatientApiDep,
) -> Response:
    """To the video service's join page (its URL carries the join token by design); a visit
    not open yet, or over, is said on the home page; another patient's visit is a 404."""
    link = await api.join_link(signed_in.access_token, appointment_id)
    if not isinstance(link, NotYet):
        return RedirectResponse(link.join_url, status_code=303)
    language: str = request.state.language
    zone = signed_in.session.timezone
    refused = {
        "appointment_id": appointment_id,
        "status": link.status,
        "opens": local_time(link.opens_at, language, zone) if link.opens_at else "",
    }
    return await home_page(request, signed_in, api, refused=refused, status=link.status)
