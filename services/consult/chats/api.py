"""HTTP routes of the chat channels under `/api/consult`: Telegram's webhook (called by Telegram,
with no bearer token: its secret token authenticates it), the chat bindings, and pointing a
bot's webhook at telemed."""

import hashlib
import hmac
import logging
import secrets
from typing import Annotated

import httpx
from fastapi import APIRouter, Path, Query, Request, Response

from services.common.auth import CurrentPrincipal, Role
from services.common.errors import (
    Forbidden,
    NotFound,
    ProblemError,
    Unauthorized,
    problem_responses,
)
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.chats import service as chats
from services.consult.chats.access import RESOURCE
from services.consult.chats.deps import ServiceOrganizationsDep
from services.consult.chats.schemas import BindingIn, BindingOut, ChatId, WebhookAnswer, WebhookIn
from services.consult.chats.settings import TelegramBot
from services.consult.chats.telegram import TelegramAdapter, parse_update
from services.consult.deps import PREFIX, NowDep, SettingsDep, WakeOutboundDep
from services.consult.scopes import READ_SCOPE, WRITE_SCOPE
from services.consult.values import REGION_PATTERN

router = APIRouter(prefix=PREFIX, tags=["chats"])
logger = logging.getLogger("telemed.chats")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BotPath = Annotated[str, Path(pattern=r"^[a-z0-9_\-]{1,64}$", examples=["khabarovsk"])]
ChatPath = Annotated[ChatId, Path(examples=["-1001234567890", "*"])]
# The webhook reads its body itself, after the secret: an unauthenticated caller learns nothing.
UPDATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "example": {
                    "update_id": 734052119,
                    "message": {
                        "message_id": 1842,
                        "date": 1761624845,
                        "chat": {"id": 482913377, "type": "private"},
                        "from": {
                            "id": 482913377,
                            "is_bot": False,
                            "first_name": "Мария",
                            "language_code": "ru",
                        },
                        "text": "Здравствуйте! Третью неделю не могу записаться "
                        "на приём эндокринолога.",
                    },
                },
            }
        },
        "description": "A Telegram `Update` (https://core.telegram.org/bots/api#update).",
    }
}


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


# What an unknown bot's secret is compared with: no request can know it, so its refusal takes
# the same steps, time and words as a known bot's wrong secret.
UNKNOWN_BOT_SECRET = _digest(secrets.token_urlsafe(32))


def _authenticate(request: Request, name: str, bot: TelegramBot | None) -> TelegramBot:
    """The bot, if the request carries its secret token. An unknown bot is refused as a wrong
    secret is, so the webhook tells nobody which bots exist; digests of equal length are
    compared in constant time."""
    given = request.headers.get(SECRET_HEADER)
    if not given:
        raise Unauthorized(f"Telegram's {SECRET_HEADER} header is missing.")
    expected = UNKNOWN_BOT_SECRET if bot is None else _digest(bot.secret_token.get_secret_value())
    matched = hmac.compare_digest(_digest(given), expected)
    if bot is None:  # for the operator: the demo's bot before its token is set, or a probe
        logger.warning("an update for bot %r, not configured (TELEMED_CONSULT_CHAT_BOTS)", name)
    if bot is None or not matched:
        raise Forbidden(f"The {SECRET_HEADER} header is not this bot's.")
    return bot


