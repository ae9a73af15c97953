"""Leases on outbox deliveries, on a table of their own: workers racing for the same rows each
lease different ones, a lease runs out, only its holder settles the row, and a failed attempt
is retried after the backoff but never past the retry window."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import Database, IdMixin, UTCDateTime, new_metadata
from services.common.leases import Lease, lease_free, settle, take
from tests.conftest import PG_SERVER, TEST_DB, _recreate_pg_database

NOW = datetime(2026, 12, 8, 7, 30, tzinfo=UTC)
LEASE = timedelta(seconds=30)


class Base(DeclarativeBase):
    metadata = new_metadata()


class Job(IdMixin, Base):
    __tablename__ = "jobs"

    state: Mapped[str] = mapped_column(String(16), default="pending")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    name = f"telemed_test_leases_{uuid.uuid4().hex[:8]}"
    if TEST_DB == "postgresql":
        await _recreate_pg_database(name)
        url = f"postgresql+asyncpg://{PG_SERVER}/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'leases.sqlite3'}"
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()
        if TEST_DB == "postgresql":
            await _recreate_pg_database(name, drop_only=True)


def due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (Job.state == "pending", lease_free(Job, now))


async def claim(database: Database, limit: int, now: datetime) -> tuple[str, list[uuid.UUID]]:
    candidates = (
        select(Job.id)
        .where(*due(now))
        .order_by(Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    async with database.sessionmaker.begin() as session:
        token, leased = await take(session, Job, candidates, due(now), now + LEASE, state="held")
        return token, list(leased)


async def jobs(database: Database, count: int) -> list[uuid.UUID]:
    async with database.sessionmaker.begin() as session:
        rows = [Job(state="pending") for _ in range(count)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def test_workers_racing_lease_each_row_once_under_their_own_token(
    database: Database,
) -> None:
    made = await jobs(database, 6)
    claims = await asyncio.gather(*(claim(database, 2, NOW) for _ in range(5)))
    leased = [job for _, ids in claims for job in ids]
    assert sorted(leased) == sorted(made)
    tokens = [token for token, ids in claims if ids]
    assert len(set(tokens)) == len(tokens)  # a token of its own for each worker that leased
    assert all(len(token) == 32 for token in tokens)
    assert all(token == "" for token, ids in claims if not ids)
    async with database.sessionmaker() as session:
        assert set(await session.scalars(select(Job.state))) == {"held"}


async def test_a_lease_runs_out_and_the_next_worker_takes_the_row(database: Database) -> None:
    (job,) = await jobs(database, 1)
    async with database.sessionmaker.begin() as session:
        candidates = select(Job.id).where(lease_free(Job, NOW))
        first, leased = await take(session, Job, candidates, [lease_free(Job, NOW)], NOW + LEASE)
    assert list(leased) == [job]
    during, later = NOW + LEASE / 2, NOW + LEASE
    async with database.sessionmaker.begin() as session:
        candidates = select(Job.id).where(lease_free(Job, during))
        assert await take(session, Job, candidates, [lease_free(Job, during)], later) == ("", [])
    async with database.sessionmaker.begin() as session:
        candidates = select(Job.id).where(lease_free(Job, later))
        second, leased = await take(session, Job, candidates, [lease_free(Job, later)], later)
    assert list(leased) == [job]
    assert second != first


async def test_only_the_holder_of_the_lease_settles_the_row(database: Database) -> None:
    (job,) = await jobs(database, 1)
    token, _ = await claim(database, 1, NOW)
    stale = Lease(job, "0" * 32, attempts=0, give_up_at=NOW + LEASE)
    held = Lease(job, token, attempts=0, give_up_at=NOW + LEASE)
    async with database.sessionmaker.begin() as session:
        assert not await settle(session, Job, stale, {"state": "done"})
        assert await settle(session, Job, held, {"state": "done"})
    async with database.sessionmaker() as session:
        row = await session.get_one(Job, job)
        assert (row.state, row.lease_until, row.lease_token) == ("done", None, None)
    async with database.sessionmaker.begin() as session:
        assert not await settle(session, Job, held, {"state": "again"})  # settled already


def test_a_lease_is_retried_after_the_backoff_of_its_next_attempt() -> None:
    lease = Lease(uuid.uuid4(), "token", attempts=2, give_up_at=NOW + timedelta(days=1))
    retry_at = lease.retry_at(NOW, base=30.0, cap=3600.0, jitter=0)
    assert retry_at == NOW + timedelta(seconds=120)  # the third try waits 30 s doubled twice


def test_the_last_retry_falls_on_the_end_of_the_window() -> None:
    lease = Lease(uuid.uuid4(), "token", attempts=9, give_up_at=NOW + timedelta(minutes=5))
    assert lease.retry_at(NOW, base=30.0, cap=3600.0, jitter=0) == lease.give_up_at
