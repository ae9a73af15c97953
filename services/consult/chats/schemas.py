"""Pydantic shapes of the chat channels: Telegram's Update as its webhook posts it (only the
fields consult reads; Telegram adds fields freely), and the chat bindings of the API."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from services.consult.chats.enums import ChatChannel
from services.consult.values import REGION_PATTERN, Strict


class TelegramUser(BaseModel):
    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    language_code: str | None = None


class TelegramChat(BaseModel):
    id: int
    type: str
    title: str | None = None


class TelegramMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    message_id: int
    date: int
    chat: TelegramChat
    sender: TelegramUser | None = Field(default=None, alias="from")
    text: str | None = None


class TelegramUpdate(BaseModel):
    update_id: int
    message: TelegramMessage | None = None


# Telegram's numeric chat id (negative for groups), or `*` for every chat of a bot: updates name
# a chat by its number only, so a binding by `@username` could never match one.
ChatId = Annotated[str, StringConstraints(pattern=r"^(\*|-?[0-9]{1,20})$")]


class BindingIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Khabarovsk medical chat", "region": "27", "territory": "08701000"}
            ]
        }
    )

    name: str = Field(min_length=1, max_length=255, examples=["Khabarovsk medical chat"])
    region: str = Field(pattern=REGION_PATTERN, examples=["27"])
    territory: str = Field(
        pattern=r"^[\w\-]{1,32}$",
        examples=["08701000"],
        description="The territory the chat's messages come from: the map says who answers.",
    )


class BindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: ChatChannel
    bot: str
    chat_id: str = Field(description="A chat's id, or `*` for every chat of the bot.")
    name: str
    region: str
    territory_code: str
    updated_by: uuid.UUID
    created_at: datetime
    updated_at: datetime


class WebhookAnswer(BaseModel):
    """What the webhook did with an update (Telegram reads only the status)."""

    taken: bool = Field(description="False: a redelivery, an update with no text, or a chat "
                        "no binding names; nothing was stored.")  # fmt: skip
    appeal_id: uuid.UUID | None = None


class WebhookIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"url": "https://telemed.example.ru/api/consult/channels/telegram/khabarovsk"}
            ]
        }
    )

    url: HttpUrl = Field(
        examples=["https://telemed.example.ru/api/consult/channels/telegram/khabarovsk"],
        description="Telegram calls webhooks over HTTPS only.",
    )
