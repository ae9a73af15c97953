"""Leases an outbox's workers take on its deliveries, so that replicas sharing one database
never attempt one delivery at the same time: a lease is taken with a conditional UPDATE under
a new token, only the token's holder settles the delivery, and the lease of a worker that dies
mid-attempt simply runs out. No transaction is open while a worker talks to the peer."""

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.backoff import backoff_seconds

# A deliveries table: a mapped class with an `id` and the lease's two columns, `lease_until`
# and `lease_token` (mypy cannot say so: the ORM's columns are instance variables to it).
Leased = type[Any]


@dataclass(frozen=True)
class Lease:
    """A worker's claim on one delivery, read in the claiming transaction: only the holder of
    `lease_token` may settle it, and it is tried until `give_up_at`."""

    delivery_id: uuid.UUID
    lease_token: str
    attempts: int  # before this one
    give_up_at: datetime

    def retry_at(self, now: datetime, *, base: float, cap: float, jitter: float) -> datetime:
        """When to try again after this attempt failed: after the backoff, but no later than
        the end of the retry window, so that the last try falls on it."""
        delay = backoff_seconds(self.attempts + 1, base=base, cap=cap, jitter=jitter)
        return min(now + timedelta(seconds=delay), self.give_up_at)


def lease_free(table: Leased, now: datetime) -> ColumnElement[bool]:
    """Nobody holds the row: never leased, settled, or its holder's lease ran out."""
    return or_(table.lease_until.is_(None), table.lease_until <= now)


async def take(
    session: AsyncSession,
    table: Leased,
    candidates: Select[uuid.UUID],
    due: Sequence[ColumnElement[bool]],
    until: datetime,
    **values: Any,
) -> tuple[str, Sequence[uuid.UUID]]:
    """Leases, until `until` and under a new token, the rows `candidates` selects (locked
    `FOR UPDATE SKIP LOCKED` where the database can) that are still `due` when updated, so
    two workers that both selected a row do not both lease it; `values` are written with the
    lease. Returns the token and the ids it leased (none: an empty token)."""
    ids = (await session.scalars(candidates)).all()
    if not ids:
        return "", []
    token = secrets.token_hex(16)
    leased = await session.scalars(
        update(table)
        .where(table.id.in_(ids), *due)
        .values(lease_until=until, lease_token=token, **values)
        .returning(table.id)
    )
    return token, leased.all()


async def settle(
    session: AsyncSession, table: Leased, lease: Lease, values: dict[str, Any]
) -> bool:
    """Writes `values` and ends the lease, if the row is still this lease's. False when it is
    not: the row was deleted meanwhile, or the lease ran out and another worker holds the row
    now (its own attempt is what the log will show)."""
    settled = await session.execute(
        update(table)
        .where(table.id == lease.delivery_id, table.lease_token == lease.lease_token)
        .values(lease_until=None, lease_token=None, **values)
    )
    return bool(settled.rowcount)  # type: ignore[attr-defined]
