"""Test kit for the notify producers: a stack whose relay and jobs only the tests run (and the
`stack` fixture of one), one relay run over chosen feeds (the real pull, store, produce and
acknowledge), the messages the gateway queued, and times as the services write them."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.models import User
from gateway.notify.models import Message
from gateway.notify.producers.context import Links
from gateway.notify.producers.events import MessageProducer
from gateway.webhooks.relay import Relay
from services.common.db import Database
from tests.conftest import Stack, running_stack

# The gateway's own relay reads no feed and the services' jobs wait an hour: the tests relay
# and run the jobs themselves, at the times they choose.
QUIET: dict[str, dict[str, Any]] = {
    "gateway": {"event_sources": []},
    "consult": {
        "appeal_escalation_interval_seconds": 3600.0,
        "deadline_warning_interval_seconds": 3600.0,
    },
    "scheduling": {"reminder_interval_seconds": 3600.0},
}


@contextlib.asynccontextmanager
async def quiet_stack(
    urls: dict[str, str], var_dir: Path, **more: dict[str, Any]
) -> AsyncIterator[Stack]:
    overrides = {name: QUIET.get(name, {}) | more.get(name, {}) for name in QUIET | more}
    async with running_stack(urls, var_dir, overrides) as stack:
        yield stack


@pytest.fixture(name="stack")
async def producers_stack(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    """The quiet stack as `stack`, for the modules that import this fixture."""
    async with quiet_stack(clean_databases, tmp_path) as running:
        yield running


def utc(text: str) -> str:
    """An ISO time with any offset as the services write it in UTC ("...T07:30:00Z")."""
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


def gateway_database(stack: Stack) -> Database:
    database: Database = stack.apps["gateway"].state.database
    return database


def producer(stack: Stack) -> MessageProducer:
    gateway = stack.apps["gateway"]
    links = Links(gateway.state.visit_links, gateway.state.settings.public_url)
    return MessageProducer(links)


def relay(stack: Stack, *sources: str, **settings: Any) -> Relay:
    """A relay of the running gateway that reads `sources`, as the gateway's own would."""
    gateway = stack.apps["gateway"]
    state = gateway.state
    configured = state.settings.model_copy(update={"event_sources": list(sources)} | settings)
    return Relay(
        state.database,
        configured,
        state.upstreams,
        state.token_issuer,
        state.webhook_dispatcher,
        producer(stack),
        state.notify_courier,
    )


async def relay_once(stack: Stack, *sources: str) -> int:
    """Pulls, stores (with the messages) and acknowledges each feed until it is empty."""
    relayed = relay(stack, *sources)
    return sum([await relayed.relay_source(source) for source in sources])


async def messages(stack: Stack, recipient: uuid.UUID | None = None) -> list[Message]:
    """The queued messages, oldest first; only `recipient`'s if given."""
    query = select(Message).order_by(Message.created_at, Message.id)
    if recipient is not None:
        query = query.where(Message.recipient_id == recipient)
    async with gateway_database(stack).sessionmaker() as session:
        return list(await session.scalars(query))


async def set_user(stack: Stack, user_id: uuid.UUID, **values: Any) -> None:
    """Changes a user's row directly (contacts and language are another part's API)."""
    async with gateway_database(stack).sessionmaker.begin() as session:
        await session.execute(update(User).where(User.id == user_id).values(**values))