@router.post(
    "/channels/telegram/{bot}",
    response_model=WebhookAnswer,
    summary="Telegram's webhook: a message to one of telemed's bots",
    description=(
        "Called by Telegram, with the bot's secret token in `X-Telegram-Bot-Api-Secret-Token` "
        "(401 without, 403 with another, and for a bot that is not configured: the answer "
        "tells no one which bots exist). A chat's message opens an appeal routed by the "
        "territory of the chat's binding, or joins the chat's open appeal; out of the "
        "organisation's hours it is answered at once with when it will be. Each `update_id` "
        "is taken in once: a redelivery adds nothing. A 503 (the directory unreachable) makes "
        "Telegram deliver it again."
    ),
    responses=problem_responses(401, 403, 422, 502, 503),
    openapi_extra=UPDATE_BODY,
)
async def telegram_webhook(
    bot: BotPath,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    organizations: ServiceOrganizationsDep,
    now: NowDep,
    wake: WakeOutboundDep,
) -> WebhookAnswer:
    action = "chat.webhook"
    try:
        _authenticate(request, bot, settings.chat_bots.get(bot))
        inbound = parse_update(await request.body())
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    if inbound is None:
        return WebhookAnswer(taken=False)
    answer = await chats.receive(uow, bot, inbound, organizations, settings, now)
    if answer.taken:

        async def wake_courier() -> None:
            wake()

        uow.after_commit.append(wake_courier)
    return answer


@router.get(
    "/chat-bindings",
    response_model=list[BindingOut],
    tags=["chats"],
    summary="Which territory each bot's chats speak for",
    description="Administrators (every region, or `region`) and the region's coordinators.",
    responses=problem_responses(401, 403, 422),
    dependencies=client_scopes(READ_SCOPE),
)
async def list_bindings(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    region: Annotated[str | None, Query(pattern=REGION_PATTERN)] = None,
) -> list[BindingOut]:
    bindings = await chats.list_bindings(uow, principal, region)
    return [BindingOut.model_validate(binding) for binding in bindings]


@router.put(
    "/chat-bindings/{bot}/{chat_id}",
    response_model=BindingOut,
    summary="Bind a bot's chat (`*`: every chat of the bot) to a territory of a region",
    description="Its messages become appeals routed by the territory map; administrators and "
    "the region's coordinators. The bot must be configured (`TELEMED_CONSULT_CHAT_BOTS`).",
    responses=problem_responses(401, 403, 422),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def put_binding(
    bot: BotPath,
    chat_id: ChatPath,
    body: BindingIn,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    now: NowDep,
) -> BindingOut:
    bots = frozenset(settings.chat_bots)
    binding = await chats.put_binding(uow, principal, bot, chat_id, body, bots, now)
    return BindingOut.model_validate(binding)


@router.delete(
    "/chat-bindings/{bot}/{chat_id}",
    status_code=204,
    summary="Unbind a chat: its messages are taken in no more",
    description=(
        "Administrators and the binding's region's coordinators (403 for others); appeals "
        "already made from the chat stay, and replies to them are still sent. 404 when no "
        "binding has this bot and chat."
    ),
    responses=problem_responses(401, 403, 404, 422),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def delete_binding(
    bot: BotPath, chat_id: ChatPath, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Response:
    await chats.delete_binding(uow, principal, bot, chat_id)
    return Response(status_code=204)


@router.post(
    "/chat-bots/{bot}/webhook",
    status_code=204,
    summary="Point the bot's updates at telemed (Telegram's setWebhook, with its secret token)",
    description="Administrators. `url` is the webhook as Telegram reaches it: the gateway's "
    "public address and `/api/consult/channels/telegram/{bot}`.",
    responses=problem_responses(401, 403, 404, 422, 502),
)
async def set_webhook(
    bot: BotPath, body: WebhookIn, uow: UnitOfWorkDep, principal: CurrentPrincipal,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    action = "chat.webhook.set"
    try:
        if principal.role is not Role.ADMIN:
            raise Forbidden("Administrators point bots at telemed.")
        configured = settings.chat_bots.get(bot)
        if configured is None:
            raise NotFound("No such bot.")
        async with httpx.AsyncClient(timeout=settings.chat_send_timeout_seconds) as client:
            adapter = TelegramAdapter(client, str(settings.telegram_api_base), configured)
            await adapter.set_webhook(str(body.url))
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    uow.audit.record(action, RESOURCE, None, detail=bot)
    return Response(status_code=204)
