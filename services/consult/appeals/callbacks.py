"""Callback tasks: the calls an organisation owes a patient after a dropped call (typed in by
the operator, or reported by the PBX) or to give an answer by phone, their attempts and
outcomes, and an operator's queue of those due.

A call is placed within the calling organisation's working hours: one due at night, or a retry
that would fall after closing, waits for the next opening.
"""

import uuid
from datetime import datetime

from sqlalchemy import or_, select, tuple_, update
from sqlalchemy.orm import selectinload

from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from services.common.pagination import decode_cursor, encode_cursor
from services.common.uow import UnitOfWork
from services.consult.appeals.access import add_event, is_operator, load_appeal
from services.consult.appeals.enums import (
    AppealChannel,
    AppealEventKind,
    AppealStatus,
    CallbackOutcome,
    CallbackReason,
    CallbackStatus,
)
from services.consult.appeals.models import Appeal, Call, Callback, CallbackAttempt
from services.consult.appeals.schemas import CallbackAttemptCreate, CallbackCreate
from services.consult.appeals.settings import AppealsSettings
from services.consult.appeals.working_hours import clock_start
from services.consult.ports import OrganizationLookup
from services.consult.scopes import require_scope

RESOURCE = "consult_callback"
# Appeals that are over and owe the patient nothing more, so no call is scheduled for them.
FINISHED = frozenset({AppealStatus.REDIRECTED, AppealStatus.CLOSED})
# ...and those whose answer is given too: a call dropped after it owes no call back.
OVER = FINISHED | {AppealStatus.RESOLVED}


async def _within_hours(
    organizations: OrganizationLookup, organization_id: uuid.UUID, at: datetime
) -> datetime:
    return clock_start(await organizations(organization_id), at)


async def _new_callback(
    uow: UnitOfWork,
    principal: Principal,
    appeal: Appeal | None,
    reason: CallbackReason,
    phone: str,
    organization_id: uuid.UUID,
    due_at: datetime,
    settings: AppealsSettings,
    now: datetime,
    *,
    assignee_id: uuid.UUID | None,
    region: str,
    call_id: uuid.UUID | None = None,
) -> Callback:
    callback = Callback(
        id=uuid.uuid4(),
        appeal_id=appeal.id if appeal else None,
        call_id=call_id,
        region=region,
        organization_id=organization_id,
        assignee_id=assignee_id,
        created_by=principal.subject,
        phone=phone,
        reason=reason,
        status=CallbackStatus.PENDING,
        due_at=due_at,
        attempts=0,
        max_attempts=settings.callbacks.max_attempts,
        attempt_log=[],
        created_at=now,
        updated_at=now,
    )
    uow.session.add(callback)
    note = f"{reason.value}, due {due_at.isoformat()}"
    if appeal is not None:
        add_event(
            uow,
            appeal.id,
            AppealEventKind.CALLBACK_SCHEDULED,
            now,
            principal,
            to_organization_id=organization_id,
            note=note,
        )
    await uow.session.flush()
    uow.audit.record("callback.create", RESOURCE, callback.id, detail=note)
    return callback


def phone_for_answer(appeal: Appeal, answer_by_phone: bool | None) -> str | None:
    """The number to call with the answer, or None when none is owed: by default a phone appeal
    not resolved at first contact, as the caller has hung up since."""
    wanted = answer_by_phone
    if wanted is None:
        wanted = appeal.channel is AppealChannel.PHONE and not appeal.first_contact_resolution
    if wanted and appeal.contact_phone is None:
        raise Unprocessable("The appeal has no contact phone to give the answer by.")
    return appeal.contact_phone if wanted else None


