"""Helpers for the account tests: the messages the gateway queued for people (its outbox,
read from its database), the token a password link carries, and users with contacts."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from gateway.notify.enums import Template
from gateway.notify.models import Message
from tests.conftest import Actor, Stack

USERS = "/api/directory/users"


async def messages(stack: Stack, template: Template) -> list[Message]:
    """The messages of `template` in the gateway's outbox, oldest first."""
    async with stack.apps["gateway"].state.database.sessionmaker() as session:
        rows = await session.scalars(
            select(Message).where(Message.template == template).order_by(Message.created_at)
        )
        return list(rows.all())


def link_token(message: Message) -> str:
    query = parse_qs(urlsplit(str(message.params["link"])).query)
    (token,) = query["token"]
    return token


async def set_contacts(stack: Stack, user: Actor | dict[str, Any], **contacts: Any) -> None:
    assert stack.admin is not None
    user_id = user.id if isinstance(user, Actor) else user["id"]
    response = await stack.client.patch(
        f"{USERS}/{user_id}", json=contacts, headers=stack.admin.headers
    )
    assert response.status_code == 200, response.text


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
