"""Visit reminders through an outbox: a periodic job writes the due ones, then delivers them.

Each reminder is one row per (appointment, kind), so producing it twice is impossible, and it
is delivered at least once: claimed with a lease (committed before delivery, so no database
lock is held while a channel talks to the outside), then marked sent in its own transaction.
A run that dies mid-batch leaves its claims to lapse and a later run, in this process or the
next, delivers them; only a reminder whose delivery had finished but not yet been recorded can
go out again, with the same id, which channels pass on as the idempotency key.
"""

import importlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.common.audit import AuditTables
from services.common.db import Database
from services.common.uow import UnitOfWork, standalone_unit_of_work
from services.scheduling.enums import (
    REMINDED_STATUSES,
    ReminderKind,
    ReminderState,
    VisitType,
)
from services.scheduling.models import Appointment, Reminder
from services.scheduling.outbox_events import reminders_due
from services.scheduling.rooms import VideoRooms, fill_pending_rooms
from services.scheduling.service import audit, expire_holds
from services.scheduling.settings import SchedulingSettings

logger = logging.getLogger("telemed.scheduling.reminders")
# A day before in local time is 23 to 25 hours before across a DST change.
LOOKAHEAD = timedelta(hours=26)
SUPERSEDED = "Superseded: the hour-before reminder was due as well."


@dataclass(frozen=True)
class ReminderMessage:
    reminder_id: uuid.UUID  # stable across retries: the idempotency key for the channel
    recipient_id: uuid.UUID
    kind: ReminderKind
    appointment_id: uuid.UUID
    visit_type: VisitType
    start: datetime
    local_start: datetime  # in the patient's zone
    timezone: str
    join_url: str | None


class ReminderChannel(Protocol):
    async def deliver(self, message: ReminderMessage) -> None:
        """Sends one reminder; raising means it was not sent and is tried again later."""


class LogChannel:
    """The default channel: one log line per reminder."""

    async def deliver(self, message: ReminderMessage) -> None:
        logger.info(
            "reminder %s (%s) to %s: %s visit at %s %s",
            message.reminder_id,
            message.kind.value,
            message.recipient_id,
            message.visit_type.value,
            message.local_start.isoformat(),
            message.timezone,
        )


def load_channel(path: str) -> ReminderChannel:
    """The channel a `module:factory` setting names."""
    module, _, name = path.partition(":")
    channel: ReminderChannel = getattr(importlib.import_module(module), name)()
    return channel


def due_at(kind: ReminderKind, start: datetime, zone: str) -> datetime:
    """When a reminder is due: an hour before, or at the same local time the day before."""
    if kind is ReminderKind.HOUR_BEFORE:
        return (start - timedelta(hours=1)).astimezone(UTC)
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    day_before = datetime.combine(local.date() - timedelta(days=1), local.time(), tzinfo=tz)
    return day_before.astimezone(UTC)  # aware datetimes of one zone subtract by wall clock


def _insert_new(uow: UnitOfWork, rows: list[dict[str, Any]]) -> Any:
    """An INSERT that skips rows already there, should two job runs produce at once."""
    dialect = uow.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(Reminder).values(rows).on_conflict_do_nothing()


async def produce(uow: UnitOfWork, now: datetime) -> int:
    """Writes the reminders that have come due for booked visits still ahead."""
    query = select(
        Appointment.id,
        Appointment.starts_at,
        Appointment.created_at,
        Appointment.patient_timezone,
        Appointment.patient_id,
        Appointment.booked_by,
    ).where(
        Appointment.status.in_(REMINDED_STATUSES),
        Appointment.starts_at > now,
        Appointment.starts_at <= now + LOOKAHEAD,
    )
    appointments = (await uow.session.execute(query)).all()
    if not appointments:
        return 0
    written: dict[uuid.UUID, set[ReminderKind]] = {}
    found = await uow.session.execute(
        select(Reminder.appointment_id, Reminder.kind).where(
            Reminder.appointment_id.in_([row.id for row in appointments])
        )
    )
    for appointment_id, kind in found.all():
        written.setdefault(appointment_id, set()).add(kind)
    rows = []
    for row in appointments:
        due = {kind: due_at(kind, row.starts_at, row.patient_timezone) for kind in ReminderKind}
        # A reminder due before the visit was booked is pointless; one due while the service
        # was down is still sent, late.
        wanted = {kind for kind, at in due.items() if row.created_at < at <= now}
        for kind in wanted - written.get(row.id, set()):
            superseded = kind is ReminderKind.DAY_BEFORE and ReminderKind.HOUR_BEFORE in wanted
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "appointment_id": row.id,
                    "kind": kind,
                    "recipient_id": row.patient_id or row.booked_by,
                    "due_at": due[kind],
                    "state": ReminderState.SKIPPED if superseded else ReminderState.PENDING,
                    "attempts": 0,
                    "next_attempt_at": due[kind],
                    "last_error": SUPERSEDED if superseded else None,
                    "created_at": now,
                }
            )
    if rows:
        # Only the rows this run wrote are announced, should another run have written some.
        written_now = _insert_new(uow, rows).returning(Reminder.id)
        await reminders_due(uow, (await uow.session.scalars(written_now)).all())
    return len(rows)


