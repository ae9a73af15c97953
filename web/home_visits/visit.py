"""`/home-visits/{id}`: one call, with its window, who goes, and the steps left: send a doctor
or nurse of the polyclinic, record the visit made, or cancel with a reason. Each step answers
by going back where it was taken (the list or the page)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from web.cases.api import Refusal
from web.cases.deps import DirectoryDep
from web.cases.forms import FormState, form_values
from web.cases.views import Directory
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.home_visits.api import HomeVisitsApi, HomeVisitsApiDep
from web.home_visits.views import STEP_FIELDS, refused_step, render

router = APIRouter(include_in_schema=False)
STEPS = {"assign": ("assignee_id",), "done": ("note",), "cancel": ("reason", "note")}


async def _page(
    request: Request,
    api: HomeVisitsApi,
    directory: Directory,
    signed_in: SignedIn,
    visit_id: uuid.UUID,
    *,
    forms: dict[str, FormState] | None = None,
    status: int = 200,
) -> Response:
    token = signed_in.access_token
    visit = await api.visit(token, visit_id)
    staff = (
        await api.staff(token, visit.organization_id)
        if visit.status in {"requested", "assigned"}
        else []
    )
    organizations = await directory.organizations(api, token)
    context = {
        "visit": visit,
        "polyclinic": organizations.get(visit.organization_id),
        "staff": staff,
        "forms": forms or {},
    }
    return render(request, "home_visits/visit.html", context, status=status)


@router.get("/home-visits/{visit_id}")
async def visit_page(
    request: Request,
    visit_id: uuid.UUID,
    signed_in: SignedInDep,
    api: HomeVisitsApiDep,
    directory: DirectoryDep,
) -> Response:
    return await _page(request, api, directory, signed_in, visit_id)


@router.post("/home-visits/{visit_id}/{step}")
async def take_step(
    request: Request,
    visit_id: uuid.UUID,
    step: str,
    signed_in: SignedInFormDep,
    api: HomeVisitsApiDep,
    directory: DirectoryDep,
    back: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    names = STEPS.get(step)
    if names is None:
        return Response(status_code=404)
    values = form_values(await request.form(), STEP_FIELDS)
    body = {name: values[name] for name in names if values[name]}
    result = await api.step(signed_in.access_token, visit_id, step, body)
    if isinstance(result, Refusal):
        forms = {step: refused_step(result, values)}
        return await _page(
            request, api, directory, signed_in, visit_id, forms=forms, status=result.status
        )
    # Back to the day's list it was taken on, else the visit's page: never another site.
    target = back if back.startswith("/home-visits") else f"/home-visits/{visit_id}"
    return RedirectResponse(target, status_code=303)
