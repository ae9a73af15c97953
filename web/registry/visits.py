"""The steps taken on a visit from the patient's page (check in, cancel with a reason, send the
invitation again) and the remote follow-ups booked as a series. Each is a plain form: posted,
then back to the patient's page; a refusal is said beside the step's form."""

import uuid
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.forms import FormState, form_values, refused
from web.deps import SignedInFormDep
from web.registry.api import RegistryApiDep
from web.registry.patients import show_patient

router = APIRouter(include_in_schema=False)
# The console's path of each step, and the API's.
STEPS = {"check-in": "check-in", "cancel": "cancel"}
SERIES_FIELDS = ("first_date", "first_time", "every_days", "count")


def _no_field(_location: tuple[str | int, ...]) -> str | None:
    return None


def _step_route(step: str, action: str) -> None:
    async def endpoint(
        request: Request,
        appointment_id: uuid.UUID,
        signed_in: SignedInFormDep,
        api: RegistryApiDep,
        directory: DirectoryDep,
    ) -> Response:
        form = await request.form()
        values = form_values(form, ("reason",))
        token = signed_in.access_token
        body = {"reason": values["reason"]} if step == "cancel" and values["reason"] else None
        result = await api.step(token, appointment_id, action, body)
        if not isinstance(result, Refusal):
            return RedirectResponse(f"/patients/{result.patient_id}?saved={step}", status_code=303)
        appointment = await api.appointment(token, appointment_id)
        assert appointment.patient_id is not None  # the registry's visits are patients'
        forms = {f"{step}-{appointment_id}": refused(result, values, _no_field)}
        return await show_patient(
            request,
            api,
            directory,
            signed_in,
            appointment.patient_id,
            forms=forms,
            status=result.status,
        )

    router.add_api_route(f"/bookings/{{appointment_id}}/{step}", endpoint, methods=["POST"])


for _step, _action in STEPS.items():
    _step_route(_step, _action)


@router.post("/bookings/{appointment_id}/resend")
async def resend_invitation(
    request: Request,
    appointment_id: uuid.UUID,
    signed_in: SignedInFormDep,
    api: RegistryApiDep,
    directory: DirectoryDep,
) -> Response:
    form = await request.form()
    token = signed_in.access_token
    key = str(form.get("form_key") or "")[:64] or None
    result = await api.resend_invitation(token, appointment_id, key)
    appointment = await api.appointment(token, appointment_id)
    assert appointment.patient_id is not None
    if not isinstance(result, Refusal):
        return RedirectResponse(f"/patients/{appointment.patient_id}?saved=resent", status_code=303)
    forms = {f"resend-{appointment_id}": refused(result, {}, _no_field)}
    return await show_patient(
        request,
        api,
        directory,
        signed_in,
        appointment.patient_id,
        forms=forms,
        status=result.status,
    )


def series_start(values: dict[str, str], zone: str) -> datetime | None:
    """The first follow-up's date and time, read in the specialist's zone."""
    try:
        day, at = date.fromisoformat(values["first_date"]), time.fromisoformat(values["first_time"])
    except ValueError:
        return None
    return datetime.combine(day, at, ZoneInfo(zone))


def _series_field(location: tuple[str | int, ...]) -> str | None:
    name = str(location[0]) if location else ""
    return "first_date" if name == "first_start" else name if name in SERIES_FIELDS else None


@router.post("/episodes/{episode_id}/follow-ups")
async def book_follow_ups(
    request: Request,
    episode_id: uuid.UUID,
    signed_in: SignedInFormDep,
    api: RegistryApiDep,
    directory: DirectoryDep,
) -> Response:
    """Every N days, K times, at the same local time; the page then lists each visit as
    booked or why not."""
    form = await request.form()
    values = form_values(form, SERIES_FIELDS)
    token = signed_in.access_token
    episode = await api.episode(token, episode_id)
    zone = episode.appointments[0].local.timezone if episode.appointments else "UTC"
    start = series_start(values, zone)
    show: dict[str, Any] = {}
    if start is None:
        state = FormState(values=values, errors={"first_date": ["format"]})
        show = {"forms": {f"series-{episode_id}": state}, "status": 422}
    else:
        body = {
            "visit_type": "remote",
            "first_start": start.isoformat(),
            "every_days": values["every_days"],
            "count": values["count"],
        }
        key = str(form.get("form_key") or "")[:64] or None
        result = await api.follow_ups(token, episode_id, body, key)
        if isinstance(result, Refusal):
            state = refused(result, values, _series_field)
            show = {"forms": {f"series-{episode_id}": state}, "status": result.status}
        else:
            show = {"series": result, "saved": "series"}
    return await show_patient(request, api, directory, signed_in, episode.patient_id, **show)
