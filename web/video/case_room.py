"""Starting a case's video consultation: a `d2d` room of the case hosted by its specialist, the
requesting medic its one invitee (who takes their own join token from the case page's link)."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.common.db import utcnow
from web.cases.api import Refusal
from web.cases.deps import ScreensDep
from web.cases.forms import FormState
from web.cases.page import show
from web.deps import SignedInFormDep
from web.video.api import VideoApi

router = APIRouter(include_in_schema=False)


@router.post("/cases/{case_id}/video")
async def start_consultation(
    request: Request, case_id: uuid.UUID, signed_in: SignedInFormDep, screens: ScreensDep
) -> Response:
    """The room, hosted by the specialist, opened as they join it; then its page."""
    token = signed_in.access_token
    case = await screens.api.case(token, case_id)
    body = {
        "kind": "d2d",
        "title": f"{case.patient.full_name}: {case.specialty}",
        "starts_at": utcnow().isoformat(),
        "case_id": str(case.id),
        "invitee_ids": [str(case.requester_id)],
    }
    result = await VideoApi(request.app.state.gateway_client).create_room(token, body)
    if isinstance(result, Refusal):
        state = FormState(detail=result.detail)
        return await show(
            request, screens, signed_in, case_id, forms={"video": state}, status=result.status
        )
    return RedirectResponse(f"/video/{result.id}", status_code=303)
