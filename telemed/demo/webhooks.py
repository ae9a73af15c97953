"""The demo's webhook side: an API client with `webhooks:manage`, a receiver on loopback that
checks every delivery's signature, its subscription to every event type, and the delivery log."""

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gateway.webhooks.signing import ID_HEADER, verify_webhook
from services.common.outbox import EventType
from telemed.demo.api import Actor, Api, StepFailed

EVENT_TYPES = [event_type.value for event_type in EventType]  # the contract's, all of them
WEBHOOKS = "/api/webhooks"
CLIENT_NAME = "telemed demo webhook receiver"


@dataclass
class Receiver:
    """An HTTP endpoint on 127.0.0.1 that keeps what it was sent and whether it was signed."""

    secret: str = ""
    verified: Counter[str] = field(default_factory=Counter)  # event type -> signed deliveries
    rejected: int = 0
    event_ids: set[str] = field(default_factory=set)
    runner: web.AppRunner | None = None
    url: str = ""

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        # The signature covers the raw bytes: checked before anything of the body is trusted.
        if not verify_webhook(self.secret, request.headers, body):
            self.rejected += 1
            return web.Response(status=400, text="bad signature")
        event = json.loads(body)
        if event["id"] != request.headers.get(ID_HEADER):
            self.rejected += 1
            return web.Response(status=400, text="the event id and its header differ")
        if event["id"] not in self.event_ids:  # deliveries are at least once
            self.event_ids.add(event["id"])
            self.verified[str(event.get("type"))] += 1
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._receive)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hooks"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@dataclass
class Webhooks:
    """The demo's subscription, from registration to clean-up."""

    api: Api
    admin: Actor
    receiver: Receiver = field(default_factory=Receiver)
    client_record: str | None = None  # the API client's directory id, to revoke it after
    manager: Actor | None = None
    subscription_id: str | None = None

    async def subscribe(self, organization_id: str) -> dict[str, Any]:
        """Registers the API client (as the admin), signs it in, starts the receiver and
        subscribes it to every event type."""
        registered = await self.api.json(
            "POST", "/api/directory/api-clients", self.admin, expect=201,
            json={"name": CLIENT_NAME, "organization_id": organization_id,
                  "scopes": ["webhooks:manage"]},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        self.client_record = registered["id"]
        self.manager = await self.api.client_login(
            CLIENT_NAME, registered["client_id"], registered["client_secret"]
        )
        await self.receiver.start()
        body = {"url": self.receiver.url, "event_types": EVENT_TYPES,
                "description": "telemed demo: a receiver on loopback"}  # fmt: skip
        subscription: dict[str, Any] = await self.api.json(
            "POST", f"{WEBHOOKS}/subscriptions", self.manager, json=body, expect=201
        )
        self.subscription_id = subscription["id"]
        self.receiver.secret = subscription["secret"]
        return subscription

    async def wait_for(self, wanted: list[str], within: float) -> None:
        deadline = time.monotonic() + within
        while any(self.receiver.verified[kind] == 0 for kind in wanted):
            if time.monotonic() > deadline:
                missing = [kind for kind in wanted if self.receiver.verified[kind] == 0]
                raise StepFailed(
                    f"no signed delivery of {', '.join(missing)} within {within:.0f} s "
                    f"(received {dict(self.receiver.verified)}, {self.receiver.rejected} "
                    f"refused){await self._why()}"
                )
            await asyncio.sleep(0.2)

    async def _why(self) -> str:
        """What the gateway's log says of a delivery that did not arrive (the receiver is on
        this machine's loopback: a gateway elsewhere cannot reach it)."""
        stuck = [item for item in await self.deliveries() if item["status"] != "delivered"]
        if not stuck:
            return ""
        item = stuck[-1]
        said = item.get("last_error") or f"HTTP {item.get('last_status_code')}"
        return f"; the gateway's log: {item['event_type']} {item['status']}, {said}"

    async def deliveries(self) -> list[dict[str, Any]]:
        """The subscription's delivery log, newest first, every page."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"subscription_id": self.subscription_id, "limit": 100}
        while True:
            page = await self.api.json("GET", f"{WEBHOOKS}/deliveries", self.manager, params=params)
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]

    async def close(self) -> None:
        """Nothing is left to retry against a receiver that is gone: the subscription is
        deleted and the API client revoked, whatever happened before."""
        try:
            if self.subscription_id and self.manager:
                await self.api.call(
                    "DELETE", f"{WEBHOOKS}/subscriptions/{self.subscription_id}", self.manager,
                    expect=(204, 404),
                )  # fmt: skip
            if self.client_record:
                await self.api.call(
                    "POST", f"/api/directory/api-clients/{self.client_record}/revoke",
                    self.admin,
                )  # fmt: skip
        finally:
            await self.receiver.stop()
