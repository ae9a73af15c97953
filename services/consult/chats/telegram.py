"""The Telegram Bot API adapter: a webhook update read as a message, `sendMessage` out, and
`setWebhook` with the secret Telegram then sends with every update.

The bot's token is part of each Bot API URL (`{base}/bot{token}/{method}`), so no URL and no
transport error text is ever logged or stored: errors are told by their type and Telegram's
`description` alone.
"""

from typing import Any

import httpx
from pydantic import ValidationError

from services.common.errors import BadGateway, Unprocessable
from services.consult.chats.adapters import Inbound, Sent
from services.consult.chats.enums import SendOutcome
from services.consult.chats.schemas import TelegramUpdate
from services.consult.chats.settings import TelegramBot

MAX_TEXT = 4096  # a message's length limit, in characters
MAX_ERROR = 500
# What the Bot API answers for a token it does not know (401) or cannot read (404): the bot's
# fault, not the message's (a blocked bot or a gone chat is 403 or 400).
BOT_REFUSALS = frozenset({401, 404})
TOKEN_HINT = "an administrator must set the bot's current token (TELEMED_CONSULT_CHAT_BOTS)"


def chat_id_value(chat_id: str) -> int:
    """The chat's id as Telegram gives it: an integer, negative for groups (stored as text)."""
    return int(chat_id)


def parse_update(body: bytes) -> Inbound | None:
    """A webhook's Update as the message it carries; None for an update with no message (an
    edit, a member joining: nothing to answer), a 422 for a body that is no Update."""
    try:
        update = TelegramUpdate.model_validate_json(body)
    except ValidationError as error:
        raise Unprocessable("The body is not a Telegram Update.") from error
    message = update.message
    if message is None:
        return None
    sender = message.sender
    names = (sender.first_name, sender.last_name) if sender else ()
    name = " ".join(part for part in names if part)
    return Inbound(
        update_id=update.update_id,
        chat_id=str(message.chat.id),
        message_id=str(message.message_id),
        sender=name or message.chat.title or f"Telegram chat {message.chat.id}",
        text=message.text,
        language=sender.language_code if sender else None,
    )


class TelegramAdapter:
    def __init__(self, client: httpx.AsyncClient, api_base: str, bot: TelegramBot) -> None:
        self._client = client
        self._base = api_base.rstrip("/")
        self._bot = bot

    def parse(self, body: bytes) -> Inbound | None:
        return parse_update(body)

    async def _call(self, method: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        url = f"{self._base}/bot{self._bot.token.get_secret_value()}/{method}"
        response = await self._client.post(url, json=payload)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return response.status_code, body if isinstance(body, dict) else {}

    async def send(self, chat_id: str, text: str) -> Sent:
        payload = {"chat_id": chat_id_value(chat_id), "text": text[:MAX_TEXT]}
        try:
            status, body = await self._call("sendMessage", payload)
        except httpx.HTTPError as error:  # its text may hold the URL, so the token: not kept
            return Sent(SendOutcome.RETRY, error=f"{type(error).__name__} reaching Telegram")
        if body.get("ok") is True:
            return Sent(SendOutcome.SENT, message_id=str(body["result"]["message_id"]))
        code = int(body.get("error_code") or status)
        description = str(body.get("description") or f"HTTP {status}")[:MAX_ERROR]
        if code == 429:
            retry_after = (body.get("parameters") or {}).get("retry_after")
            seconds = float(retry_after) if isinstance(retry_after, int | float) else None
            return Sent(SendOutcome.RETRY, retry_after=seconds, error=description)
        if code >= 500 or status >= 500:
            return Sent(SendOutcome.RETRY, error=description)
        if code in BOT_REFUSALS:
            why = f"Telegram refuses the bot's token ({description}): {TOKEN_HINT}"
            return Sent(SendOutcome.BOT_REFUSED, error=why)
        return Sent(SendOutcome.REFUSED, error=description)

    async def set_webhook(self, url: str) -> str:
        """Points the bot's updates at `url` with the bot's secret token; Telegram's answer."""
        payload = {
            "url": url,
            "secret_token": self._bot.secret_token.get_secret_value(),
            "allowed_updates": ["message"],
        }
        try:
            status, body = await self._call("setWebhook", payload)
        except httpx.HTTPError as error:
            raise BadGateway(f"Telegram could not be reached ({type(error).__name__}).") from error
        if body.get("ok") is not True:
            raise Unprocessable(f"Telegram refused the webhook: {body.get('description', status)}")
        return str(body.get("description", "Webhook was set"))
