"""`/home-visits/new`: calling a doctor home on a live call. The polyclinic serving the address
and the day and window are shown before saving (htmx swaps the preview in as the address
changes); saved, the confirmation says the window to read out, above an empty form for the
next caller."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from web.cases.api import Refusal
from web.cases.forms import FormState, form_values
from web.deps import SignedIn, SignedInDep, SignedInFormDep
from web.home_visits.api import HomeVisitsApi, HomeVisitsApiDep
from web.home_visits.schemas import HomeVisit
from web.home_visits.views import CALL_FIELDS, refused_call, render

router = APIRouter(include_in_schema=False)
TEMPLATE = "home_visits/new.html"
Text = Annotated[str | None, Query(max_length=128)]


def call_body(values: dict[str, str]) -> dict[str, Any]:
    """Consult's body for the form, as typed (consult says what is wrong); empty optional
    fields left out."""
    optional = ("settlement", "street", "patient_name", "patient_id")
    body: dict[str, Any] = {name: values[name] for name in CALL_FIELDS if name not in optional}
    return body | {name: values[name] for name in optional if values[name]}


async def _page(
    request: Request,
    api: HomeVisitsApi,
    signed_in: SignedIn,
    state: FormState,
    *,
    status: int = 200,
    filed: HomeVisit | None = None,
) -> Response:
    context = {
        "form": state,
        "territories": await api.territories(signed_in.access_token),
        "filed": filed,
        # A form sent twice (a double Ctrl+Enter, a reload of the answer) files one call.
        "form_key": uuid.uuid4().hex,
        "preview": None,
        "fragment": False,
    }
    return render(request, TEMPLATE, context, status=status)


def _empty() -> FormState:
    return FormState(values={"urgency": "planned"})


@router.get("/home-visits/new")
async def new_call(request: Request, signed_in: SignedInDep, api: HomeVisitsApiDep) -> Response:
    return await _page(request, api, signed_in, _empty())


@router.post("/home-visits/new")
async def file_call(
    request: Request, signed_in: SignedInFormDep, api: HomeVisitsApiDep
) -> Response:
    form = await request.form()
    values = form_values(form, CALL_FIELDS)
    form_key = str(form.get("form_key") or "")[:64] or None
    result = await api.file_call(signed_in.access_token, call_body(values), form_key)
    if isinstance(result, Refusal):
        state = refused_call(result, values)
        return await _page(request, api, signed_in, state, status=result.status)
    return await _page(request, api, signed_in, _empty(), filed=result)


@router.get("/home-visits/new/preview")
async def preview(
    request: Request,
    signed_in: SignedInDep,
    api: HomeVisitsApiDep,
    territory: Text = None,
    settlement: Text = None,
    street: Text = None,
) -> Response:
    """Which polyclinic serves the address, and the day and window filing now would give."""
    found = None
    if territory:
        address = {"territory": territory, "settlement": settlement or "", "street": street or ""}
        found = await api.preview(signed_in.access_token, address)
    context = {"preview": found, "asked": bool(territory), "fragment": True}
    return render(request, TEMPLATE, context, block="preview")
