"""The scheduling events webhooks announce, recorded in the outbox with the change they announce.

A hold is not announced: `appointment.booked` comes when a visit is booked (at once, or when
its hold is confirmed), and `appointment.cancelled` only when an announced visit is called
off: cancelled, moved (with `replaced_by_id`), or marked entered in error. A move of an
announced visit is both: the new visit's `appointment.booked` names the one it replaces
(`replaces_id`, `replaces_start`), so a receiver tells it from a fresh booking.

The data names the patient by id (and their zone), for the gateway to tell them; never by name.
"""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from services.common.outbox import EventType
from services.common.uow import UnitOfWork
from services.scheduling.enums import (
    FREEING_STATUSES,
    REMINDED_STATUSES,
    AppointmentStatus,
    ReminderState,
)
from services.scheduling.models import OUTBOX, Appointment, Reminder

# Statuses of a visit that was never announced as booked, or whose end was announced already.
UNANNOUNCED = frozenset({AppointmentStatus.PROPOSED, *FREEING_STATUSES})


async def appointment_event(
    uow: UnitOfWork, event_type: EventType, appointment: Appointment, **extra: Any
) -> None:
    """For the organisation holding the schedule and the patient's (requesting) one."""
    data = {
        "status": appointment.status.value,
        "kind": appointment.visit_type.value,
        "start": appointment.starts_at,
        "end": appointment.ends_at,
        "specialty": appointment.specialty,
        "practitioner_id": appointment.practitioner_id,
        "episode_id": appointment.episode_id,
        "consult_case_id": appointment.consult_case_id,
        "series_id": appointment.series_id,
        "organization_id": appointment.organization_id,
        "patient_id": appointment.patient_id,
        "patient_timezone": appointment.patient_timezone,
    }
    await OUTBOX.record(
        uow,
        event_type,
        ("appointment", appointment.id),
        [appointment.organization_id, appointment.requesting_organization_id],
        data | extra,
    )


async def called_off(
    uow: UnitOfWork, appointment: Appointment, was: AppointmentStatus, **extra: Any
) -> None:
    """`appointment.cancelled` if the visit, announced as `was`, no longer holds its time."""
    if was not in UNANNOUNCED and appointment.status in FREEING_STATUSES:
        await appointment_event(uow, EventType.APPOINTMENT_CANCELLED, appointment, **extra)


async def reminders_due(uow: UnitOfWork, reminder_ids: Sequence[uuid.UUID]) -> None:
    """`appointment.reminder_due` for each reminder the job has just found due (not those it
    skipped because a later one was due too).

    The appointments are locked, as every change of one is, so their events are written in
    the order they commit: a visit cancelled meanwhile is not announced as due after it."""
    if not reminder_ids:
        return
    query = (
        select(Reminder, Appointment)
        .join(Appointment, Appointment.id == Reminder.appointment_id)
        .where(
            Reminder.id.in_(reminder_ids),
            Reminder.state == ReminderState.PENDING,
            Appointment.status.in_(REMINDED_STATUSES),
        )
        .order_by(Reminder.due_at, Reminder.id)
        .with_for_update(of=Appointment)
    )
    for reminder, appointment in (await uow.session.execute(query)).all():
        await appointment_event(
            uow, EventType.APPOINTMENT_REMINDER_DUE, appointment,
            reminder_id=reminder.id, reminder=reminder.kind.value, due_at=reminder.due_at,
        )  # fmt: skip
