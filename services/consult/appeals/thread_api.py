"""HTTP routes of an appeal's thread and of the organisations' redirect answers, under
`/api/consult`."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.idempotency import idempotent
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.appeals import answers, thread
from services.consult.appeals.enums import AnswerLanguage, RedirectTopic
from services.consult.appeals.schemas import (
    MessageOut,
    RedirectAnswerIn,
    RedirectAnswerOut,
    ReplyIn,
    ThreadNews,
)
from services.consult.deps import (
    PREFIX,
    NowDep,
    OrganizationsDep,
    SettingsDep,
    WakeOutboundDep,
)
from services.consult.scopes import READ_SCOPE, WRITE_SCOPE

router = APIRouter(prefix=PREFIX, tags=["appeals"])
# A message's id is a 64-bit sequence: a larger cursor is bad input, not a database error.
MAX_MESSAGE_ID = 2**63 - 1


@router.get(
    "/appeals/{appeal_id}/messages",
    response_model=list[MessageOut],
    summary="The appeal's thread: its first text, then messages both ways, oldest first",
    description="Whoever may read the appeal reads its thread; outgoing messages on an appeal "
    "that came by a chat say how their sending goes (`delivery`).",
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(READ_SCOPE),
)
async def read_thread(
    appeal_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[MessageOut]:
    return await thread.read_thread(uow, principal, appeal_id)


@router.get(
    "/appeals/{appeal_id}/messages/news",
    response_model=ThreadNews,
    summary="What is new in the appeal's thread after the last message a reader has",
    description="For a page showing the thread that asks again every few seconds: the messages "
    "after `after` (the `id` of the last message it has; 0 when it has only the first text), "
    "how the sending of the outgoing ones it has goes, and the appeal's status (stop asking "
    "once it is closed). Whoever may read the appeal; audited only when it returns messages, "
    "since an answer without any holds nothing of the person's.",
    responses=problem_responses(401, 403, 404, 422),
    dependencies=client_scopes(READ_SCOPE),
)
async def read_thread_news(
    appeal_id: uuid.UUID,
    after: Annotated[int, Query(ge=0, le=MAX_MESSAGE_ID, examples=[1842])],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> ThreadNews:
    return await thread.thread_news(uow, principal, appeal_id, after)


@router.post(
    "/appeals/{appeal_id}/messages",
    status_code=201,
    response_model=MessageOut,
    summary="Reply to the person (the region's operators, on an open appeal)",
    description="On an appeal that came by a chat the reply is sent to that chat, retried "
    "until it is delivered (`delivery`); the appeal's status does not change. Send "
    "`Idempotency-Key` to retry safely.",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def reply(
    appeal_id: uuid.UUID,
    body: ReplyIn,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
    wake: WakeOutboundDep,
) -> JSONResponse:
    async def create() -> MessageOut:
        message = await thread.reply(uow, principal, appeal_id, body.text, now)
        if message.delivery is not None:

            async def wake_courier() -> None:
                wake()

            uow.after_commit.append(wake_courier)
        return message

    return await idempotent(request, uow.session, principal, body, create)


@router.get(
    "/organizations/{organization_id}/redirect-answers",
    response_model=list[RedirectAnswerOut],
    tags=["redirect answers"],
    summary="What the organisation's callers are told on topics the channels do not handle",
    description="Every topic in Russian and English: the organisation's own wording, or the "
    "built-in answer (`built_in`). Administrators and the organisation's coordinators.",
    responses=problem_responses(401, 403, 404, 502),
    dependencies=client_scopes(READ_SCOPE),
)
async def list_answers(
    organization_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
) -> list[RedirectAnswerOut]:
    return await answers.list_answers(uow, principal, organization_id, organizations, settings)


@router.put(
    "/organizations/{organization_id}/redirect-answers/{topic}/{language}",
    response_model=RedirectAnswerOut,
    tags=["redirect answers"],
    summary="Word the organisation's answer to a topic, in one language",
    description="Used from then on when an appeal on the topic reaches the organisation (filed "
    "with a `topic`, or redirected). Refused when formulaic, as a resolution's answer is.",
    responses=problem_responses(401, 403, 404, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def put_answer(
    organization_id: uuid.UUID,
    topic: RedirectTopic,
    language: AnswerLanguage,
    body: RedirectAnswerIn,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
) -> RedirectAnswerOut:
    return await answers.put_answer(
        uow, principal, organization_id, topic, language, body.text, organizations, settings, now
    )


@router.delete(
    "/organizations/{organization_id}/redirect-answers/{topic}/{language}",
    status_code=204,
    tags=["redirect answers"],
    summary="Go back to the built-in answer",
    description=(
        "Drops the organisation's own wording of the topic in that language; appeals are "
        "answered with the built-in text from then on. Administrators, and the "
        "organisation's coordinators (403 for others); 404 when it has no wording of its own."
    ),
    responses=problem_responses(401, 403, 404, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def reset_answer(
    organization_id: uuid.UUID,
    topic: RedirectTopic,
    language: AnswerLanguage,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
) -> Response:
    await answers.reset_answer(uow, principal, organization_id, topic, language, organizations)
    return Response(status_code=204)
