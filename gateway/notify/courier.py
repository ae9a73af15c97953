"""The delivery worker: renders and sends the deliveries it claims, a few at a time, beside the
gateway's requests and never in them (gateway/notify/delivery.py claims and settles)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from gateway.notify.channels import Outgoing, Sender, SendError
from gateway.notify.delivery import (
    Claim,
    NotifyMetrics,
    Result,
    claim_due,
    record_attempt,
    send_bound,
)
from gateway.notify.enums import AttemptOutcome, Category, Channel
from gateway.notify.signing import UnsubscribeSigner
from gateway.notify.templates import RenderError, render
from gateway.settings import GatewaySettings
from services.common.db import Database, utcnow
from services.common.jobs import Worker

logger = logging.getLogger("telemed.notify")


class Courier(Worker):
    """Runs for the app's lifetime (or a test's): polls for due deliveries every
    `notify_poll_interval` seconds, `wake()` at once, and sends at most `notify_concurrency`
    at a time."""

    def __init__(
        self,
        database: Database,
        settings: GatewaySettings,
        senders: Mapping[Channel, Sender],
        signer: UnsubscribeSigner,
        metrics: NotifyMetrics,
    ) -> None:
        super().__init__("notify courier", settings.notify_poll_interval, logger)
        self.database = database
        self.settings = settings
        self.senders = senders
        self.signer = signer
        self.metrics = metrics

    @asynccontextmanager
    async def running(self) -> AsyncIterator["Courier"]:
        async with self.looping(grace=send_bound(self.settings) + 2):
            yield self

    async def run_once(self) -> None:
        free = min(self.settings.notify_concurrency - self.busy, self.settings.notify_batch)
        if free <= 0:
            return
        for claim in await claim_due(self.database, self.settings, free, utcnow()):
            self.launch(self.attempt(claim), name=f"notify {claim.delivery_id}")

    def _outgoing(self, claim: Claim) -> Outgoing:
        category = claim.template.category
        unsubscribe = (
            self.signer.url(self.settings.public_url, claim.recipient_id, category)
            if claim.channel is Channel.EMAIL and category is not Category.ACCOUNT
            else None
        )
        rendered = render(
            claim.template,
            claim.channel,
            claim.language,
            claim.params,
            recipient_name=claim.recipient_name,
            unsubscribe_url=unsubscribe,
        )
        return Outgoing(claim.delivery_id, claim.address, claim.recipient_name, rendered)

    async def _send(self, claim: Claim) -> Result:
        sender = self.senders.get(claim.channel)
        if sender is None:
            return Result(
                error=SendError(f"no {claim.channel.value} provider is configured", retry=False)
            )
        try:
            outgoing = self._outgoing(claim)
        except RenderError as exc:
            return Result(error=SendError(f"cannot render: {exc}", retry=False))
        # Bounded below the lease, so no other worker takes the delivery while this one is
        # still talking to the server (each SMTP or HTTP step has its own time-out too).
        bound = send_bound(self.settings)
        try:
            async with asyncio.timeout(bound):
                return Result(provider_message_id=await sender.send(outgoing))
        except SendError as exc:
            return Result(error=exc)
        except TimeoutError:
            return Result(error=SendError(f"not sent within {bound:g} s", retry=True))

    async def attempt(self, claim: Claim) -> None:
        """Sends one claimed delivery and settles it."""
        at, started = utcnow(), time.perf_counter()
        result = await self._send(claim)
        outcome = await record_attempt(
            self.database,
            self.settings,
            claim,
            result,
            at=at,
            duration_ms=round((time.perf_counter() - started) * 1000),
            metrics=self.metrics,
        )
        if outcome is AttemptOutcome.FAILED and result.error:
            logger.warning(
                "notify delivery %s (%s) failed: %s",
                claim.delivery_id,
                claim.channel.value,
                result.error.detail,
            )
