"""Rules of an appointment: the transition table, who may take each action, and their audit."""

import uuid
from datetime import datetime

from sqlalchemy import select, update

from services.common.audit import Outcome
from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError
from services.common.uow import UnitOfWork
from services.scheduling.access import can_see_appointment, may_act
from services.scheduling.enums import (
    FINAL_STATUSES,
    AppointmentAction,
    AppointmentStatus,
    RoomState,
)
from services.scheduling.models import Appointment
from services.scheduling.views import utc_text

A, S = AppointmentAction, AppointmentStatus
RESOURCE = "appointment"
HOLD_EXPIRED = "The hold expired before it was confirmed."

# (current status, action) -> next status. Marking an entry as an error is possible from
# every status, as FHIR allows; everything else follows the visit's course.
TRANSITIONS: dict[tuple[AppointmentStatus, AppointmentAction], AppointmentStatus] = {
    (S.PROPOSED, A.CONFIRM): S.BOOKED,
    (S.PROPOSED, A.CANCEL): S.CANCELLED,
    (S.PROPOSED, A.RESCHEDULE): S.CANCELLED,
    (S.PROPOSED, A.EXPIRE): S.CANCELLED,
    (S.BOOKED, A.CHECK_IN): S.CHECKED_IN,
    (S.BOOKED, A.ARRIVE): S.ARRIVED,
    (S.BOOKED, A.NO_SHOW): S.NOSHOW,
    (S.BOOKED, A.CANCEL): S.CANCELLED,
    (S.BOOKED, A.RESCHEDULE): S.CANCELLED,
    (S.CHECKED_IN, A.ARRIVE): S.ARRIVED,
    (S.CHECKED_IN, A.NO_SHOW): S.NOSHOW,
    (S.CHECKED_IN, A.CANCEL): S.CANCELLED,
    (S.CHECKED_IN, A.RESCHEDULE): S.CANCELLED,
    (S.ARRIVED, A.FULFIL): S.FULFILLED,
    **{
        (status, A.ENTER_IN_ERROR): S.ENTERED_IN_ERROR
        for status in S
        if status is not S.ENTERED_IN_ERROR
    },
}
# Only once the visit has begun can it have happened or been missed.
AFTER_START = frozenset({A.FULFIL, A.NO_SHOW})


def next_status(current: AppointmentStatus, action: AppointmentAction) -> AppointmentStatus:
    """The status `action` leads to from `current`, or a 409 naming the current status."""
    if (current, action) not in TRANSITIONS:
        raise Conflict(
            f"Cannot {action.value.replace('_', ' ')} an appointment that is {current.value}.",
            current_status=current.value,
        )
    return TRANSITIONS[(current, action)]


def audit(
    uow: UnitOfWork,
    action: str,
    resource_id: uuid.UUID | None,
    outcome: Outcome = Outcome.SUCCESS,
    detail: str | None = None,
    *,
    resource: str = RESOURCE,
) -> None:
    uow.audit.record(action, resource, resource_id, outcome, detail=detail)


def mark_room_released(appointment: Appointment, now: datetime) -> None:
    """A visit that will not take place gives its video room back (`rooms.release_room` tells
    the video service)."""
    if appointment.room_state is not None and appointment.room_state is not RoomState.RELEASED:
        appointment.room_state = RoomState.RELEASED
        appointment.room_updated_at = now


def set_status(appointment: Appointment, status: AppointmentStatus, now: datetime) -> None:
    appointment.status = status
    appointment.status_changed_at = now
    if status in FINAL_STATUSES:
        mark_room_released(appointment, now)


def hold_has_expired(appointment: Appointment, now: datetime) -> bool:
    return (
        appointment.status is S.PROPOSED
        and appointment.hold_expires_at is not None
        and appointment.hold_expires_at <= now
    )


def expire_hold(uow: UnitOfWork, appointment: Appointment, now: datetime) -> None:
    set_status(appointment, next_status(appointment.status, A.EXPIRE), now)
    appointment.cancel_reason = HOLD_EXPIRED
    audit(uow, "appointment.expire", appointment.id)


async def expire_holds(uow: UnitOfWork, now: datetime) -> None:
    """Cancels every hold past its expiry, so lists and the job see them as they are."""
    await uow.session.execute(
        update(Appointment)
        .where(Appointment.status == S.PROPOSED, Appointment.hold_expires_at <= now)
        .values(status=S.CANCELLED, status_changed_at=now, cancel_reason=HOLD_EXPIRED)
        .execution_options(synchronize_session=False)
    )


async def load_appointment(
    uow: UnitOfWork,
    principal: Principal,
    appointment_id: uuid.UUID,
    action: str,
    now: datetime,
    *,
    write: bool = False,
) -> Appointment:
    """The appointment if the caller may see it, else 404; a lapsed hold is expired on sight.

    Writes lock the row until commit (SQLite: the write lock taken at BEGIN), so two callers
    acting on one appointment at once see each other's result.
    """
    query = select(Appointment).where(Appointment.id == appointment_id)
    if write:
        query = query.with_for_update()
    appointment = (await uow.session.execute(query)).scalar_one_or_none()
    if appointment is None or not can_see_appointment(principal, appointment):
        uow.audit.refuse(
            action,
            RESOURCE,
            appointment_id,
            NotFound("No appointment with this id is visible to you."),
        )
    if hold_has_expired(appointment, now):
        expire_hold(uow, appointment, now)
    return appointment


def check_action(
    uow: UnitOfWork,
    principal: Principal,
    appointment: Appointment,
    action: AppointmentAction,
    now: datetime,
) -> AppointmentStatus:
    """Authorises `action` and returns the status it leads to, auditing a refusal."""
    audit_action = f"appointment.{action.value}"
    if not may_act(principal, appointment, action):
        uow.audit.refuse(
            audit_action, RESOURCE, appointment.id, Forbidden("You may not do this to this visit.")
        )
    try:
        status = next_status(appointment.status, action)
        if action in AFTER_START and now < appointment.starts_at:
            raise Conflict(
                f"The visit starts at {utc_text(appointment.starts_at)}; it cannot be "
                f"{status.value.replace('_', ' ')} before it has begun.",
                current_status=appointment.status.value,
            )
    except ProblemError as error:
        uow.audit.refuse(audit_action, RESOURCE, appointment.id, error)
    return status
