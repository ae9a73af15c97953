"""The event relay: pulls the services' outboxes into stored events and their deliveries.

It pulls each event source's outbox with a token the gateway mints for itself, stores the
events once each with a delivery per matching subscription, commits, then acks.

A crash between the commit and the ack only means the next pull sees the events again; the
insert is idempotent on the event id, so they are neither stored nor delivered twice. Several
gateway replicas may relay at once for the same reason. The messages an event owes people
(gateway/notify/producers/) are queued in the same transaction, so they are made once too.

With no subscription at all the feeds are read only every `webhook_relay_idle_interval`,
except those whose events become messages (consult's and scheduling's): they keep the normal
pace while any active person has an email address or a phone number, so an invitation does not
wait a minute. A gateway nobody subscribes to and nobody can be told through still polls
nothing more than before, and video's feed, which tells no one, stays at the idle pace.
"""

import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import ApiClient
from gateway.notify.courier import Courier
from gateway.notify.producers.context import Links
from gateway.notify.producers.events import NOTIFY_SOURCES, MessageProducer
from gateway.notify.producers.people import anyone_reachable
from gateway.proxy import Upstreams
from gateway.settings import GatewaySettings
from gateway.tokens import TokenIssuer
from gateway.webhooks.delivery import Dispatcher
from gateway.webhooks.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from services.common.auth import Principal, Role
from services.common.db import Database, utcnow
from services.common.errors import ProblemError
from services.common.jobs import periodic_job
from services.common.outbox import RELAY_SCOPE, OutboxEvent, OutboxFeed

logger = logging.getLogger("telemed.webhooks")
RELAY_PRINCIPAL = Principal(
    subject=uuid.uuid5(uuid.NAMESPACE_URL, "telemed:gateway:event-relay"),
    username="gateway-event-relay",
    role=Role.API_CLIENT,
    scopes=frozenset({RELAY_SCOPE}),
)
MAX_PAGES_PER_RUN = 20
PRUNE_INTERVAL = 3600.0


class RelayError(Exception):
    """A source's feed could not be read or acknowledged; the next run tries again."""


async def _subscribers(session: AsyncSession) -> list[WebhookSubscription]:
    """Subscriptions whose owner (if an API client) has not been revoked. Paused ones too:
    their deliveries wait for them to resume, within the retry window."""
    rows = await session.scalars(
        select(WebhookSubscription)
        .outerjoin(ApiClient, ApiClient.id == WebhookSubscription.owner_id)
        .where(or_(ApiClient.id.is_(None), ApiClient.is_active.is_(True)))
    )
    return list(rows)


def _entitled(subscription: WebhookSubscription, event: OutboxEvent) -> bool:
    if event.type not in subscription.event_types:
        return False
    return (
        subscription.organization_id is None
        or subscription.organization_id in event.organization_ids
    )


@dataclass
class Stored:
    """What storing a batch made: webhook deliveries, and messages to people."""

    deliveries: int = 0
    messages: int = 0


async def store_events(
    session: AsyncSession,
    events: Sequence[OutboxEvent],
    settings: GatewaySettings,
    messages: MessageProducer | None = None,
) -> Stored:
    """Stores events not seen before, in order, each with a pending delivery per subscription
    entitled to it and, given `messages`, the messages it owes people; returns how many of
    each were made. Flushes, does not commit."""
    dialect = session.get_bind().dialect.name
    insert_event = postgresql.insert if dialect == "postgresql" else sqlite.insert
    subscriptions = await _subscribers(session)
    window = timedelta(seconds=settings.webhook_retry_window)
    stored = Stored()
    for event in events:
        seq = await session.scalar(
            insert_event(WebhookEvent)
            .values(
                id=event.id,
                type=event.type,
                source=event.source,
                occurred_at=event.occurred_at,
                received_at=utcnow(),
                body=event.model_dump_json(),
            )
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(WebhookEvent.seq)
        )
        if seq is None:
            continue  # stored by an earlier run or another replica, with its deliveries
        rows = [
            {
                "id": uuid.uuid4(),
                "subscription_id": subscription.id,
                "event_id": event.id,
                "event_seq": seq,
                "event_type": event.type,
                "resource_type": event.resource.type,
                "resource_id": event.resource.id,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": utcnow(),
                "give_up_at": event.occurred_at + window,
                "created_at": utcnow(),
            }
            for subscription in subscriptions
            if _entitled(subscription, event)
        ]
        if rows:
            await session.execute(insert(WebhookDelivery), rows)
            stored.deliveries += len(rows)
        if messages is not None:
            stored.messages += await messages.produce(session, event)
    await session.flush()
    return stored


