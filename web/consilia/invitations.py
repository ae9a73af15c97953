"""A specialist's consilium invitations still to answer, by name or to their specialty, each
with its case and a link to the consilium's page."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.cases.deps import ScreensDep
from web.consilia.api import ConsiliaApi
from web.consilia.views import render
from web.deps import SignedInDep

router = APIRouter(include_in_schema=False)


@router.get("/consilia")
async def invitations_page(
    request: Request, signed_in: SignedInDep, screens: ScreensDep
) -> Response:
    """Consult refuses the list to anyone but a specialist: that refusal is the error page."""
    api, token = ConsiliaApi.of(request), signed_in.access_token
    invitations = await api.invitations(token)
    # An invitation names its case only by id: each case is read for what the list shows.
    cases = {case_id: await api.case(token, case_id)
             for case_id in dict.fromkeys(item.case_id for item in invitations)}  # fmt: skip
    context = {
        "invitations": invitations,
        "cases": cases,
        "organizations": await screens.directory.organizations(api, token),
    }
    return render(request, "consilia/invitations.html", context)
