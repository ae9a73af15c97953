"""For the gateway's lifetime: the courier and the delivery log's pruning."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, select

from gateway.notify.channels import Sender
from gateway.notify.courier import Courier
from gateway.notify.delivery import NotifyMetrics
from gateway.notify.email import EmailSender
from gateway.notify.enums import Channel, DeliveryStatus
from gateway.notify.models import Delivery, Message
from gateway.notify.signing import UnsubscribeSigner
from gateway.notify.sms import SmscSender
from gateway.settings import GatewaySettings
from services.common.db import Database, utcnow
from services.common.jobs import periodic_job

PRUNE_INTERVAL = 3600.0


def unsubscribe_signer(settings: GatewaySettings) -> UnsubscribeSigner:
    path = settings.notify_unsubscribe_key_path
    return UnsubscribeSigner.from_file(path or settings.var_dir / "gateway" / "unsubscribe.key")


async def prune_log(database: Database, settings: GatewaySettings, now: datetime) -> int:
    """Forgets messages older than `notify_log_retention_days` (with their deliveries and
    attempts) once none of their deliveries is still to be sent; returns how many."""
    before = now - timedelta(days=settings.notify_log_retention_days)
    unsettled = select(Delivery.message_id).where(
        Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING))
    )
    async with database.sessionmaker.begin() as session:
        pruned = await session.scalars(
            delete(Message)
            .where(Message.created_at < before, Message.id.not_in(unsettled))
            .returning(Message.id)
        )
        return len(pruned.all())


@asynccontextmanager
async def notify_jobs(app: FastAPI, settings: GatewaySettings) -> AsyncIterator[Courier]:
    """Yields the running courier, for whatever makes messages outside a request to wake."""
    database: Database = app.state.database
    app.state.notify_signer = unsubscribe_signer(settings)
    app.state.notify_metrics = NotifyMetrics(app.state.metrics_registry)
    async with AsyncExitStack() as stack:
        senders: dict[Channel, Sender] = {Channel.EMAIL: EmailSender(settings)}
        if settings.sms_provider == "smsc":
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(settings.sms_timeout),
                limits=httpx.Limits(max_connections=settings.notify_concurrency),
                follow_redirects=False,  # the credentials go in the body: to SMSC only
            )
            stack.push_async_callback(client.aclose)
            senders[Channel.SMS] = SmscSender(settings, client)
        courier = Courier(
            database, settings, senders, app.state.notify_signer, app.state.notify_metrics
        )
        app.state.notify_senders = senders
        app.state.notify_courier = await stack.enter_async_context(courier.running())

        async def prune() -> None:
            await prune_log(database, settings, utcnow())

        await stack.enter_async_context(
            periodic_job("notify-log-pruning", PRUNE_INTERVAL, prune, tracing=app.state.tracing)
        )
        yield courier
