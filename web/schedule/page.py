"""The specialist's schedule page: weekly hours, visit types and booking policy edited in one
form (created the first time, replaced after), and the exceptions (leave, holidays, extra
hours) added and removed."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.common.errors import NotFound
from web.cases.api import Refusal
from web.cases.forms import FormState, form_values, refused
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.i18n import local_time
from web.registry.api import RegistryApi, RegistryApiDep
from web.registry.schemas import Schedule
from web.registry.views import render
from web.schedule.forms import (
    EXCEPTION_FIELDS,
    FIELDS,
    VISIT_TYPES,
    exception_body,
    exception_field,
    schedule_body,
    schedule_field,
    schedule_values,
)

router = APIRouter(include_in_schema=False)


async def my_schedule(api: RegistryApi, token: str) -> Schedule | None:
    """The caller's own schedule, found among those of their specialty."""
    me = await api.me(token)
    person = await api.person(token, me.id)
    if person is None or not person.specialty:
        return None
    found = await api.schedules(token, person.specialty)
    return next((each for each in found if each.practitioner_id == me.id), None)


async def _page(
    request: Request,
    api: RegistryApi,
    signed_in: SignedIn,
    *,
    form: FormState | None = None,
    exception: FormState | None = None,
    saved: str | None = None,
    status: int = 200,
) -> Response:
    token, language = signed_in.access_token, request.state.language
    schedule = await my_schedule(api, token)
    exceptions = await api.exceptions(token, schedule.id) if schedule else []
    context: dict[str, Any] = {
        "schedule": schedule,
        "form": form or FormState(values=schedule_values(schedule)),
        "exception": exception or FormState(values={"kind": "unavailable"}),
        "exceptions": [
            (
                item,
                local_time(item.local.start, language, item.local.timezone),
                local_time(item.local.end, language, item.local.timezone),
            )
            for item in exceptions
        ],
        "visit_types": VISIT_TYPES,
        "saved": saved,
    }
    return render(request, "schedule/schedule.html", context, status=status)


@router.get("/schedule")
async def schedule_page(
    request: Request,
    signed_in: SignedInDep,
    api: RegistryApiDep,
    saved: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return await _page(request, api, signed_in, saved=saved)


@router.post("/schedule")
async def save_schedule(
    request: Request, signed_in: SignedInFormDep, api: RegistryApiDep
) -> Response:
    values = form_values(await request.form(), FIELDS)
    body, mistakes = schedule_body(values)
    if mistakes is not None:
        return await _page(request, api, signed_in, form=mistakes, status=422)
    token = signed_in.access_token
    schedule = await my_schedule(api, token)
    result = await api.save_schedule(token, schedule.id if schedule else None, body)
    if isinstance(result, Refusal):
        state = refused(result, values, lambda location: schedule_field(location, body))
        return await _page(request, api, signed_in, form=state, status=result.status)
    return RedirectResponse("/schedule?saved=hours", status_code=303)


async def _own_schedule(api: RegistryApi, token: str) -> Schedule:
    schedule = await my_schedule(api, token)
    if schedule is None:
        raise NotFound("You have no schedule yet; save your weekly hours first.")
    return schedule


@router.post("/schedule/exceptions")
async def add_exception(
    request: Request, signed_in: SignedInFormDep, api: RegistryApiDep
) -> Response:
    values = form_values(await request.form(), EXCEPTION_FIELDS)
    token = signed_in.access_token
    schedule = await _own_schedule(api, token)
    body, mistakes = exception_body(values, schedule.timezone)
    if mistakes is not None:
        return await _page(request, api, signed_in, exception=mistakes, status=422)
    result = await api.add_exception(token, schedule.id, body)
    if isinstance(result, Refusal):
        state = refused(result, values, exception_field)
        return await _page(request, api, signed_in, exception=state, status=result.status)
    return RedirectResponse("/schedule?saved=exception", status_code=303)


@router.post("/schedule/exceptions/{exception_id}/remove")
async def remove_exception(
    exception_id: uuid.UUID, signed_in: SignedInFormDep, api: RegistryApiDep
) -> Response:
    token = signed_in.access_token
    schedule = await _own_schedule(api, token)
    await api.remove_exception(token, schedule.id, exception_id)
    return RedirectResponse("/schedule?saved=removed", status_code=303)
