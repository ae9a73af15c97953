"""Claiming due deliveries and settling each attempt: the delivery worker's database side.

Claims are leases (`status` sending, `lease_until`, `lease_token`) taken with a conditional
UPDATE, under `FOR UPDATE SKIP LOCKED` on PostgreSQL, so gateway replicas sharing one database
never send one delivery at the same time; a worker that dies mid-send leaves a lease that runs
out, and the delivery is sent again, with the same Message-ID, by whoever claims it next. No
database transaction is open while a server or provider is being talked to.
"""

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import select

from gateway.models import User
from gateway.notify.channels import SendError
from gateway.notify.enums import AttemptOutcome, Channel, DeliveryStatus, Template
from gateway.notify.models import MAX_ERROR, Delivery, DeliveryAttempt, Message
from gateway.settings import GatewaySettings
from services.common.db import Database, utcnow
from services.common.leases import Lease, lease_free, settle, take

logger = logging.getLogger("telemed.notify")
DUE = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class NotifyMetrics:
    """Counters per channel on the gateway's `/metrics`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter(
            "notify_sent_total", "Deliveries accepted", ["channel"], registry=registry
        )
        self.retried = Counter(
            "notify_retried_total", "Attempts that failed and will be tried again", ["channel"],
            registry=registry,
        )  # fmt: skip
        self.failed = Counter(
            "notify_failed_total", "Deliveries given up", ["channel"], registry=registry
        )


@dataclass(frozen=True)
class Claim(Lease):
    """The lease, and what sending needs: the address, the message and its recipient."""

    channel: Channel
    address: str
    template: Template
    params: Mapping[str, Any]
    recipient_id: uuid.UUID
    recipient_name: str
    language: str


def send_bound(settings: GatewaySettings) -> float:
    """The longest one send may take, whatever its steps' own time-outs add up to."""
    return 2 * max(settings.smtp_timeout, settings.sms_timeout)


def _lease_seconds(settings: GatewaySettings) -> float:
    return send_bound(settings) + 5  # longer than any send: no one else takes it meanwhile


async def claim_due(
    database: Database, settings: GatewaySettings, limit: int, now: datetime
) -> list[Claim]:
    """Leases up to `limit` due deliveries: pending ones whose time has come, and sending
    ones whose worker's lease ran out."""
    due = (Delivery.status.in_(DUE), Delivery.next_attempt_at <= now, lease_free(Delivery, now))
    candidates = (
        select(Delivery.id)
        .where(*due)
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    until = now + timedelta(seconds=_lease_seconds(settings))
    async with database.sessionmaker.begin() as session:
        token, claimed = await take(
            session, Delivery, candidates, due, until, status=DeliveryStatus.SENDING
        )
        if not claimed:
            return []
        rows = await session.execute(
            select(Delivery, Message, User.full_name, User.language)
            .join(Message, Message.id == Delivery.message_id)
            .join(User, User.id == Message.recipient_id)
            .where(Delivery.id.in_(claimed))
            .order_by(Delivery.next_attempt_at)
        )
        window = timedelta(seconds=settings.notify_give_up_after)
        return [
            Claim(
                delivery_id=delivery.id,
                lease_token=token,
                attempts=delivery.attempts,
                give_up_at=delivery.created_at + window,
                channel=delivery.channel,
                address=delivery.address,
                template=message.template,
                params=message.params,
                recipient_id=message.recipient_id,
                recipient_name=full_name,
                language=language,
            )
            for delivery, message, full_name, language in rows
        ]


@dataclass(frozen=True)
class Result:
    provider_message_id: str | None = None
    error: SendError | None = None


async def record_attempt(
    database: Database,
    settings: GatewaySettings,
    claim: Claim,
    result: Result,
    *,
    at: datetime,
    duration_ms: int,
    metrics: NotifyMetrics,
) -> AttemptOutcome | None:
    """Logs the attempt and settles the delivery: sent, due again after the backoff, or failed
    (refused for good, or its give-up window is over: the last try falls on its end)."""
    now = utcnow()
    error = result.error
    values: dict[str, object] = {
        "attempts": Delivery.attempts + 1,
        "last_error": error.detail[:MAX_ERROR] if error else None,
    }
    if error is None:
        outcome = AttemptOutcome.SENT
        values |= {
            "status": DeliveryStatus.SENT,
            "sent_at": now,
            "next_attempt_at": None,
            "provider_message_id": result.provider_message_id,
        }
    elif error.retry and now < claim.give_up_at:
        outcome = AttemptOutcome.RETRY
        retry_at = claim.retry_at(
            now,
            base=settings.notify_backoff_base,
            cap=settings.notify_backoff_cap,
            jitter=settings.notify_backoff_jitter,
        )
        values |= {"status": DeliveryStatus.PENDING, "next_attempt_at": retry_at}
    else:
        outcome = AttemptOutcome.FAILED
        values |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    async with database.sessionmaker.begin() as session:
        if not await settle(session, Delivery, claim, values):
            logger.warning("notify delivery %s: settled elsewhere", claim.delivery_id)
            return None
        session.add(
            DeliveryAttempt(
                delivery_id=claim.delivery_id,
                at=at,
                outcome=outcome,
                error=values["last_error"],
                duration_ms=duration_ms,
            )
        )
    counter = {
        AttemptOutcome.SENT: metrics.sent,
        AttemptOutcome.RETRY: metrics.retried,
        AttemptOutcome.FAILED: metrics.failed,
    }[outcome]
    counter.labels(claim.channel.value).inc()
    return outcome
