"""HTTP routes of notify under `/api/notify`: a person's preferences and the delivery log."""

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request

from gateway.notify import schemas, service
from gateway.notify.enums import Channel, MessageStatus, Template
from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.times import AwareInstant
from services.common.uow import UnitOfWorkDep

PREFIX = "/api/notify"
router = APIRouter(prefix=PREFIX, tags=["notify"])


def _wake_courier(request: Request) -> None:
    courier = getattr(request.app.state, "notify_courier", None)
    if courier is not None:
        courier.wake()


@router.get(
    "/preferences",
    response_model=schemas.Preferences,
    summary="How messages reach a person: channels and categories",
    description="The caller's own (a patient's too); administrators may name anyone in "
    "`user_id`. Anyone else's is a 404.",
    responses=problem_responses(401, 404),
)
async def get_preferences(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, user_id: uuid.UUID | None = None
) -> schemas.Preferences:
    return await service.get_preferences(uow, principal, user_id)


@router.put(
    "/preferences",
    response_model=schemas.Preferences,
    summary="Choose how messages reach you",
    description="Switch email or SMS off, or opt out of `visits` or `cases` messages. Account "
    "messages (password resets, invitations, new sign-ins) are sent whatever you choose.",
    responses=problem_responses(401, 404, 422),
)
async def put_preferences(
    body: schemas.PreferencesUpdate, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.Preferences:
    return await service.put_preferences(uow, principal, body)


@router.get(
    "/messages",
    response_model=schemas.MessagePage,
    summary="The delivery log, newest first",
    description="Administrators see every message and may filter by `recipient_id`; everyone "
    "else sees their own. Pass `next_cursor` as `cursor` for older entries.",
    responses=problem_responses(400, 401, 403),
)
async def list_messages(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    recipient_id: uuid.UUID | None = None,
    status: MessageStatus | None = None,
    template: Template | None = None,
    since: AwareInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> schemas.MessagePage:
    filters = service.MessageFilter(
        recipient_id=recipient_id, status=status, template=template, since=since
    )
    return await service.list_messages(uow, principal, filters, limit=limit, cursor=cursor)


@router.get(
    "/messages/{message_id}",
    response_model=schemas.MessageDetail,
    summary="One message with its deliveries and every attempt",
    description="The recipient's own messages, or any for administrators; anyone else's is "
    "a 404, as if it did not exist. Shows the template, its category, and per channel (email, "
    "SMS) the address used, the delivery's state and each attempt's outcome and error.",
    responses=problem_responses(401, 404),
)
async def get_message(
    message_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> schemas.MessageDetail:
    return await service.get_message(uow, principal, message_id)


@router.post(
    "/messages/{message_id}/resend",
    status_code=202,
    response_model=schemas.MessageDetail,
    summary="Send a message again, as new deliveries due now (administrators)",
    description="To the person's addresses and by their choices as they are now, on every "
    "channel that reaches them or only on `channel`; 409 when none does.",
    responses=problem_responses(401, 403, 404, 409),
)
async def resend_message(
    message_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    background: BackgroundTasks,
    request: Request,
    channel: Channel | None = None,
) -> schemas.MessageDetail:
    detail = await service.resend(uow, principal, message_id, channel)
    background.add_task(_wake_courier, request)  # after the commit, so it finds them
    return detail
