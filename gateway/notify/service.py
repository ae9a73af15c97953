"""Notify rules: a person's preferences, the delivery log and who reads it, resending.

Every read and change of them is audited; someone else's message is a 404, as if it did not
exist.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select, tuple_

from gateway.models import User
from gateway.notify import schemas
from gateway.notify.access import may_read, sees_everyone, visible_messages
from gateway.notify.enums import (
    OPTIONAL_CATEGORIES,
    Category,
    Channel,
    DeliveryStatus,
    MessageStatus,
    Template,
)
from gateway.notify.models import Delivery, DeliveryAttempt, Message, Preferences
from gateway.notify.outbox import add_deliveries, plan_for
from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, NotFound
from services.common.pagination import decode_cursor, encode_cursor
from services.common.uow import UnitOfWork

MESSAGE = "notify_message"
PREFERENCES = "notify_preferences"
REDACTED = "[redacted]"
# Parameters whose value lets its holder in (a password link, a video visit's join link).
SECRET_PARAMS = frozenset({"link", "join_link"})
_UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def summarise(statuses: set[DeliveryStatus]) -> MessageStatus:
    if DeliveryStatus.SENT in statuses:
        return MessageStatus.SENT
    if statuses & set(_UNSETTLED):
        return MessageStatus.PENDING
    if DeliveryStatus.FAILED in statuses:
        return MessageStatus.FAILED
    if DeliveryStatus.SKIPPED in statuses:
        return MessageStatus.SKIPPED
    return MessageStatus.UNDELIVERABLE


def _has(*statuses: DeliveryStatus) -> ColumnElement[bool]:
    return (
        select(Delivery.id)
        .where(Delivery.message_id == Message.id, Delivery.status.in_(statuses))
        .exists()
    )


def _in_status(status: MessageStatus) -> ColumnElement[bool]:
    """`summarise` as an SQL filter on messages."""
    settled_before = {
        MessageStatus.SENT: (),
        MessageStatus.PENDING: (DeliveryStatus.SENT,),
        MessageStatus.FAILED: (DeliveryStatus.SENT, *_UNSETTLED),
        MessageStatus.SKIPPED: (DeliveryStatus.SENT, *_UNSETTLED, DeliveryStatus.FAILED),
    }
    if status is MessageStatus.UNDELIVERABLE:
        return ~_has(*DeliveryStatus)
    wanted = {
        MessageStatus.SENT: (DeliveryStatus.SENT,),
        MessageStatus.PENDING: _UNSETTLED,
        MessageStatus.FAILED: (DeliveryStatus.FAILED,),
        MessageStatus.SKIPPED: (DeliveryStatus.SKIPPED,),
    }[status]
    excluded = settled_before[status]
    return and_(_has(*wanted), ~_has(*excluded)) if excluded else _has(*wanted)


# Preferences


async def _person(uow: UnitOfWork, principal: Principal, user_id: uuid.UUID, action: str) -> User:
    person = await uow.session.get(User, user_id)
    if person is None or not may_read(principal, user_id):
        uow.audit.refuse(action, PREFERENCES, user_id, NotFound(f"No person {user_id}."))
    return person


def _preferences_view(user_id: uuid.UUID, row: Preferences | None) -> schemas.Preferences:
    if row is None:
        return schemas.Preferences(user_id=user_id)
    opted_out = [c.value for c in OPTIONAL_CATEGORIES if c.value in row.opted_out]
    return schemas.Preferences.model_validate(
        {"user_id": user_id, "email": row.email, "sms": row.sms, "opted_out": opted_out}
    )


async def get_preferences(
    uow: UnitOfWork, principal: Principal, user_id: uuid.UUID | None
) -> schemas.Preferences:
    target = user_id or principal.subject
    await _person(uow, principal, target, "notify_preferences.read")
    uow.audit.record("notify_preferences.read", PREFERENCES, target)
    return _preferences_view(target, await uow.session.get(Preferences, target))


async def put_preferences(
    uow: UnitOfWork, principal: Principal, body: schemas.PreferencesUpdate
) -> schemas.Preferences:
    """The caller's own; nobody else changes them (an administrator reads them)."""
    user_id = principal.subject
    await _person(uow, principal, user_id, "notify_preferences.update")
    row = await uow.session.get(Preferences, user_id)
    if row is None:
        row = Preferences(user_id=user_id)
        uow.session.add(row)
    row.email, row.sms, row.opted_out = body.email, body.sms, sorted(set(body.opted_out))
    await uow.session.flush()
    detail = f"email={body.email} sms={body.sms} opted_out={','.join(row.opted_out)}"
    uow.audit.record("notify_preferences.update", PREFERENCES, user_id, detail=detail)
    return _preferences_view(user_id, row)


async def opt_out(uow: UnitOfWork, user_id: uuid.UUID, category: Category) -> None:
    """An unsubscribe link's effect (no sign-in: the link is the authority)."""
    row = await uow.session.get(Preferences, user_id)
    if row is None:
        row = Preferences(user_id=user_id, email=True, sms=True, opted_out=[])
        uow.session.add(row)
    row.opted_out = sorted({*row.opted_out, category.value})
    await uow.session.flush()
    uow.audit.record("notify_preferences.unsubscribe", PREFERENCES, user_id, detail=category.value)


