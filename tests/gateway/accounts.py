"""Helpers for the account tests: the messages the gateway queued for people (its outbox,
read from its database), the token a password link carries, users and registered patients
with contacts, and the tokens of an API client, which has no account."""

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


async def register_patient(
    stack: Stack, by: Actor, organization: dict[str, Any], **person: Any
) -> dict[str, Any]:
    """A patient of `organization` registered by `by` (no password yet)."""
    registered = await stack.client.post(
        "/api/directory/patients",
        json={"organization_id": organization["id"], **person},
        headers=by.headers,
    )
    assert registered.status_code == 201, registered.text
    patient: dict[str, Any] = registered.json()
    return patient


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def api_client_tokens(stack: Stack) -> dict[str, Any]:
    """The tokens a new API client (a regional MIS reading consultations) is issued."""
    assert stack.admin is not None
    created = await stack.client.post(
        "/api/directory/api-clients",
        json={"name": "MIS", "organization_id": (await stack.organization())["id"],
              "scopes": ["consult:read"]},
        headers=stack.admin.headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    token = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(created.json()["client_id"], created.json()["client_secret"]),
    )
    assert token.status_code == 200, token.text
    tokens: dict[str, Any] = token.json()
    return tokens
