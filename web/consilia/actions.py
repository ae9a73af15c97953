"""What is done from the consilium page: the chair invites more specialists, signs the protocol
and opens the video room; an invited specialist accepts, declines with a reason, or signs an
opinion. Each is a plain form (post, then back to the page); a refusal is said beside it."""

import uuid
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from services.common.db import utcnow
from web.cases.api import Refusal
from web.cases.deps import ScreensDep
from web.cases.forms import FormState, form_values, refused
from web.consilia import forms
from web.consilia.api import ConsiliaApi
from web.consilia.page import show
from web.deps import SignedInFormDep

router = APIRouter(include_in_schema=False)
BASE = "/cases/{case_id}/consilium"
# A room asked for "now" starts a minute on: consult refuses a start already past by the time
# the request reaches it, and the video service opens a room well before its start.
ROOM_MARGIN = timedelta(minutes=1)


def _back(case_id: uuid.UUID, saved: str) -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}/consilium?saved={saved}", status_code=303)


def _form_key(form: FormData) -> str | None:
    """The form's own `Idempotency-Key`: the same form sent twice is done once."""
    return str(form.get("form_key") or "")[:64] or None


@router.post(BASE + "/invitations")
async def invite(
    request: Request, case_id: uuid.UUID, signed_in: SignedInFormDep, screens: ScreensDep
) -> Response:
    form = await request.form()
    values = forms.invitation_values(form)
    body = {"invitations": forms.invitations(values)}
    api = ConsiliaApi.of(request)
    result = await api.invite(signed_in.access_token, case_id, body, _form_key(form))
    if isinstance(result, Refusal):
        state = refused(result, values, forms.invitation_field)
        return await show(
            request, screens, signed_in, case_id, forms={"invite": state}, status=result.status
        )
    return _back(case_id, "invited")


async def _answer(
    request: Request,
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    action: str,
    signed_in: SignedInFormDep,
    screens: ScreensDep,
) -> Response:
    form = await request.form()
    values = form_values(form, ("reason",)) if action == "decline" else {}
    api = ConsiliaApi.of(request)
    result = await api.answer(
        signed_in.access_token, case_id, invitation_id, action, values or None
    )
    if isinstance(result, Refusal):
        state = refused(result, values, lambda location: "reason" if location else None)
        return await show(
            request, screens, signed_in, case_id, forms={action: state}, status=result.status
        )
    return _back(case_id, action)


@router.post(BASE + "/invitations/{invitation_id}/accept")
async def accept(
    request: Request,
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    signed_in: SignedInFormDep,
    screens: ScreensDep,
) -> Response:
    return await _answer(request, case_id, invitation_id, "accept", signed_in, screens)


@router.post(BASE + "/invitations/{invitation_id}/decline")
async def decline(
    request: Request,
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    signed_in: SignedInFormDep,
    screens: ScreensDep,
) -> Response:
    return await _answer(request, case_id, invitation_id, "decline", signed_in, screens)


@router.post(BASE + "/invitations/{invitation_id}/opinion")
async def give_opinion(
    request: Request,
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    signed_in: SignedInFormDep,
    screens: ScreensDep,
) -> Response:
    """Signed once the specialist confirms it: a signed opinion is never changed."""
    form = await request.form()
    values = form_values(form, (*forms.OPINION_FIELDS.values(), "confirm"))
    if values["confirm"] != "yes":
        state = FormState(values=values, errors={"confirm": ["confirm_opinion"]})
        return await show(
            request, screens, signed_in, case_id, forms={"opinion": state}, status=422
        )
    api = ConsiliaApi.of(request)
    result = await api.give_opinion(
        signed_in.access_token, case_id, invitation_id, forms.opinion_body(values),
        _form_key(form),
    )  # fmt: skip
    if isinstance(result, Refusal):
        state = refused(result, values, forms.opinion_field)
        return await show(
            request, screens, signed_in, case_id, forms={"opinion": state}, status=result.status
        )
    return _back(case_id, "opinion")


@router.post(BASE + "/protocol")
async def issue_protocol(
    request: Request, case_id: uuid.UUID, signed_in: SignedInFormDep, screens: ScreensDep
) -> Response:
    """Signed once the chair confirms it; it cites every opinion given and concludes the case."""
    form = await request.form()
    values = form_values(form, (*forms.PROTOCOL_TEXTS, *forms.PROTOCOL_FLAGS, "confirm"))
    if values["confirm"] != "yes":
        state = FormState(values=values, errors={"confirm": ["confirm_protocol"]})
        return await show(
            request, screens, signed_in, case_id, forms={"protocol": state}, status=422
        )
    api = ConsiliaApi.of(request)
    result = await api.issue_protocol(
        signed_in.access_token, case_id, forms.protocol_body(values), _form_key(form)
    )
    if isinstance(result, Refusal):
        state = refused(result, values, forms.protocol_field)
        return await show(
            request, screens, signed_in, case_id, forms={"protocol": state}, status=result.status
        )
    return _back(case_id, "protocol")


@router.post(BASE + "/room")
async def open_room(
    request: Request, case_id: uuid.UUID, signed_in: SignedInFormDep, screens: ScreensDep
) -> Response:
    """The chair's room for the consilium (the same one when asked again), then its page."""
    api = ConsiliaApi.of(request)
    result = await api.request_room(signed_in.access_token, case_id, utcnow() + ROOM_MARGIN)
    if isinstance(result, Refusal):
        state = FormState(detail=result.detail)
        return await show(
            request, screens, signed_in, case_id, forms={"room": state}, status=result.status
        )
    return RedirectResponse(f"/video/{result.room_id}", status_code=303)
