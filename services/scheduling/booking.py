"""Conflict-free placement of an appointment: the database, not Python, decides who gets a slot.

PostgreSQL: the exclusion constraint `ex_appointments_schedule_busy` (btree_gist, over the
schedule and `tstzrange(busy_from, busy_until, '[)')` of appointments that hold their time)
makes a concurrent overlapping insert wait for the first transaction, and then refuses it once
that one commits. A booking is first tried as `INSERT ... ON CONFLICT DO NOTHING` (the
constraint as arbiter): one round trip, no savepoint, and the transaction stays usable when it
inserts nothing. Only then are the appointments in the way read, lapsed holds among them
expired, and the insert tried again in a savepoint, so that the constraint itself refuses it.
SQLite: every transaction begins IMMEDIATE (the kernel's `Database`), so bookings run one at a
time under the database's write lock, and a trigger refuses an overlapping insert. Either way
the loser gets a 409 naming the slot.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from services.common.errors import Conflict
from services.common.uow import UnitOfWork
from services.scheduling.enums import FREEING_STATUSES
from services.scheduling.inserts import insert, table_of
from services.scheduling.models import Appointment
from services.scheduling.service import expire_hold, hold_has_expired
from services.scheduling.views import local_span, utc_text

EXCLUSION_VIOLATION = "23P01"
# What the SQLite trigger of the first migration says when it refuses an insert.
SQLITE_OVERLAP = "appointment overlaps another"
# With no conflict target, every constraint arbitrates, the exclusion constraint among them.
INSERT_UNLESS_TAKEN = pg_insert(table_of(Appointment)).on_conflict_do_nothing()


def _overlapping(appointment: Appointment) -> list[ColumnElement[bool]]:
    return [
        Appointment.schedule_id == appointment.schedule_id,
        Appointment.busy_from < appointment.busy_until,
        Appointment.busy_until > appointment.busy_from,
        Appointment.id != appointment.id,
        Appointment.status.not_in(FREEING_STATUSES),
    ]


async def _holders(uow: UnitOfWork, appointment: Appointment) -> Sequence[Appointment]:
    """The appointments holding time that `appointment` would overlap, earliest first."""
    query = select(Appointment).where(*_overlapping(appointment)).order_by(Appointment.busy_from)
    return (await uow.session.scalars(query)).all()


def _conflict(taken: Appointment | None, wanted: Appointment) -> Conflict:
    if taken is None:  # the winner was undone again between its commit and our look
        return Conflict("The slot was taken by a booking made at the same moment; try again.")
    span = local_span(taken.starts_at, taken.ends_at, wanted.timezone)
    return Conflict(
        f"The slot is taken: this schedule is booked {span.start:%Y-%m-%d %H:%M}-"
        f"{span.end:%H:%M} ({span.timezone}), which overlaps the requested visit with its "
        "buffers.",
        requested_start=utc_text(wanted.starts_at),
        taken_start=utc_text(taken.starts_at),
        taken_end=utc_text(taken.ends_at),
    )


def _is_overlap(error: IntegrityError) -> bool:
    original = error.orig
    return getattr(original, "sqlstate", None) == EXCLUSION_VIOLATION or SQLITE_OVERLAP in str(
        original
    )


async def place(uow: UnitOfWork, appointment: Appointment, now: datetime) -> None:
    """Stores `appointment` unless its buffered span overlaps one that holds its time; else a
    409 naming what is in the way.

    A hold past its expiry still counts for the constraint until it is marked cancelled, so
    when the first try finds the time taken, the holds in the way that lapsed are expired and
    the constraint asked again."""
    session = uow.session
    await session.flush()  # earlier changes must not ride in (and be undone with) the savepoint
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql and await insert(uow, appointment, INSERT_UNLESS_TAKEN):
        return
    for holder in await _holders(uow, appointment):
        if hold_has_expired(holder, now):
            expire_hold(uow, holder, now)
    await session.flush()
    try:
        async with session.begin_nested():
            session.add(appointment)
            await session.flush()
    except IntegrityError as error:
        if not _is_overlap(error):
            raise
        holders = await _holders(uow, appointment)
        raise _conflict(holders[0] if holders else None, appointment) from error