async def _claim(
    uow: UnitOfWork, now: datetime, settings: SchedulingSettings
) -> list[ReminderMessage]:
    """Leases a batch of due reminders; those whose visit is off or past are skipped instead."""
    claimable = or_(
        (Reminder.state == ReminderState.PENDING) & (Reminder.next_attempt_at <= now),
        (Reminder.state == ReminderState.SENDING) & (Reminder.lease_until <= now),
    )
    query = (
        select(Reminder, Appointment)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .where(claimable)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(settings.reminder_batch)
        .with_for_update(of=Reminder, skip_locked=True)
    )
    messages = []
    for reminder, appointment in (await uow.session.execute(query)).all():
        if appointment.status not in REMINDED_STATUSES or appointment.starts_at <= now:
            reminder.state = ReminderState.SKIPPED
            reminder.last_error = f"The visit is {appointment.status.value} or has begun."
            continue
        reminder.state = ReminderState.SENDING
        reminder.lease_until = now + timedelta(seconds=settings.reminder_lease_seconds)
        reminder.attempts += 1
        zone = appointment.patient_timezone
        messages.append(
            ReminderMessage(
                reminder_id=reminder.id,
                recipient_id=reminder.recipient_id,
                kind=reminder.kind,
                appointment_id=appointment.id,
                visit_type=appointment.visit_type,
                start=appointment.starts_at,
                local_start=appointment.starts_at.astimezone(ZoneInfo(zone)),
                timezone=zone,
                join_url=appointment.room_join_url,
            )
        )
    return messages


@dataclass(frozen=True)
class RunReport:
    produced: int
    sent: int
    failed: int


async def run_once(
    database: Database,
    audit_tables: AuditTables,
    channel: ReminderChannel,
    settings: SchedulingSettings,
    now: datetime,
) -> RunReport:
    """One run of the job: lapsed holds expired, due reminders written, then delivered."""
    async with standalone_unit_of_work(database, audit_tables) as uow:
        await expire_holds(uow, now)
        produced = await produce(uow, now)
        messages = await _claim(uow, now, settings)
    sent = failed = 0
    for message in messages:
        try:
            await channel.deliver(message)
        except Exception as error:  # a channel's failure is recorded, the batch goes on
            failed += 1
            logger.warning("reminder %s was not delivered: %s", message.reminder_id, error)
            await _record_failure(database, audit_tables, message, error, settings, now)
            continue
        sent += 1
        async with standalone_unit_of_work(database, audit_tables) as uow:
            await uow.session.execute(
                update(Reminder)
                .where(Reminder.id == message.reminder_id, Reminder.state == ReminderState.SENDING)
                .values(state=ReminderState.SENT, sent_at=now, lease_until=None, last_error=None)
            )
            audit(uow, "reminder.send", message.appointment_id, detail=message.kind.value)
    return RunReport(produced=produced, sent=sent, failed=failed)


async def _record_failure(
    database: Database,
    audit_tables: AuditTables,
    message: ReminderMessage,
    error: Exception,
    settings: SchedulingSettings,
    now: datetime,
) -> None:
    async with standalone_unit_of_work(database, audit_tables) as uow:
        reminder = await uow.session.get(Reminder, message.reminder_id)
        if reminder is None or reminder.state is not ReminderState.SENDING:
            return
        gave_up = reminder.attempts >= settings.reminder_max_attempts
        reminder.state = ReminderState.FAILED if gave_up else ReminderState.PENDING
        reminder.next_attempt_at = now + timedelta(seconds=settings.reminder_retry_seconds)
        reminder.lease_until = None
        reminder.last_error = f"{type(error).__name__}: {error}"[:2000]
        if gave_up:
            audit(uow, "reminder.give_up", message.appointment_id, detail=reminder.last_error)


async def run_and_fill_rooms(
    database: Database,
    audit_tables: AuditTables,
    channel: ReminderChannel,
    rooms: VideoRooms,
    settings: SchedulingSettings,
    now: datetime,
) -> None:
    """One run of the reminder job; it also asks again for the video rooms the video service
    could not give at booking."""
    await run_once(database, audit_tables, channel, settings, now)
    await fill_pending_rooms(database, audit_tables, rooms, settings.reminder_batch, now)
