"""The webhook dispatcher: claims due deliveries, posts them signed, records each attempt.

It runs beside the gateway's requests, never in them: a bounded number of deliveries at once,
each with a time-out, through its own HTTP client, and no database transaction is open while
a request to a receiver is. Claims are leases (`lease_until`, `lease_token`) taken with a
conditional UPDATE, under `FOR UPDATE SKIP LOCKED` on PostgreSQL, so gateway replicas sharing
one database never send one delivery twice at the same time; a replica that dies mid-attempt
leaves a lease that simply runs out.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased

from gateway.settings import GatewaySettings
from gateway.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from gateway.webhooks.service import signing_secrets
from gateway.webhooks.signing import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    delivery_headers,
)
from gateway.webhooks.targets import PinnedTransport, TargetRefused, url_problem
from services.common.db import Database, utcnow
from services.common.jobs import Worker
from services.common.leases import Lease, lease_free, settle, take

logger = logging.getLogger("telemed.webhooks")
MAX_ERROR = 500
PAUSED_SWEEP_SECONDS = 60.0


@dataclass(frozen=True)
class Claim(Lease):
    """The lease, and what posting needs: the receiver, its secrets and the signed event."""

    url: str
    secrets: list[str]
    event_id: uuid.UUID
    event_type: str
    body: bytes


def _lease_seconds(settings: GatewaySettings) -> float:
    return 2 * settings.webhook_delivery_timeout + 5


async def claim_due(
    database: Database, settings: GatewaySettings, limit: int, now: datetime
) -> list[Claim]:
    """Leases up to `limit` due deliveries. One waits while an earlier delivery of its
    subscription for the same resource is pending (replays are exempt and block nothing)."""
    delivery, earlier = WebhookDelivery, aliased(WebhookDelivery)
    blocked = (
        select(earlier.id)
        .where(
            earlier.subscription_id == delivery.subscription_id,
            earlier.resource_type == delivery.resource_type,
            earlier.resource_id == delivery.resource_id,
            earlier.status == DeliveryStatus.PENDING,
            earlier.is_replay.is_(False),
            earlier.event_seq < delivery.event_seq,
        )
        .exists()
    )
    free = lease_free(delivery, now)
    candidates = (
        select(delivery.id)
        .join(WebhookSubscription, WebhookSubscription.id == delivery.subscription_id)
        .where(
            delivery.status == DeliveryStatus.PENDING,
            delivery.next_attempt_at <= now,
            free,
            WebhookSubscription.active.is_(True),
            or_(delivery.is_replay.is_(True), ~blocked),
        )
        .order_by(delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=delivery)
    )
    still_due = (delivery.status == DeliveryStatus.PENDING, free)
    until = now + timedelta(seconds=_lease_seconds(settings))
    async with database.sessionmaker.begin() as session:
        token, claimed = await take(session, delivery, candidates, still_due, until)
        if not claimed:
            return []
        rows = await session.execute(
            select(delivery, WebhookSubscription, WebhookEvent.body)
            .join(WebhookSubscription, WebhookSubscription.id == delivery.subscription_id)
            .join(WebhookEvent, WebhookEvent.id == delivery.event_id)
            .where(delivery.id.in_(claimed))
            .order_by(delivery.next_attempt_at)
        )
        return [
            Claim(
                delivery_id=row.id,
                lease_token=token,
                attempts=row.attempts,
                give_up_at=row.give_up_at,
                url=subscription.url,
                secrets=signing_secrets(subscription, now),
                event_id=row.event_id,
                event_type=row.event_type,
                body=body.encode(),
            )
            for row, subscription, body in rows
        ]


async def record_attempt(
    database: Database,
    settings: GatewaySettings,
    claim: Claim,
    *,
    at: datetime,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    """Logs the attempt and settles the delivery: delivered on a 2xx, else due again after
    the backoff, or failed once its retry window has passed (the last try falls on its end)."""
    now = utcnow()
    values: dict[str, object] = {
        "attempts": WebhookDelivery.attempts + 1,
        "last_status_code": status_code,
        "last_error": error,
    }
    if status_code is not None and 200 <= status_code < 300:
        values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "next_attempt_at": None}
    elif now >= claim.give_up_at:
        values |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    else:
        values["next_attempt_at"] = claim.retry_at(
            now,
            base=settings.webhook_backoff_base,
            cap=settings.webhook_backoff_cap,
            jitter=settings.webhook_backoff_jitter,
        )
    async with database.sessionmaker.begin() as session:
        if not await settle(session, WebhookDelivery, claim, values):
            logger.warning("webhook delivery %s: settled elsewhere", claim.delivery_id)
            return
        session.add(
            WebhookAttempt(
                delivery_id=claim.delivery_id,
                at=at,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
        )


async def fail_paused(database: Database, now: datetime) -> None:
    """Pending deliveries of paused subscriptions fail once their retry window is over."""
    async with database.sessionmaker.begin() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.give_up_at <= now,
                WebhookDelivery.subscription_id.in_(
                    select(WebhookSubscription.id).where(WebhookSubscription.active.is_(False))
                ),
            )
            .values(
                status=DeliveryStatus.FAILED,
                next_attempt_at=None,
                last_error="The subscription was paused until the retry window ended.",
            )
        )


class Dispatcher(Worker):
    """Runs for the app's lifetime; `wake()` makes it look for due deliveries at once."""

    def __init__(self, database: Database, settings: GatewaySettings) -> None:
        super().__init__("webhook dispatcher", settings.webhook_poll_interval, logger)
        self.database = database
        self.settings = settings
        self._client: httpx.AsyncClient | None = None
        self._last_sweep = float("-inf")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        settings = self.settings
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.webhook_delivery_timeout),
            # Each connection checks the addresses it connects to (gateway/webhooks/targets.py).
            transport=PinnedTransport(
                allow_private=settings.webhook_allow_private_targets,
                limits=httpx.Limits(
                    max_connections=settings.webhook_concurrency,
                    max_keepalive_connections=settings.webhook_concurrency,
                ),
            ),
            follow_redirects=False,  # a redirect could lead the signed body anywhere
            trust_env=False,
        )
        try:
            # Attempts cut short are sent by another replica, or the next start.
            async with self.looping(grace=settings.webhook_delivery_timeout + 2):
                yield
        finally:
            await self._client.aclose()

    async def run_once(self) -> None:
        now = utcnow()
        if time.monotonic() - self._last_sweep >= PAUSED_SWEEP_SECONDS:
            await fail_paused(self.database, now)
            self._last_sweep = time.monotonic()
        free = self.settings.webhook_concurrency - self.busy
        if free <= 0:
            return
        for claim in await claim_due(self.database, self.settings, free, now):
            self.launch(self._attempt(claim), name=f"webhook {claim.delivery_id}")

    async def _attempt(self, claim: Claim) -> None:
        at, started = utcnow(), time.perf_counter()
        # The host's addresses are checked by the connection itself, not by a look-up here
        # that a rebound name could answer differently.
        status_code, error = (
            None,
            url_problem(claim.url, self.settings.webhook_allow_private_targets),
        )
        if error is None:
            status_code, error = await self._post(claim)
        await record_attempt(
            self.database,
            self.settings,
            claim,
            at=at,
            status_code=status_code,
            error=error,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )

    async def _post(self, claim: Claim) -> tuple[int | None, str | None]:
        assert self._client is not None
        timeout = self.settings.webhook_delivery_timeout
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: str(claim.event_id),
            EVENT_TYPE_HEADER: claim.event_type,
            DELIVERY_ID_HEADER: str(claim.delivery_id),
            "User-Agent": "telemed-webhooks/1",
            # `webhook-id` is the event's id: the same on every retry and replay, so a
            # receiver deduplicates on it (the delivery id differs per replay).
            **delivery_headers(
                claim.secrets,
                str(claim.event_id),
                claim.body,
                int(time.time()),
                legacy=self.settings.webhook_legacy_signature,
            ),
        }
        try:
            # httpx's time-out is per read; this bounds a receiver that trickles its answer.
            async with asyncio.timeout(timeout):
                request = self._client.stream(
                    "POST", claim.url, content=claim.body, headers=headers
                )
                async with request as response:  # the body is not read: only the status counts
                    return response.status_code, None
        except (TimeoutError, httpx.TimeoutException):
            return None, f"No answer within {timeout:g} s."
        except httpx.HTTPError as exc:
            if isinstance(exc.__cause__, TargetRefused):
                return None, str(exc.__cause__)[:MAX_ERROR]
            return None, (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[
                :MAX_ERROR
            ]
