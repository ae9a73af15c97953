"""`enqueue`: how any part of the gateway says "tell this person this", in its own transaction.

The message and its deliveries are written together, so a committed change has its deliveries
decided and the workers (gateway/notify/delivery.py) find them; a rolled-back one has neither.
"""

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import User
from gateway.notify.enums import Channel, Template
from gateway.notify.models import Delivery, Message, Preferences
from gateway.notify.planning import CHANNELS_INFO, EMAIL_ONLY, Plan, Planned, plan
from services.common.db import utcnow

logger = logging.getLogger("telemed.notify")


async def plan_for(session: AsyncSession, recipient_id: uuid.UUID, template: Template) -> Plan:
    """The deliveries a message to `recipient_id` gets now, by the person's contacts and
    choices and the channels this deployment has open."""
    person = await session.get(User, recipient_id)
    preferences = await session.get(Preferences, recipient_id)
    # A session of a database made without notify's info (a command-line tool's) knows only
    # the channel every deployment has.
    channels: frozenset[Channel] = session.info.get(CHANNELS_INFO, EMAIL_ONLY)
    return plan(person, preferences, template, channels)


async def add_deliveries(
    session: AsyncSession,
    message_id: uuid.UUID,
    planned: list[Planned],
    resent_by: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Writes the planned deliveries of a message, pending ones due now; returns their ids."""
    now = utcnow()
    ids = [uuid.uuid4() for _ in planned]
    rows = [
        {
            "id": delivery_id,
            "message_id": message_id,
            "channel": delivery.channel,
            "address": delivery.address,
            "status": delivery.status,
            "attempts": 0,
            "next_attempt_at": now if delivery.reason is None else None,
            "last_error": delivery.reason,
            "created_at": now,
            "resent_by": resent_by,
        }
        for delivery_id, delivery in zip(ids, planned, strict=True)
    ]
    if rows:
        await session.execute(insert(Delivery), rows)
    return ids


async def enqueue(
    session: AsyncSession,
    *,
    recipient_id: uuid.UUID,
    template: Template,
    params: Mapping[str, Any],
    key: str,
) -> bool:
    """Records a message for `recipient_id` in the caller's transaction, with its deliveries;
    False if one with `key` exists already (the same event or request, seen again)."""
    dialect = session.get_bind().dialect.name
    insert_message = postgresql.insert if dialect == "postgresql" else sqlite.insert
    deliveries = await plan_for(session, recipient_id, template)
    now = utcnow()
    message_id = await session.scalar(
        insert_message(Message)
        .values(
            id=uuid.uuid4(),
            key=key,
            recipient_id=recipient_id,
            template=template,
            params=dict(params),
            undeliverable=deliveries.undeliverable,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Message.id)
    )
    if message_id is None:
        return False
    await add_deliveries(session, message_id, deliveries.deliveries)
    if deliveries.undeliverable:
        logger.info(
            "notify message %s (%s) undeliverable: %s",
            message_id,
            template.value,
            deliveries.undeliverable,
        )
    return True