async def owe_phone_answer(
    uow: UnitOfWork,
    principal: Principal,
    appeal: Appeal,
    phone: str,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> None:
    """A call to tell the patient what was done, in the responsible organisation's queue."""
    organization_id = appeal.organization_id or principal.organization_id
    if organization_id is None:
        raise Unprocessable("No organisation is responsible for the appeal to make the call.")
    due_at = await _within_hours(
        organizations, organization_id, now + settings.callbacks.due_within
    )
    await _new_callback(
        uow,
        principal,
        appeal,
        CallbackReason.PHONE_ANSWER,
        phone,
        organization_id,
        due_at,
        settings,
        now,
        assignee_id=None,  # the queue of the organisation that gives the answer
        region=appeal.region,
    )


async def owe_dropped_call(
    uow: UnitOfWork,
    principal: Principal,
    call: Call,
    appeal: Appeal | None,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> Callback | None:
    """The call a dropped PBX call leaves the line's hotline: none when the number was
    withheld, the call already left one, or its appeal is over. Kept for the operator who
    linked the call to an appeal during it, who knows the conversation; else any of them."""
    if call.caller is None or (appeal is not None and appeal.status in OVER):
        return None
    if await uow.session.scalar(select(Callback.id).where(Callback.call_id == call.id)):
        return None
    due_at = await _within_hours(
        organizations, call.organization_id, now + settings.callbacks.due_within
    )
    return await _new_callback(
        uow,
        principal,
        appeal,
        CallbackReason.DROPPED_CALL,
        call.caller,
        call.organization_id,
        due_at,
        settings,
        now,
        assignee_id=call.linked_by,
        region=call.region,
        call_id=call.id,
    )


async def cancel_callbacks(uow: UnitOfWork, appeal: Appeal, now: datetime) -> None:
    """An appeal that is over owes no call: its pending callbacks are cancelled with it."""
    await uow.session.execute(
        update(Callback)
        .where(Callback.appeal_id == appeal.id, Callback.status == CallbackStatus.PENDING)
        .values(status=CallbackStatus.CANCELLED, closed_at=now, updated_at=now)
    )


async def schedule_callback(
    uow: UnitOfWork,
    principal: Principal,
    appeal_id: uuid.UUID,
    data: CallbackCreate,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> Callback:
    """An operator schedules a call: after a dropped call for themselves (their organisation
    calls back), or for the responsible organisation to give its answer by phone."""
    action = "callback.create"
    appeal = await load_appeal(uow, principal, appeal_id, action, write=True)
    try:
        if not is_operator(principal, appeal.region) or principal.organization_id is None:
            raise Forbidden("The region's hotline operators schedule callbacks.")
        if appeal.status in FINISHED:
            raise Conflict(
                f"The appeal is {appeal.status.value}: no call is owed.",
                current_status=appeal.status.value,
            )
        phone = data.phone or appeal.contact_phone
        if phone is None:
            raise Unprocessable("The appeal has no contact phone: give the `phone` to call.")
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, None, error)
    organization_id = principal.organization_id
    if data.reason is CallbackReason.PHONE_ANSWER and appeal.organization_id is not None:
        organization_id = appeal.organization_id
    due_at = data.due_at or await _within_hours(
        organizations, organization_id, now + settings.callbacks.due_within
    )
    # After a dropped call the operator who lost it calls back, knowing the conversation; a
    # phone answer goes to the queue of the organisation that gives it.
    assignee_id = principal.subject if data.reason is CallbackReason.DROPPED_CALL else None
    return await _new_callback(
        uow, principal, appeal, data.reason, phone, organization_id, due_at, settings, now,
        assignee_id=assignee_id, region=appeal.region,
    )  # fmt: skip


async def _load_callback(
    uow: UnitOfWork, principal: Principal, callback_id: uuid.UUID, action: str, *, write: bool
) -> Callback:
    """The callback with its attempts if the caller is an operator of its region, else 404."""
    try:
        require_scope(principal, write=write)
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, callback_id, error)
    query = (
        select(Callback)
        .where(Callback.id == callback_id)
        .options(selectinload(Callback.attempt_log))
    )
    if write:
        query = query.with_for_update()
    callback = (await uow.session.execute(query)).scalar_one_or_none()
    if callback is None or not is_operator(principal, callback.region):
        uow.audit.refuse(
            action, RESOURCE, callback_id, NotFound("No callback with this id is visible to you.")
        )
    return callback


async def record_attempt(
    uow: UnitOfWork,
    principal: Principal,
    callback_id: uuid.UUID,
    data: CallbackAttemptCreate,
    organizations: OrganizationLookup,
    settings: AppealsSettings,
    now: datetime,
) -> Callback:
    """One call and its outcome: reached closes the task; no answer or busy retries later,
    until the attempts allowed are spent and it fails."""
    action = "callback.attempt"
    callback = await _load_callback(uow, principal, callback_id, action, write=True)
    try:
        if principal.organization_id != callback.organization_id:
            raise Forbidden("Operators of the organisation that owes the call make it.")
        if callback.status is not CallbackStatus.PENDING:
            raise Conflict(
                f"The callback is {callback.status.value}.", current_status=callback.status.value
            )
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, callback.id, error)
    callback.attempts += 1
    callback.last_outcome = data.outcome
    callback.updated_at = now
    callback.attempt_log.append(
        CallbackAttempt(
            id=uuid.uuid4(),
            operator_id=principal.subject,
            outcome=data.outcome,
            note=data.note,
            at=now,
        )
    )
    if data.outcome is CallbackOutcome.REACHED:
        callback.status, callback.closed_at = CallbackStatus.REACHED, now
    elif callback.attempts >= callback.max_attempts:
        callback.status, callback.closed_at = CallbackStatus.FAILED, now
    else:
        callback.due_at = await _within_hours(
            organizations, callback.organization_id, now + settings.callbacks.retry_after
        )
    note = f"{data.outcome.value}, attempt {callback.attempts} of {callback.max_attempts}"
    if callback.appeal_id is not None:
        add_event(
            uow, callback.appeal_id, AppealEventKind.CALLBACK_ATTEMPTED, now, principal, note=note
        )
    await uow.session.flush()
    uow.audit.record(action, RESOURCE, callback.id, detail=note)
    return callback


