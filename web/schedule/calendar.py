"""The specialist's calendar: a week of their visits per day (a list at phone width), with the
steps of a visit's course that are theirs (arrived, took place, did not come)."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.db import utcnow
from web.cases.api import Refusal
from web.cases.schemas import Person
from web.cases.views import Directory
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.registry.api import RegistryApi, RegistryApiDep
from web.registry.schemas import Appointment
from web.registry.views import render
from web.registry.week import Week, by_day, day_title, two_zones
from web.visit_patients import VisitPatient, visit_patient

router = APIRouter(include_in_schema=False)
# The steps of the visit's course the specialist takes, from the statuses scheduling's
# transition table allows them in (the API decides, and its refusal is shown).
STEPS = {
    "arrive": frozenset({"booked", "checked_in"}),
    "fulfil": frozenset({"arrived"}),
    "no-show": frozenset({"booked", "checked_in"}),
}
WeekParam = Annotated[str, Query(max_length=10)]


@dataclass(frozen=True)
class Entry:
    appointment: Appointment
    time: str
    patient: VisitPatient | None
    steps: tuple[str, ...]


def _patient(item: Appointment, people: dict[uuid.UUID, Person], day: date) -> VisitPatient | None:
    listed = people.get(item.patient_id) if item.patient_id else None
    return visit_patient(
        item.patient_name, item.patient_birth_date, listed.full_name if listed else None, day
    )


async def _calendar(
    request: Request,
    api: RegistryApi,
    signed_in: SignedIn,
    week_asked: str,
    *,
    refusal: Refusal | None = None,
    saved: str | None = None,
) -> Response:
    token, language = signed_in.access_token, request.state.language
    zone = signed_in.session.timezone
    week = Week.of(week_asked, zone, utcnow())
    me = await api.me(token)
    found = await api.appointments(
        token, practitioner=me.id, starts_from=week.start, before=week.end
    )
    # Only visits booked before scheduling kept the patient's name are asked of the directory.
    unnamed = [item.patient_id for item in found if item.patient_name is None]
    people = await Directory.people(api, token, unnamed)
    days = []
    for day, items in by_day(found, lambda item: item.start, week.zone):
        entries = [
            Entry(
                item,
                two_zones(item.start, week.zone, zone, language),
                _patient(item, people, day),
                tuple(step for step, statuses in STEPS.items() if item.status in statuses),
            )
            for item in items
        ]
        days.append((day_title(day, language), entries))
    context = {
        "week": week,
        "week_title": week.title(language),
        "days": days,
        "refusal": refusal,
        "saved": saved,
    }
    return render(
        request, "schedule/calendar.html", context, status=refusal.status if refusal else 200
    )


@router.get("/schedule/calendar")
async def calendar_page(
    request: Request,
    signed_in: SignedInDep,
    api: RegistryApiDep,
    week: WeekParam = "",
    saved: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return await _calendar(request, api, signed_in, week, saved=saved)


def _step_route(step: str) -> None:
    async def endpoint(
        request: Request,
        appointment_id: uuid.UUID,
        signed_in: SignedInFormDep,
        api: RegistryApiDep,
    ) -> Response:
        week = str((await request.form()).get("week") or "")[:10]
        result = await api.step(signed_in.access_token, appointment_id, step, None)
        if isinstance(result, Refusal):
            return await _calendar(request, api, signed_in, week, refusal=result)
        return RedirectResponse(f"/schedule/calendar?week={week}&saved={step}", status_code=303)

    router.add_api_route(f"/schedule/visits/{{appointment_id}}/{step}", endpoint, methods=["POST"])


for _step in STEPS:
    _step_route(_step)
