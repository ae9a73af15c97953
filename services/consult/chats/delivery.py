"""The chats' courier: claims the outgoing messages owed to chats, sends each through its
channel's adapter, and settles it: sent, due again after the channel's `retry_after` or the
backoff, or failed once refused for good or past its window. A channel refusing the bot itself
(a wrong or rotated token) is no fault of the message: it stays pending, retried on the
backoff, its `last_error` saying what an administrator must do, until its window ends.

Claims are leases (`services/common/leases.py`), so consult replicas never send one message at
the same time, and an appeal's earlier message that is still pending holds back its later ones,
so a chat reads them in order. Telegram takes no idempotency key: a message whose answer was
lost after Telegram accepted it is sent again, the one way it can arrive twice.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import aliased

from services.common.db import Database
from services.common.jobs import Worker
from services.common.leases import Lease, lease_free, settle, take
from services.consult.appeals.enums import DeliveryStatus
from services.consult.appeals.models import AppealMessage, MessageDelivery
from services.consult.chats.adapters import ChannelAdapter, Sent
from services.consult.chats.enums import ChatChannel, SendOutcome
from services.consult.chats.models import ChatConversation
from services.consult.chats.telegram import TOKEN_HINT, TelegramAdapter
from services.consult.settings import ConsultSettings

logger = logging.getLogger("telemed.chats")


@dataclass(frozen=True)
class Claim(Lease):
    bot: str
    chat_id: str
    text: str


async def claim_due(database: Database, limit: int, lease_for: float, now: datetime) -> list[Claim]:
    delivery, earlier = MessageDelivery, aliased(MessageDelivery)
    blocked = (
        select(earlier.id)
        .where(
            earlier.appeal_id == delivery.appeal_id,
            earlier.status == DeliveryStatus.PENDING,
            earlier.message_id < delivery.message_id,
        )
        .exists()
    )
    free = lease_free(delivery, now)
    candidates = (
        select(delivery.id)
        .where(
            delivery.status == DeliveryStatus.PENDING,
            delivery.channel == ChatChannel.TELEGRAM.value,
            delivery.next_attempt_at <= now,
            free,
            ~blocked,
        )
        .order_by(delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=delivery)
    )
    still_due = (delivery.status == DeliveryStatus.PENDING, free)
    until = now + timedelta(seconds=lease_for)
    async with database.sessionmaker.begin() as session:
        token, claimed = await take(session, delivery, candidates, still_due, until)
        if not claimed:
            return []
        rows = await session.execute(
            select(delivery, ChatConversation.bot, ChatConversation.chat_id, AppealMessage.text)
            .join(AppealMessage, AppealMessage.id == delivery.message_id)
            .join(ChatConversation, ChatConversation.appeal_id == delivery.appeal_id)
            .where(delivery.id.in_(claimed))
        )
        return [
            Claim(
                delivery_id=row.id,
                lease_token=token,
                attempts=row.attempts,
                give_up_at=row.give_up_at,
                bot=bot,
                chat_id=chat_id,
                text=text,
            )
            for row, bot, chat_id, text in rows
        ]


def settlement(
    claim: Claim, sent: Sent, settings: ConsultSettings, now: datetime
) -> dict[str, object]:
    """The delivery's columns after this attempt."""
    values: dict[str, object] = {"attempts": MessageDelivery.attempts + 1, "last_error": sent.error}
    if sent.outcome is SendOutcome.SENT:
        return values | {
            "status": DeliveryStatus.SENT,
            "delivered_at": now,
            "next_attempt_at": None,
            "last_error": None,
        }
    if sent.outcome is SendOutcome.REFUSED or now >= claim.give_up_at:
        return values | {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    if sent.retry_after is not None:  # the channel said when: no sooner, and no later either
        retry_at = min(now + timedelta(seconds=sent.retry_after), claim.give_up_at)
    else:
        retry_at = claim.retry_at(
            now,
            base=settings.chat_backoff_base,
            cap=settings.chat_backoff_cap,
            jitter=settings.chat_backoff_jitter,
        )
    return values | {"next_attempt_at": retry_at}


class Courier(Worker):
    """Runs for the app's lifetime; `wake()` makes it look for due messages at once. `clock`
    is the app's, read on every look, so tests can move time."""

    def __init__(
        self, database: Database, settings: ConsultSettings, clock: Callable[[], datetime]
    ) -> None:
        super().__init__("chat courier", settings.chat_poll_interval_seconds, logger)
        self.database = database
        self.settings = settings
        self.clock = clock
        self._client: httpx.AsyncClient | None = None

    def _lease_seconds(self) -> float:
        return 2 * self.settings.chat_send_timeout_seconds + 5

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.chat_send_timeout_seconds),
            follow_redirects=False,
            trust_env=False,
        )
        try:
            async with self.looping(grace=self.settings.chat_send_timeout_seconds + 2):
                yield
        finally:
            await self._client.aclose()

    def adapter(self, bot: str) -> ChannelAdapter | None:
        configured = self.settings.chat_bots.get(bot)
        if configured is None or self._client is None:
            return None
        return TelegramAdapter(self._client, str(self.settings.telegram_api_base), configured)

    async def run_once(self) -> None:
        free = self.settings.chat_concurrency - self.busy
        if free <= 0:
            return
        for claim in await claim_due(self.database, free, self._lease_seconds(), self.clock()):
            self.launch(self._attempt(claim), name=f"chat message {claim.delivery_id}")

    async def _attempt(self, claim: Claim) -> None:
        adapter = self.adapter(claim.bot)
        if adapter is None:
            error = f"No bot {claim.bot!r} is configured: {TOKEN_HINT}"
            sent = Sent(SendOutcome.BOT_REFUSED, error=error)
        else:
            sent = await adapter.send(claim.chat_id, claim.text)
        if sent.outcome is SendOutcome.BOT_REFUSED:  # every message of the bot waits on this
            logger.error("bot %r: message %s waits: %s", claim.bot, claim.delivery_id, sent.error)
        values = settlement(claim, sent, self.settings, self.clock())
        async with self.database.sessionmaker.begin() as session:
            if not await settle(session, MessageDelivery, claim, values):
                logger.warning("chat message %s: settled elsewhere", claim.delivery_id)
                return
            if sent.message_id is not None:  # the chat's id of it, kept on the thread's message
                message_id = select(MessageDelivery.message_id).where(
                    MessageDelivery.id == claim.delivery_id
                )
                await session.execute(
                    update(AppealMessage)
                    .where(AppealMessage.id == message_id.scalar_subquery())
                    .values(external_id=sent.message_id)
                )
