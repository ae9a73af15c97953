"""The demo's way to the API: signed-in actors, and any unexpected answer as a failed step."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

# Problem fields worth showing besides title and detail: what state things were in, and why.
PROBLEM_FIELDS = ("current_status", "reason", "first_visit_status", "opens_at", "taken_start")


class StepFailed(Exception):
    """A step of the story went wrong; the message is what the user is shown."""


@dataclass(frozen=True)
class Actor:
    """Someone signed in: a user by password, or an API client by its credentials."""

    name: str
    token: str
    id: uuid.UUID | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def problem_text(response: httpx.Response) -> str:
    """`METHOD path -> status: title: detail (field=value...)`, from a problem document when
    the answer is one, else from the start of the body."""
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return f"{where}: {response.text[:300]}"
    if not isinstance(body, dict):
        return f"{where}: {str(body)[:300]}"
    title = body.get("title") or response.reason_phrase
    text = f"{where}: {title}"
    if body.get("detail"):
        text += f": {body['detail']}"
    extra = [f"{name}={body[name]}" for name in PROBLEM_FIELDS if body.get(name) is not None]
    extra += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in body.get("errors") or []]
    return text + (f" ({'; '.join(extra)})" if extra else "")


class Api:
    """Calls the gateway and checks each answer's status, so steps read as the story."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def call(
        self,
        method: str,
        path: str,
        actor: Actor | None = None,
        *,
        expect: int | Iterable[int] = 200,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        wanted = {expect} if isinstance(expect, int) else set(expect)
        sent = (actor.headers if actor else {}) | (headers or {})
        try:
            response = await self.client.request(method, path, headers=sent, **kwargs)
        except httpx.HTTPError as exc:
            raise StepFailed(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code not in wanted:
            raise StepFailed(problem_text(response))
        return response

    async def json(self, method: str, path: str, actor: Actor | None = None, **kwargs: Any) -> Any:
        return (await self.call(method, path, actor, **kwargs)).json()

    async def login(self, username: str, password: str) -> Actor:
        tokens = await self.json(
            "POST", "/api/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )  # fmt: skip
        token = str(tokens["access_token"])
        me = await self.json("GET", "/api/directory/me", Actor(username, token))
        return Actor(username, token, uuid.UUID(me["id"]))

    async def client_login(self, name: str, client_id: str, secret: str) -> Actor:
        tokens = await self.json(
            "POST", "/api/auth/token", data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )  # fmt: skip
        return Actor(name, str(tokens["access_token"]))
