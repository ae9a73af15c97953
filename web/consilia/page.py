"""The consilium page: its members and their answers, the signed opinions and protocol, and the
forms of what the reader may do now; and the protocol as a document to print."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.common.errors import NotFound
from web.cases.deps import Screens, ScreensDep
from web.cases.forms import FormState
from web.consilia.api import ConsiliaApi
from web.consilia.labels import OUTSTANDING, SEATED
from web.consilia.schemas import Consilium, Invitation
from web.consilia.views import picker, render
from web.deps import SignedIn, SignedInDep

router = APIRouter(include_in_schema=False)


async def read(api: ConsiliaApi, token: str, case_id: uuid.UUID) -> Consilium:
    consilium = await api.consilium(token, case_id)
    if consilium is None:
        raise NotFound("No consilium is convened on this case.")
    return consilium


async def seat_of(api: ConsiliaApi, signed_in: SignedIn, consilium: Consilium) -> Invitation | None:
    """The invitation of this consilium the reader may answer now, as consult lists them to
    the reader (by name, or to their specialty); the chair answers none."""
    session = signed_in.session
    if session.role != "specialist" or session.user_id == consilium.chair_id:
        return None
    answerable = await api.invitations(signed_in.access_token)
    return next((item for item in answerable if item.case_id == consilium.case_id), None)


def is_member(consilium: Consilium, user_id: uuid.UUID) -> bool:
    """The reader is one of the consilium's members (not its chair), whom consult invites to
    its video room."""
    return any(
        item.invitee_id == user_id and item.status in SEATED for item in consilium.invitations
    )


async def show(
    request: Request,
    screens: Screens,
    signed_in: SignedIn,
    case_id: uuid.UUID,
    *,
    forms: dict[str, FormState] | None = None,
    status: int = 200,
    saved: str | None = None,
) -> Response:
    """The page as it stands; `forms` holds a refused form (its values and messages)."""
    api, token, me = ConsiliaApi.of(request), signed_in.access_token, signed_in.session.user_id
    assert me is not None  # a signed-in session's
    case = await api.case(token, case_id)  # another organisation's case: the 404 page
    consilium = await read(api, token, case_id)
    chairing = consilium.chair_id == me and consilium.status == "open"
    organizations = await screens.directory.organizations(api, token)
    ids = [consilium.chair_id, *(item.invitee_id for item in consilium.invitations)]
    context: dict[str, Any] = {
        "case": case,
        "consilium": consilium,
        "people": await screens.directory.people(api, token, ids),
        "organizations": organizations,
        "seat": await seat_of(api, signed_in, consilium),
        "chairing": chairing,
        "member": is_member(consilium, me),
        "chairs": consilium.chair_id == me,  # open or concluded
        "unanswered": [item for item in consilium.invitations if item.status in OUTSTANDING],
        "saved": saved,
        "forms": dict(forms or {}),
    }
    if chairing:
        context |= await picker(api, token, me, organizations)
        context["forms"].setdefault(
            "invite", FormState(values={"organization_id": str(consilium.organization_id)})
        )
    return render(request, "consilia/consilium.html", context, status=status)


@router.get("/cases/{case_id}/consilium")
async def consilium_page(
    request: Request,
    case_id: uuid.UUID,
    signed_in: SignedInDep,
    screens: ScreensDep,
    saved: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return await show(request, screens, signed_in, case_id, saved=saved)


@router.get("/cases/{case_id}/consilium/protocol")
async def printable(
    request: Request, case_id: uuid.UUID, signed_in: SignedInDep, screens: ScreensDep
) -> Response:
    """The protocol as a document to print (the print stylesheet leaves the console out)."""
    api, token = ConsiliaApi.of(request), signed_in.access_token
    case = await api.case(token, case_id)
    consilium = await read(api, token, case_id)
    if consilium.protocol is None:
        raise NotFound("The consilium has no protocol yet.")
    authors = [consilium.chair_id, case.requester_id, *(o.author_id for o in consilium.opinions)]
    context = {
        "case": case,
        "consilium": consilium,
        "protocol": consilium.protocol,
        "people": await screens.directory.people(api, token, authors),
        "organizations": await screens.directory.organizations(api, token),
    }
    return render(request, "consilia/protocol.html", context)
