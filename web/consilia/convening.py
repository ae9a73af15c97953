"""Convening a consilium from the case page: the question for it and whom to invite, by
specialty or by name. Consult decides who may (the case's specialist, once they have taken
it) and says why not; the convener chairs."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from web.cases.api import Refusal
from web.cases.deps import Screens, ScreensDep
from web.cases.forms import FormState, refused
from web.consilia import forms
from web.consilia.api import ConsiliaApi
from web.consilia.views import picker, render
from web.deps import SignedIn, SignedInDep, SignedInFormDep

router = APIRouter(include_in_schema=False)


async def _form_page(
    request: Request,
    screens: Screens,
    signed_in: SignedIn,
    case_id: uuid.UUID,
    state: FormState | None = None,
    status: int = 200,
) -> Response:
    api, token, me = ConsiliaApi.of(request), signed_in.access_token, signed_in.session.user_id
    assert me is not None  # a signed-in session's
    case = await api.case(token, case_id)  # another organisation's case: the 404 page
    if await api.consilium(token, case_id) is not None:
        return RedirectResponse(f"/cases/{case_id}/consilium", status_code=303)
    organizations = await screens.directory.organizations(api, token)
    fresh = FormState(values={forms.ORGANIZATION: str(case.target_organization_id)})
    context: dict[str, Any] = {
        "case": case,
        "state": state or fresh,
        **await picker(api, token, me, organizations),
    }
    return render(request, "consilia/convene.html", context, status=status)


@router.get("/cases/{case_id}/consilium/new")
async def convene_form(
    request: Request, case_id: uuid.UUID, signed_in: SignedInDep, screens: ScreensDep
) -> Response:
    return await _form_page(request, screens, signed_in, case_id)


@router.post("/cases/{case_id}/consilium")
async def convene(
    request: Request, case_id: uuid.UUID, signed_in: SignedInFormDep, screens: ScreensDep
) -> Response:
    form = await request.form()
    values = forms.invitation_values(form)
    body = {"agenda": values["agenda"], "invitations": forms.invitations(values)}
    key = str(form.get("form_key") or "")[:64] or None
    result = await ConsiliaApi.of(request).convene(signed_in.access_token, case_id, body, key)
    if isinstance(result, Refusal):
        state = refused(result, values, forms.invitation_field)
        return await _form_page(request, screens, signed_in, case_id, state, result.status)
    return RedirectResponse(f"/cases/{case_id}/consilium?saved=convened", status_code=303)
