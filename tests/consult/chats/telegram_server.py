"""A loopback stand-in for api.telegram.org: it checks each request as the Bot API would
(`POST /bot<token>/sendMessage`, a JSON body with an integer or string `chat_id` and a text of
1-4096 characters) and answers as Telegram does; told to, it answers 429 with `retry_after`; a
token other than the one it knows (`token`) it refuses as Telegram does (`token_refusal`)."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOKEN = "7000000001:AAE-loopback-token_for_tests"
SECRET = "khabarovsk-chat-secret_1"


@dataclass
class FakeTelegram:
    token: str = TOKEN
    sent: list[dict[str, Any]] = field(default_factory=list)  # accepted sendMessage bodies
    refused: list[str] = field(default_factory=list)  # why a request broke the format
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    throttle: list[int] = field(default_factory=list)  # retry_after for the next requests
    # How a token it does not know is refused: 401 for a revoked one, 404 for one it cannot read.
    token_refusal: tuple[int, str] = (401, "Unauthorized")
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/bot{token}/{method}")
        async def method(token: str, method: str, request: Request) -> JSONResponse:
            return await self._answer(token, method, request)

        return app

    def _error(self, code: int, description: str, **extra: Any) -> JSONResponse:
        body = {"ok": False, "error_code": code, "description": description, **extra}
        return JSONResponse(body, status_code=code)

    async def _answer(self, token: str, method: str, request: Request) -> JSONResponse:
        if token != self.token:
            return self._error(*self.token_refusal)
        if not request.headers.get("content-type", "").startswith("application/json"):
            self.refused.append(f"content-type {request.headers.get('content-type')}")
            return self._error(400, "Bad Request: expected JSON")
        body = await request.json()
        if method == "setWebhook":
            self.webhooks.append(body)
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was set"})
        if method != "sendMessage":
            return self._error(404, "Not Found")
        chat_id, text = body.get("chat_id"), body.get("text")
        if not isinstance(chat_id, int | str) or isinstance(chat_id, bool):
            self.refused.append(f"chat_id {chat_id!r}")
            return self._error(400, "Bad Request: chat_id is empty")
        if not isinstance(text, str) or not 1 <= len(text) <= 4096:
            self.refused.append(f"text of {len(text or '')} characters")
            return self._error(400, "Bad Request: message text is empty or too long")
        if self.throttle:
            retry_after = self.throttle.pop(0)
            return self._error(
                429,
                f"Too Many Requests: retry after {retry_after}",
                parameters={"retry_after": retry_after},
            )
        self.sent.append(body)
        message = {
            "message_id": next(self._ids),
            "date": 1760950000,
            "chat": {"id": chat_id, "type": "private"},
            "text": text,
        }
        return JSONResponse({"ok": True, "result": message})


def update(
    update_id: int,
    text: str | None,
    *,
    chat_id: int = 5550001,
    first_name: str = "Ирина",
    last_name: str | None = "Ковалёва",
    language_code: str | None = "ru",
) -> dict[str, Any]:
    """An Update with a private chat's message, as Telegram posts it to a webhook."""
    sender = {"id": chat_id, "is_bot": False, "first_name": first_name}
    if last_name:
        sender["last_name"] = last_name
    if language_code:
        sender["language_code"] = language_code
    message: dict[str, Any] = {
        "message_id": update_id % 1000,
        "date": 1760950000,
        "chat": {"id": chat_id, "type": "private", "first_name": first_name},
        "from": sender,
    }
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, "message": message}
