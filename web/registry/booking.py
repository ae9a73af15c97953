"""Booking the in-person first visit on a week of the specialty's free slots, and moving a visit
to another of its specialist's free slots. Scheduling opens the episode with the first visit."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.db import utcnow
from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.labels import SPECIALTIES
from web.cases.views import Directory
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.i18n import local_time
from web.registry.api import RegistryApi, RegistryApiDep
from web.registry.schemas import Appointment, Patient
from web.registry.slots import parse_slot, slot_days
from web.registry.views import render
from web.registry.week import Week

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Query(max_length=64)]
CENTRES = ("regional_centre",)


@router.get("/patients/{patient_id}/book")
async def booking_page(
    request: Request,
    patient_id: uuid.UUID,
    signed_in: SignedInDep,
    api: RegistryApiDep,
    directory: DirectoryDep,
    specialty: Text = "",
    organization: Text = "",
    week: Text = "",
) -> Response:
    patient = await api.patient(signed_in.access_token, patient_id)
    filters = {"specialty": specialty, "organization": organization}
    return await _booking(request, api, directory, signed_in, patient, filters, week)


async def _booking(
    request: Request,
    api: RegistryApi,
    directory: Directory,
    signed_in: SignedIn,
    patient: Patient,
    filters: dict[str, str],
    week_asked: str,
    *,
    refusal: Refusal | None = None,
) -> Response:
    """The week's free in-person slots of the specialty (at the organisation, if one is
    chosen); `refusal` a booking the API refused, said above the slots."""
    token = signed_in.access_token
    organizations = await directory.organizations(api, token)
    params = {"visit_type": "in_person", "specialty": filters["specialty"]}
    if filters["organization"]:
        params["organization"] = filters["organization"]
    context = await _week(
        request, api, signed_in, params if filters["specialty"] else None, week_asked
    )
    context |= {
        "patient": patient,
        "filters": filters,
        "specialty_options": list(SPECIALTIES.items()),
        "organization_options": sorted(
            ((str(each.id), each.name) for each in organizations.values() if each.kind in CENTRES),
            key=lambda option: option[1],
        ),
        "refusal": refusal,
        "form_key": uuid.uuid4().hex,
    }
    return render(request, "registry/book.html", context, status=refusal.status if refusal else 200)


async def _week(
    request: Request,
    api: RegistryApi,
    signed_in: SignedIn,
    params: dict[str, str] | None,
    week_asked: str,
) -> dict[str, Any]:
    """The week and its free slots (none asked without `params`), or the API's refusal."""
    zone = signed_in.session.timezone
    week = Week.of(week_asked, zone, utcnow())
    context: dict[str, Any] = {
        "week": week,
        "days": [],
        "truncated": False,
        "search": None,
        "week_title": week.title(request.state.language),
    }
    if params is None:
        return context
    asked = params | {"from": week.start.isoformat(), "to": week.end.isoformat(), "tz": week.zone}
    found = await api.availability(signed_in.access_token, asked)
    if isinstance(found, Refusal):
        return context | {"search": found}
    people = await Directory.people(
        api, signed_in.access_token, [slot.practitioner_id for slot in found.slots]
    )
    days = slot_days(found.slots, zone, request.state.language, people)
    return context | {"days": days, "truncated": found.truncated}


@router.post("/patients/{patient_id}/book")
async def book_first_visit(
    request: Request,
    patient_id: uuid.UUID,
    signed_in: SignedInFormDep,
    api: RegistryApiDep,
    directory: DirectoryDep,
) -> Response:
    form = await request.form()
    filters = {name: str(form.get(name) or "")[:64] for name in ("specialty", "organization")}
    chosen = parse_slot(str(form.get("slot") or ""))
    token = signed_in.access_token
    patient = await api.patient(token, patient_id)
    if chosen is None:
        refusal = Refusal(422, "choose_slot")
    else:
        schedule_id, start = chosen
        body = {
            "schedule_id": str(schedule_id),
            "visit_type": "in_person",
            "start": start.isoformat(),
            "patient_id": str(patient_id),
        }
        key = str(form.get("form_key") or "")[:64] or None
        booked = await api.book(token, body, key)
        if not isinstance(booked, Refusal):
            return RedirectResponse(f"/patients/{patient_id}?saved=booked", status_code=303)
        refusal = booked
    week = str(form.get("week") or "")[:10]
    return await _booking(
        request, api, directory, signed_in, patient, filters, week, refusal=refusal
    )


async def _moving(
    request: Request,
    api: RegistryApi,
    signed_in: SignedIn,
    appointment: Appointment,
    week_asked: str,
    *,
    refusal: Refusal | None = None,
    reason: str = "",
) -> Response:
    """The week's free slots of the visit's specialist, for the visit's kind."""
    params = {"visit_type": appointment.visit_type}
    if appointment.practitioner_id:
        params["practitioner"] = str(appointment.practitioner_id)
    else:
        params["schedule"] = str(appointment.schedule_id)
    context = await _week(request, api, signed_in, params, week_asked)
    when = local_time(appointment.start, request.state.language, appointment.local.timezone)
    context |= {
        "appointment": appointment,
        "when": when,
        "refusal": refusal,
        "reason": reason,
        "form_key": uuid.uuid4().hex,
    }
    return render(request, "registry/move.html", context, status=refusal.status if refusal else 200)


@router.get("/bookings/{appointment_id}/reschedule")
async def moving_page(
    request: Request,
    appointment_id: uuid.UUID,
    signed_in: SignedInDep,
    api: RegistryApiDep,
    week: Text = "",
) -> Response:
    appointment = await api.appointment(signed_in.access_token, appointment_id)
    return await _moving(request, api, signed_in, appointment, week)


@router.post("/bookings/{appointment_id}/reschedule")
async def move_visit(
    request: Request, appointment_id: uuid.UUID, signed_in: SignedInFormDep, api: RegistryApiDep
) -> Response:
    form = await request.form()
    token = signed_in.access_token
    appointment = await api.appointment(token, appointment_id)
    reason = str(form.get("reason") or "").strip()[:2000]
    chosen = parse_slot(str(form.get("slot") or ""))
    if chosen is None:
        refusal = Refusal(422, "choose_slot")
    else:
        schedule_id, start = chosen
        body = {"start": start.isoformat(), "schedule_id": str(schedule_id)}
        body |= {"reason": reason} if reason else {}
        key = str(form.get("form_key") or "")[:64] or None
        moved = await api.reschedule(token, appointment_id, body, key)
        if not isinstance(moved, Refusal):
            return RedirectResponse(f"/patients/{moved.patient_id}?saved=moved", status_code=303)
        refusal = moved
    week = str(form.get("week") or "")[:10]
    return await _moving(request, api, signed_in, appointment, week, refusal=refusal, reason=reason)
