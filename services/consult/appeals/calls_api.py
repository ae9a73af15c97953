"""HTTP routes of PBX calls under `/api/consult`: the PBX-neutral event endpoint, the hotline's
recent calls, linking a call to the appeal made on it, and the grant to hear its recording."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.appeals import calls
from services.consult.appeals.deps import GrantsDep, RecordingsDep
from services.consult.appeals.schemas import CallEventIn, CallLink, CallOut, RecordingsGrant
from services.consult.deps import PREFIX, NowDep, OrganizationsDep, SettingsDep
from services.consult.scopes import READ_SCOPE, TELEPHONY_SCOPE, WRITE_SCOPE

router = APIRouter(prefix=PREFIX, tags=["calls"])


@router.post(
    "/calls/events",
    response_model=CallOut,
    summary="A PBX reports an event of a call: started, answered, dropped, ended, recording",
    description=(
        "For API clients with the `telephony:events` scope (and `files:write`, as recordings "
        "are stored as their organisation's files). Taken once per (`call_id`, `event`): a "
        "repeated delivery changes nothing and gets the first answer again, with "
        "`Idempotent-Replayed: true`. A `dropped` call, or one `ended` without being "
        "`answered`, leaves one callback to the caller's number in the line's hotline's "
        "queue. A recording is fetched from `recording_url` (under the deployment's "
        "`recording_sources`) or taken from a file the client uploaded, and stored through "
        "the files service; it joins the appeal once the call is linked to one. The mapping "
        "from Asterisk ARI and FreeSWITCH events is in docs/telephony.md."
    ),
    responses=problem_responses(401, 403, 413, 422, 502),
    dependencies=client_scopes(TELEPHONY_SCOPE),
)
async def receive_event(
    body: CallEventIn,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    recordings: RecordingsDep,
    settings: SettingsDep,
    now: NowDep,
) -> JSONResponse:
    answer, replayed = await calls.receive_event(
        uow, principal, body, organizations, recordings, settings, now
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return JSONResponse(answer, headers=headers)


@router.get(
    "/calls",
    response_model=list[CallOut],
    summary="The calling operator's hotline's calls of the last 12 hours, newest first",
    description="`linked=false` keeps the calls no appeal is linked to yet: the ones an appeal "
    "being filed may be about.",
    responses=problem_responses(401, 403),
    dependencies=client_scopes(READ_SCOPE),
)
async def recent_calls(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
    linked: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[CallOut]:
    return await calls.recent_calls(uow, principal, now, linked=linked, limit=limit)


@router.get(
    "/calls/{call_id}",
    response_model=CallOut,
    summary="One call, for the operators of its region or hotline",
    description=(
        "The call's times, outcome, linked appeal, recording and callback. For coordinators "
        "of the call's region or of the hotline that took it; 404 for others. The read is "
        "audited."
    ),
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(READ_SCOPE),
)
async def read_call(call_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal) -> CallOut:
    return await calls.read_call(uow, principal, call_id)


@router.post(
    "/appeals/{appeal_id}/calls",
    response_model=CallOut,
    summary="Link a call to the appeal made on it, with its recording and callback",
    description="Linking it again to the same appeal changes nothing; a call linked to "
    "another appeal is a 409.",
    responses=problem_responses(401, 403, 404, 409, 422),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def link_call(
    appeal_id: uuid.UUID,
    body: CallLink,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
) -> CallOut:
    return await calls.link_call(uow, principal, appeal_id, body.call_id, now)


@router.get(
    "/appeals/{appeal_id}/calls",
    response_model=list[CallOut],
    summary="The calls an appeal was made on, with their recordings",
    description=(
        "Oldest first. For the region's operators (403 for the patient or API client who see "
        "the appeal; 404 for an appeal not visible to you); hear a recording with "
        "`POST /appeals/{appeal_id}/calls/grant`."
    ),
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(READ_SCOPE),
)
async def appeal_calls(
    appeal_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[CallOut]:
    return await calls.appeal_calls(uow, principal, appeal_id)


@router.post(
    "/appeals/{appeal_id}/calls/grant",
    response_model=RecordingsGrant,
    summary="A short-lived grant to hear the recordings of the appeal's calls",
    description="For the appeal's operators. Send `grant` to the files service as the "
    "`Telemed-Grant` header with `GET /api/files/files/{file_id}/content` (or as `?grant=`).",
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(READ_SCOPE),
)
async def recordings_grant(
    appeal_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, grants: GrantsDep
) -> RecordingsGrant:
    return await calls.recordings_grant(uow, principal, appeal_id, grants)