# The delivery log


@dataclass(frozen=True)
class MessageFilter:
    recipient_id: uuid.UUID | None = None
    status: MessageStatus | None = None
    template: Template | None = None
    since: datetime | None = None


def _message_view(message: Message, statuses: set[DeliveryStatus]) -> schemas.Message:
    return schemas.Message(
        id=message.id,
        recipient_id=message.recipient_id,
        template=message.template,
        category=message.template.category,
        status=summarise(statuses),
        undeliverable=message.undeliverable,
        created_at=message.created_at,
    )


async def list_messages(
    uow: UnitOfWork,
    principal: Principal,
    filters: MessageFilter,
    *,
    limit: int,
    cursor: str | None = None,
) -> schemas.MessagePage:
    """Newest first, keyset-paginated by (created_at, id): everyone's for administrators,
    the caller's own for everyone else."""
    after = decode_cursor(cursor) if cursor else None
    action = "notify_message.list"
    if filters.recipient_id and not may_read(principal, filters.recipient_id):
        uow.audit.refuse(
            action, MESSAGE, None, Forbidden("Only administrators read others' messages.")
        )
    query = select(Message).where(visible_messages(principal))
    if filters.recipient_id:
        query = query.where(Message.recipient_id == filters.recipient_id)
    if filters.status:
        query = query.where(_in_status(filters.status))
    if filters.template:
        query = query.where(Message.template == filters.template)
    if filters.since:
        query = query.where(Message.created_at >= filters.since)
    if after is not None:
        query = query.where(tuple_(Message.created_at, Message.id) < after)
    query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit + 1)
    rows = list((await uow.session.scalars(query)).all())
    page = rows[:limit]
    statuses: dict[uuid.UUID, set[DeliveryStatus]] = {row.id: set() for row in page}
    for message_id, status in await uow.session.execute(
        select(Delivery.message_id, Delivery.status).where(Delivery.message_id.in_(statuses))
    ):
        statuses[message_id].add(status)
    uow.audit.record(action, MESSAGE, None, detail=f"returned={len(page)}")
    more = len(rows) > limit
    return schemas.MessagePage(
        items=[_message_view(row, statuses[row.id]) for row in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more else None,
    )


async def _message(
    uow: UnitOfWork, principal: Principal, message_id: uuid.UUID, action: str
) -> Message:
    message = await uow.session.scalar(
        select(Message).where(Message.id == message_id, visible_messages(principal))
    )
    if message is None:
        uow.audit.refuse(action, MESSAGE, message_id, NotFound(f"No message {message_id}."))
    return message


def _redacted(params: dict[str, Any]) -> dict[str, Any]:
    return {name: REDACTED if name in SECRET_PARAMS else value for name, value in params.items()}


async def _detail(uow: UnitOfWork, message: Message) -> schemas.MessageDetail:
    deliveries = list(
        await uow.session.scalars(
            select(Delivery)
            .where(Delivery.message_id == message.id)
            .order_by(Delivery.created_at, Delivery.channel)
        )
    )
    attempts: dict[uuid.UUID, list[schemas.Attempt]] = {d.id: [] for d in deliveries}
    for attempt in await uow.session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(attempts))
        .order_by(DeliveryAttempt.at, DeliveryAttempt.id)
    ):
        attempts[attempt.delivery_id].append(schemas.Attempt.model_validate(attempt))
    view = _message_view(message, {delivery.status for delivery in deliveries})
    return schemas.MessageDetail(
        **view.model_dump(),
        params=_redacted(message.params),
        deliveries=[
            schemas.DeliveryDetail(
                **schemas.Delivery.model_validate(delivery).model_dump(),
                attempt_log=attempts[delivery.id],
            )
            for delivery in deliveries
        ],
    )


async def get_message(
    uow: UnitOfWork, principal: Principal, message_id: uuid.UUID
) -> schemas.MessageDetail:
    message = await _message(uow, principal, message_id, "notify_message.read")
    uow.audit.record("notify_message.read", MESSAGE, message_id)
    return await _detail(uow, message)


async def resend(
    uow: UnitOfWork, principal: Principal, message_id: uuid.UUID, channel: Channel | None
) -> schemas.MessageDetail:
    """New deliveries of the same message, due now with a give-up window of their own, to the
    person's addresses and by their choices as they are now (a corrected email address)."""
    action = "notify_message.resend"
    if not sees_everyone(principal):
        uow.audit.refuse(
            action, MESSAGE, message_id, Forbidden("Only administrators resend messages.")
        )
    message = await _message(uow, principal, message_id, action)
    plan = await plan_for(uow.session, message.recipient_id, message.template)
    pending = [d for d in plan.pending if channel is None or d.channel is channel]
    if not pending:
        why = plan.why_not(channel)
        uow.audit.refuse(action, MESSAGE, message_id, Conflict(f"Nothing to resend: {why}."))
    created = await add_deliveries(uow.session, message.id, pending, resent_by=principal.subject)
    await uow.session.flush()
    uow.audit.record(action, MESSAGE, message_id, detail=" ".join(f"delivery={d}" for d in created))
    return await _detail(uow, message)