async def due_callbacks(
    uow: UnitOfWork,
    principal: Principal,
    now: datetime,
    *,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[Callback], str | None]:
    """The operator's queue: their organisation's pending calls due by now, those kept for
    another operator left out, earliest first."""
    action = "callback.list"
    after = decode_cursor(cursor) if cursor else None
    if principal.role is not Role.COORDINATOR or principal.organization_id is None:
        uow.audit.refuse(
            action, RESOURCE, None, Forbidden("Callbacks are made by hotline operators.")
        )
    query = (
        select(Callback)
        .where(
            Callback.organization_id == principal.organization_id,
            Callback.status == CallbackStatus.PENDING,
            Callback.due_at <= now,
            or_(Callback.assignee_id.is_(None), Callback.assignee_id == principal.subject),
        )
        .options(selectinload(Callback.attempt_log))
        .order_by(Callback.due_at, Callback.id)
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(Callback.due_at, Callback.id) > after)
    rows = list((await uow.session.scalars(query)).all())
    page = rows[:limit]
    uow.audit.record(action, RESOURCE, None, detail=f"{len(page)} due")
    more = len(rows) > limit
    return page, encode_cursor(page[-1].due_at, page[-1].id) if more else None


async def appeal_callbacks(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID
) -> list[Callback]:
    action = "callback.list"
    appeal = await load_appeal(uow, principal, appeal_id, action)
    if not is_operator(principal, appeal.region):
        uow.audit.refuse(
            action, RESOURCE, None, Forbidden("An appeal's callbacks are for its operators.")
        )
    query = (
        select(Callback)
        .where(Callback.appeal_id == appeal.id)
        .options(selectinload(Callback.attempt_log))
        .order_by(Callback.created_at, Callback.id)
    )
    callbacks = list((await uow.session.scalars(query)).all())
    uow.audit.record(action, RESOURCE, None, detail=f"{len(callbacks)} of appeal {appeal.id}")
    return callbacks
