"""Webhook test kit: a real receiver on loopback, a stack with fast webhook timings, API clients
that manage subscriptions, and events handed straight to the relay's store."""

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.webhooks.relay import store_events
from services.common.db import Database, utcnow
from services.common.outbox import EventResource, OutboxEvent
from tests.conftest import Actor, Stack, running_stack
from tests.consult.conftest import _api_client
from tests.servers import serve

T = TypeVar("T")
HOOKS = "/api/webhooks"
# Seconds where production has minutes and hours, so retries and time-outs fit in a test.
FAST_WEBHOOKS: dict[str, Any] = {
    "webhook_relay_interval": 0.1,
    "webhook_relay_idle_interval": 0.1,
    "webhook_poll_interval": 0.05,
    "webhook_delivery_timeout": 1.0,
    "webhook_backoff_base": 0.2,
    "webhook_backoff_cap": 5.0,
    "webhook_backoff_jitter": 0.1,
    "webhook_retry_window": 60.0,
}


@dataclass
class Received:
    endpoint: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """Answers `POST /hooks/<name>` with 204, or 500 while a failure count for the endpoint or
    the event id lasts; a `slow` endpoint holds every request until the test ends."""

    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    slow: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, name: str) -> str:
        return f"{self.base_url}/hooks/{name}"

    def at(self, name: str) -> list[Received]:
        return [request for request in self.received if request.endpoint == name]

    async def _hook(self, request: Request) -> Response:
        name = request.path_params["name"]
        arrived = Received(name, dict(request.headers), await request.body(), time.monotonic())
        self.received.append(arrived)
        if name in self.slow:
            await self.release.wait()
        for key in (name, arrived.headers.get("telemed-event-id", "")):
            if self.failures.get(key, 0) > 0:
                self.failures[key] -= 1
                return Response(status_code=500)
        return Response(status_code=204)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["Receiver"]:
        app = Starlette(routes=[Route("/hooks/{name}", self._hook, methods=["POST"])])
        async with serve(app) as base_url:
            self.base_url = base_url
            try:
                yield self
            finally:
                self.release.set()  # held requests end, so the server can stop


@contextlib.asynccontextmanager
async def webhook_stack(
    urls: dict[str, str], var_dir: Path, **gateway: Any
) -> AsyncIterator[Stack]:
    async with running_stack(urls, var_dir, {"gateway": FAST_WEBHOOKS | gateway}) as stack:
        yield stack


async def manager(
    stack: Stack, organization: dict[str, Any], scopes: tuple[str, ...] = ("webhooks:manage",)
) -> Actor:
    """An API client of `organization` that manages webhooks."""
    return await _api_client(stack, organization, list(scopes))


async def subscribe(
    stack: Stack, actor: Actor, url: str, event_types: list[str] | None = None
) -> dict[str, Any]:
    response = await stack.client.post(
        f"{HOOKS}/subscriptions",
        json={"url": url, "event_types": event_types or ["case.submitted", "case.concluded"]},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    subscription: dict[str, Any] = response.json()
    return subscription


def event(
    organization_ids: list[Any],
    *,
    type: str = "case.submitted",
    resource_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> OutboxEvent:
    return OutboxEvent(
        id=uuid.uuid4(),
        type=type,
        occurred_at=occurred_at or utcnow(),
        source="consult",
        resource=EventResource(type="case", id=resource_id or uuid.uuid4()),
        organization_ids=[uuid.UUID(str(org)) for org in organization_ids],
        data={"status": "submitted", "urgency": "urgent"},
    )


async def relay(stack: Stack, *events: OutboxEvent, wake: bool = True) -> int:
    """Stores events as the relay does after pulling them, and wakes the dispatcher."""
    gateway = stack.apps["gateway"]
    database: Database = gateway.state.database
    async with database.sessionmaker.begin() as session:
        created = (await store_events(session, list(events), gateway.state.settings)).deliveries
    if wake:
        gateway.state.webhook_dispatcher.wake()
    return created


async def eventually(
    fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float = 10.0
) -> T:
    """Polls `fetch` until `done` holds for its result; fails at the deadline."""
    deadline = time.monotonic() + within
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {within} s: {value!r}")
        await asyncio.sleep(0.05)


async def deliveries(stack: Stack, actor: Actor, **params: Any) -> list[dict[str, Any]]:
    response = await stack.client.get(f"{HOOKS}/deliveries", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def settled(stack: Stack, actor: Actor, count: int, within: float = 10.0) -> list[Any]:
    """The caller's deliveries once `count` of them are no longer pending, newest first."""

    def all_settled(items: list[dict[str, Any]]) -> bool:
        done = [item for item in items if item["status"] != "pending"]
        return len(done) >= count

    return await eventually(lambda: deliveries(stack, actor), all_settled, within)
