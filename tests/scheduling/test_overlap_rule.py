"""The overlap rule is the database's: an exclusion constraint on PostgreSQL, a trigger and the
write lock on SQLite, whatever the service's own check saw."""

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from services.common.audit import AuditTrail
from services.common.db import Database
from services.common.errors import Conflict
from services.common.uow import UnitOfWork
from services.scheduling.booking import place
from services.scheduling.enums import AppointmentStatus
from services.scheduling.models import KERNEL_TABLES, Appointment
from tests.scheduling.conftest import World, local


def copy_of(appointment: Appointment, shift: timedelta, **changes: object) -> Appointment:
    fields = {
        column.key: getattr(appointment, column.key) for column in Appointment.__table__.columns
    }
    for name in ("starts_at", "ends_at", "busy_from", "busy_until"):
        fields[name] += shift
    return Appointment(**(fields | {"id": uuid.uuid4(), "episode_id": None} | changes))


async def stored(database: Database, appointment_id: str) -> Appointment:
    async with database.sessionmaker() as session:
        query = select(Appointment).where(Appointment.id == uuid.UUID(appointment_id))
        return (await session.execute(query)).scalar_one()


async def test_the_database_refuses_an_overlapping_row(world: World) -> None:
    booked = await stored(world.database, (await world.booked(local("2025-10-21", "10:00")))["id"])
    async with world.database.sessionmaker() as session:
        session.add(copy_of(booked, timedelta(minutes=20)))
        with pytest.raises(IntegrityError):
            await session.commit()
    async with world.database.sessionmaker() as session:
        # Appointments that hold no time may overlap anything; touching spans do not overlap.
        session.add(copy_of(booked, timedelta(0), status=AppointmentStatus.CANCELLED))
        session.add(copy_of(booked, booked.busy_until - booked.busy_from))
        await session.commit()


async def _waiting_on_a_lock(database: Database) -> bool:
    async with database.engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


async def test_the_database_arbitrates_concurrent_placements(world: World) -> None:
    """B checks while A's overlapping insert is not yet committed, so B's own check sees
    nothing: on PostgreSQL B's insert waits on the exclusion constraint and fails when A
    commits; on SQLite B cannot begin until A is done. Either way B gets a 409."""
    template = await stored(
        world.database, (await world.booked(local("2025-10-21", "10:00")))["id"]
    )
    url = world.database.url
    first, second = Database(url), Database(url)
    try:
        async with first.sessionmaker() as session_a:
            uow_a = UnitOfWork(session_a, AuditTrail(KERNEL_TABLES.audit))
            await place(uow_a, copy_of(template, timedelta(hours=1)), world.clock.now)

            async def place_b() -> None:
                async with second.sessionmaker() as session_b:
                    uow_b = UnitOfWork(session_b, AuditTrail(KERNEL_TABLES.audit))
                    await place(uow_b, copy_of(template, timedelta(minutes=75)), world.clock.now)
                    await session_b.commit()

            contender = asyncio.create_task(place_b())
            if url.startswith("postgresql"):
                deadline = time.monotonic() + 10
                while not await _waiting_on_a_lock(first):
                    assert time.monotonic() < deadline, "B never waited for A"
                    assert not contender.done(), contender
            await session_a.commit()
        with pytest.raises(Conflict) as raised:
            await contender
        if url.startswith("postgresql"):
            assert isinstance(raised.value.__cause__, IntegrityError)  # the constraint said no
        assert "is taken" in raised.value.detail
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_placement_undone_leaves_the_slot_to_the_one_waiting(world: World) -> None:
    """B's overlapping insert waits for A's transaction (on PostgreSQL its `ON CONFLICT DO
    NOTHING` waits on the exclusion constraint; on SQLite B cannot begin); A is rolled back,
    so B gets the slot: what was never committed takes nobody's time."""
    template = await stored(
        world.database, (await world.booked(local("2025-10-21", "10:00")))["id"]
    )
    url = world.database.url
    first, second = Database(url), Database(url)
    try:
        async with first.sessionmaker() as session_a:
            uow_a = UnitOfWork(session_a, AuditTrail(KERNEL_TABLES.audit))
            await place(uow_a, copy_of(template, timedelta(hours=1)), world.clock.now)

            async def place_b() -> str:
                async with second.sessionmaker() as session_b:
                    uow_b = UnitOfWork(session_b, AuditTrail(KERNEL_TABLES.audit))
                    wanted = copy_of(template, timedelta(minutes=75))
                    await place(uow_b, wanted, world.clock.now)
                    await session_b.commit()
                    return str(wanted.id)

            contender = asyncio.create_task(place_b())
            if url.startswith("postgresql"):
                deadline = time.monotonic() + 10
                while not await _waiting_on_a_lock(first):
                    assert time.monotonic() < deadline, "B never waited for A"
                    assert not contender.done(), contender
            await session_a.rollback()
        placed = await stored(world.database, await contender)
        assert placed.status is AppointmentStatus.BOOKED
        assert placed.starts_at == template.starts_at + timedelta(minutes=75)
        async with world.database.sessionmaker() as session:
            holding = (
                await session.scalars(
                    select(Appointment.starts_at).where(
                        Appointment.schedule_id == template.schedule_id,
                        Appointment.status.not_in(["cancelled", "entered_in_error"]),
                    )
                )
            ).all()
        assert sorted(holding) == [template.starts_at, placed.starts_at]  # A's left no trace
    finally:
        await first.dispose()
        await second.dispose()
