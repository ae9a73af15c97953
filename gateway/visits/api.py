"""The patient's personal visit link (`GET /visit/{token}`, a page, not in the API) and
`POST /api/notify/visits/{appointment_id}/invitation`, which sends a visit's invitation again."""

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from gateway.visits import service
from gateway.visits.schemas import InvitationQueued, InvitationResend
from services.common.auth import CurrentPrincipal, bearer_token
from services.common.errors import problem_responses
from services.common.idempotency import idempotent
from services.common.uow import UnitOfWorkDep

router = APIRouter()


@router.get("/visit/{token}", include_in_schema=False)
async def visit_link(token: str, request: Request, uow: UnitOfWorkDep) -> Response:
    """Into the video visit (303 to the join page), or a page saying when it opens, that it
    has ended or was cancelled; 404 for a link that is not genuine."""
    return await service.open_link(uow, request, token)


@router.post(
    "/api/notify/visits/{appointment_id}/invitation",
    status_code=202,
    response_model=InvitationQueued,
    tags=["notify"],
    summary="Send a visit's invitation to its patient again",
    description=(
        "For those who may see the visit in scheduling (its staff, the patient themselves): "
        "the invitation is queued again, a new message with the visit as it is now and, for a "
        "remote visit, the patient's personal link (the same link as before). A visit called "
        "off or done (fulfilled, no-show), not a patient's, or whose patient is deactivated is "
        "a 409 (`current_status` names its status). Send "
        "`Idempotency-Key` so that a retry queues nothing more."
    ),
    responses=problem_responses(400, 401, 404, 409, 422, 502, 503, 504),
)
async def resend_invitation(
    appointment_id: uuid.UUID, request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> JSONResponse:
    # Scheduling decides who may see the visit, with the caller's own token, before anything
    # of the gateway's is touched (no database transaction is open while it answers).
    visit = await service.visible_appointment(uow, request, appointment_id, bearer_token(request))
    resend = service.Resend(visit, request.app.state.visit_links)
    return await idempotent(
        request, uow.session, principal, InvitationResend(), lambda: resend(uow), status_code=202
    )
