"""HTTP routes of callback tasks under `/api/consult`: scheduling a call, an operator's queue of
those due, and each attempt with its outcome."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import idempotent
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.appeals import callbacks
from services.consult.appeals.schemas import (
    CallbackAttemptCreate,
    CallbackCreate,
    CallbackOut,
    CallbackPage,
)
from services.consult.deps import PREFIX, NowDep, OrganizationsDep, SettingsDep
from services.consult.scopes import READ_SCOPE, WRITE_SCOPE

router = APIRouter(prefix=PREFIX, tags=["callbacks"])


@router.post(
    "/appeals/{appeal_id}/callbacks",
    status_code=201,
    response_model=CallbackOut,
    summary="Schedule a call to the patient: after a dropped call, or to answer by phone",
    description=(
        "After a dropped call the calling operator's organisation calls back and the task is "
        "kept for that operator; a `phone_answer` is the responsible organisation's. Due soon "
        "within working hours unless `due_at` (a time agreed with the patient) is given. Send "
        "`Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def schedule_callback(
    appeal_id: uuid.UUID,
    body: CallbackCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> CallbackOut:
        callback = await callbacks.schedule_callback(
            uow, principal, appeal_id, body, organizations, settings, now
        )
        return CallbackOut.model_validate(callback)

    return await idempotent(request, uow.session, principal, body, create)


@router.get(
    "/appeals/{appeal_id}/callbacks",
    response_model=list[CallbackOut],
    summary="An appeal's callbacks with their attempts",
    description=(
        "Every callback of the appeal, with each attempt's operator and outcome. For the "
        "region's operators (403 for the patient or API client who see the appeal; 404 for "
        "an appeal not visible to you)."
    ),
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(READ_SCOPE),
)
async def appeal_callbacks(
    appeal_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[CallbackOut]:
    found = await callbacks.appeal_callbacks(uow, principal, appeal_id)
    return [CallbackOut.model_validate(callback) for callback in found]


@router.get(
    "/callbacks/due",
    response_model=CallbackPage,
    summary="The calling operator's queue: their organisation's calls due now, earliest first",
    description="Calls kept for another operator (their own dropped calls) are left out.",
    responses=problem_responses(400, 401, 403),
)
async def due_callbacks(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> CallbackPage:
    page, next_cursor = await callbacks.due_callbacks(
        uow, principal, now, limit=limit, cursor=cursor
    )
    return CallbackPage(
        items=[CallbackOut.model_validate(callback) for callback in page], next_cursor=next_cursor
    )


@router.post(
    "/callbacks/{callback_id}/attempts",
    response_model=CallbackOut,
    summary="Record a call and its outcome: reached, no answer or busy",
    description=(
        "Reached closes the task; no answer or busy makes it due again after the retry "
        "interval, within working hours, until the attempts allowed are spent (then `failed`). "
        "Send `Idempotency-Key` so a retry is not counted twice."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def record_attempt(
    callback_id: uuid.UUID,
    body: CallbackAttemptCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> CallbackOut:
        callback = await callbacks.record_attempt(
            uow, principal, callback_id, body, organizations, settings, now
        )
        return CallbackOut.model_validate(callback)

    return await idempotent(request, uow.session, principal, body, create, status_code=200)
