"""`enqueue`: how any part of the gateway says "tell this person this", in its own transaction."""

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.notify.enums import Template
from gateway.notify.models import Message
from services.common.db import utcnow


async def enqueue(
    session: AsyncSession,
    *,
    recipient_id: uuid.UUID,
    template: Template,
    params: Mapping[str, Any],
    key: str,
) -> bool:
    """Records a message for `recipient_id` in the caller's transaction; False if one with
    `key` exists already (the same event or request, seen again)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    written = await session.scalar(
        insert(Message)
        .values(
            id=uuid.uuid4(),
            key=key,
            recipient_id=recipient_id,
            template=template,
            params=dict(params),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Message.id)
    )
    return written is not None
