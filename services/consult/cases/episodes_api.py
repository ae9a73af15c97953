"""HTTP route linking a care episode of the scheduling service to a case: `/cases/{id}/episodes`."""

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal, bearer_token
from services.common.errors import problem_responses
from services.common.idempotency import idempotent, location
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.cases import episodes
from services.consult.cases.deps import GrantsDep
from services.consult.deps import PREFIX
from services.consult.scopes import WRITE_SCOPE
from services.scheduling.client import EpisodeCreate, EpisodeOut, SchedulingClient

router = APIRouter(prefix=PREFIX, tags=["cases"])


def _open_episode(
    request: Request, principal: CurrentPrincipal, grants: GrantsDep
) -> episodes.OpenEpisode:
    """Opens the episode as the caller, so scheduling's rules of who opens episodes apply,
    with consult's grant to link the case. The caller's `Idempotency-Key` is passed on
    (derived, per case), so a retry after a lost answer finds the same episode."""
    scheduling: SchedulingClient = request.app.state.scheduling
    token = bearer_token(request)
    key = request.headers.get("idempotency-key")

    async def open_episode(case_id: uuid.UUID, data: episodes.EpisodeLink) -> EpisodeOut:
        grant = episodes.link_grant(grants, principal, case_id)
        body = EpisodeCreate.model_validate(data.model_dump() | {"consult_case_id": case_id})
        # Hashed: the caller's key may already be as long as scheduling accepts.
        derived = f"consult-episode:{hashlib.sha256(f'{case_id}:{key}'.encode()).hexdigest()}"
        return await scheduling.create_episode(
            body, token, grant, idempotency_key=derived if key else None
        )

    return open_episode


OpenEpisodeDep = Annotated[episodes.OpenEpisode, Depends(_open_episode)]


@router.post(
    "/cases/{case_id}/episodes",
    status_code=201,
    response_model=EpisodeOut,
    summary="Open a care episode in the scheduling service, linked to this case",
    description=(
        "For a caller who sees the case (else 404) and may open episodes (medics and "
        "coordinators of the patient's organisation; else 403). The episode is the "
        "scheduling service's: read and book it under `/api/scheduling/episodes/{id}`. Its "
        "refusals (an unknown practitioner or zone: 422) change nothing. Send "
        "`Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def link_episode(
    case_id: uuid.UUID,
    body: episodes.EpisodeLink,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    open_episode: OpenEpisodeDep,
) -> JSONResponse:
    async def create() -> EpisodeOut:
        return await episodes.link_episode(uow, principal, case_id, body, open_episode)

    return await idempotent(
        request,
        uow.session,
        principal,
        body,
        create,
        headers=location("/api/scheduling/episodes/{id}"),
    )