class Relay:
    """One run pulls every source until its feed is empty (or a page limit is reached); the
    workers that send what a batch made are woken once it is committed, so a booking's
    invitation does not wait for the courier's next poll."""

    def __init__(
        self,
        database: Database,
        settings: GatewaySettings,
        upstreams: Upstreams,
        issuer: TokenIssuer,
        dispatcher: Dispatcher,
        messages: MessageProducer,
        courier: Courier,
    ) -> None:
        self.database = database
        self.settings = settings
        self.upstreams = upstreams
        self.issuer = issuer
        self.dispatcher = dispatcher
        self.messages = messages
        self.courier = courier
        self._token: tuple[str, float] | None = None
        self._last_drain = time.monotonic()

    def _bearer(self) -> dict[str, str]:
        """A relay token, minted anew when half its life is gone."""
        now = time.monotonic()
        if self._token is None or now > self._token[1]:
            self._token = (
                self.issuer.issue(RELAY_PRINCIPAL),
                now + self.issuer.lifetime_seconds / 2,
            )
        return {"Authorization": f"Bearer {self._token[0]}"}

    async def _call(self, source: str, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self.upstreams.request(
                source,
                method,
                f"/api/{source}/internal/outbox{path}",
                headers=self._bearer(),
                timeout=aiohttp.ClientTimeout(total=self.settings.proxy_read_timeout),
                **kwargs,
            )
            async with response:
                if response.status >= 300:
                    raise RelayError(f"{method} {path or '/'}: status {response.status}")
                return await response.json() if response.status == 200 else None
        except (aiohttp.ClientError, ValueError) as exc:
            raise RelayError(f"{method} {path or '/'}: {exc}") from exc

    async def _pull(self, source: str) -> list[OutboxEvent]:
        limit = self.settings.webhook_relay_batch
        document = await self._call(source, "GET", f"?limit={limit}")
        try:
            return OutboxFeed.model_validate(document).events
        except ValidationError as exc:
            raise RelayError(f"the {source} feed is not an event list: {exc}") from exc

    async def relay_source(self, source: str) -> int:
        """Relays one source until its feed is drained; returns how many events it took."""
        taken = 0
        for _ in range(MAX_PAGES_PER_RUN):
            events = await self._pull(source)
            if not events:
                break
            async with self.database.sessionmaker.begin() as session:
                stored = await store_events(session, events, self.settings, self.messages)
            if stored.deliveries:
                self.dispatcher.wake()
            if stored.messages:
                self.courier.wake()
            await self._call(source, "POST", "/ack", json={"ids": [str(e.id) for e in events]})
            taken += len(events)
            if len(events) < self.settings.webhook_relay_batch:
                break
        return taken

    async def _due_sources(self) -> list[str]:
        """Every source while anyone subscribes, and once per idle interval; in between, the
        sources whose events become messages, while anyone could be told."""
        sources = self.settings.event_sources
        idle_for = time.monotonic() - self._last_drain
        if idle_for >= self.settings.webhook_relay_idle_interval:
            self._last_drain = time.monotonic()
            return sources
        async with self.database.sessionmaker() as session:
            if await session.scalar(select(func.count(WebhookSubscription.id))):
                self._last_drain = time.monotonic()
                return sources
            if not await anyone_reachable(session):
                return []
        return [source for source in sources if source in NOTIFY_SOURCES]

    async def run_once(self) -> None:
        for source in await self._due_sources():
            if source not in self.upstreams.urls:
                continue  # not published by this gateway (a test stack, a partial deployment)
            try:
                taken = await self.relay_source(source)
            except (RelayError, ProblemError) as exc:  # the proxy reports a service down so
                logger.warning("webhook relay: the %s outbox: %s", source, exc)
                continue
            if taken:
                logger.info("webhook relay: %d events from %s", taken, source)


async def prune_log(database: Database, settings: GatewaySettings, now: datetime) -> None:
    """Forgets settled deliveries (with their attempts) and then events nobody still needs,
    after `webhook_log_retention_days`."""
    before = now - timedelta(days=settings.webhook_log_retention_days)
    async with database.sessionmaker.begin() as session:
        await session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.status != DeliveryStatus.PENDING,
                WebhookDelivery.created_at < before,
            )
        )
        await session.execute(
            delete(WebhookEvent).where(
                WebhookEvent.received_at < before,
                WebhookEvent.id.not_in(select(WebhookDelivery.event_id)),
            )
        )


@asynccontextmanager
async def webhook_jobs(
    app: FastAPI,
    settings: GatewaySettings,
    upstreams: Upstreams,
    issuer: TokenIssuer,
    courier: Courier,
) -> AsyncIterator[None]:
    """For the gateway's lifetime: the dispatcher, the relay (waking `courier` for the
    messages it makes) and the log's pruning."""
    database: Database = app.state.database
    dispatcher = Dispatcher(database, settings)
    messages = MessageProducer(Links(app.state.visit_links, settings.public_url))
    relay = Relay(database, settings, upstreams, issuer, dispatcher, messages, courier)
    app.state.webhook_dispatcher = dispatcher

    async def prune() -> None:
        await prune_log(database, settings, utcnow())

    tracing = app.state.tracing
    async with (
        dispatcher.running(),
        periodic_job(
            "webhook-relay", settings.webhook_relay_interval, relay.run_once, tracing=tracing
        ),
        periodic_job("webhook-log-pruning", PRUNE_INTERVAL, prune, tracing=tracing),
    ):
        yield
