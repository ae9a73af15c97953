"""The redelivery guard: each update a bot's server delivers is taken in once, and remembered
for `chat_update_retention_days` (Telegram delivers an update again for at most a day), after
which a periodic job forgets it."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from services.common.db import Database
from services.common.jobs import periodic_job
from services.common.uow import UnitOfWork
from services.consult.chats.models import ChatUpdate
from services.consult.chats.settings import ChatsSettings

logger = logging.getLogger("telemed.chats")


async def taken_once(uow: UnitOfWork, bot: str, update_id: int, now: datetime) -> ChatUpdate | None:
    """The update's record, written first; None when it was taken in before (a redelivery,
    or the same update delivered twice at once: the second waits on the first's key)."""
    if await uow.session.get(ChatUpdate, (bot, update_id)) is not None:
        return None
    update = ChatUpdate(bot=bot, update_id=update_id, received_at=now)
    try:
        async with uow.session.begin_nested():
            uow.session.add(update)
    except IntegrityError:
        return None
    return update


async def prune_updates(database: Database, before: datetime) -> int:
    """Forgets the updates taken in before `before`; how many."""
    async with database.sessionmaker.begin() as session:
        result = await session.execute(delete(ChatUpdate).where(ChatUpdate.received_at < before))
    pruned: int = result.rowcount  # type: ignore[attr-defined]
    return pruned


@asynccontextmanager
async def update_pruning(app: FastAPI, settings: ChatsSettings) -> AsyncIterator[None]:
    """For the app's lifetime: updates older than the retention are deleted every
    `chat_update_prune_interval_seconds`. The clock is read through `app.state` on every run,
    so tests can move time."""
    database: Database = app.state.database
    keep = timedelta(days=settings.chat_update_retention_days)

    async def prune() -> None:
        pruned = await prune_updates(database, app.state.clock() - keep)
        if pruned:
            logger.info("forgot %d chat updates taken in before the retention", pruned)

    async with periodic_job(
        "consult-chat-update-pruning",
        settings.chat_update_prune_interval_seconds,
        prune,
        tracing=app.state.tracing,
    ):
        yield
