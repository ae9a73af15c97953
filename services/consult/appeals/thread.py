"""An appeal's thread: its first text, then messages both ways (what the person writes later,
staff's replies, the answer, automatic replies). An outgoing message on an appeal that came by
a chat is owed to that chat (`MessageDelivery`), which the chats' courier sends."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from services.common.auth import Principal
from services.common.errors import Conflict, Forbidden, ProblemError
from services.common.uow import UnitOfWork
from services.consult.appeals.access import RESOURCE, audit, is_operator, load_appeal
from services.consult.appeals.enums import (
    OPEN_APPEAL_STATUSES,
    AppealChannel,
    DeliveryStatus,
    MessageKind,
)
from services.consult.appeals.models import Appeal, AppealMessage, MessageDelivery
from services.consult.appeals.schemas import DeliveryOut, DeliveryState, MessageOut, ThreadNews

# How long a reply is retried before it is given up as failed: a chat answered a day late is
# still better answered, later it is another conversation.
DELIVERY_WINDOW = timedelta(days=1)


def post(
    uow: UnitOfWork,
    appeal: Appeal,
    kind: MessageKind,
    text: str,
    now: datetime,
    *,
    channel: AppealChannel | None = None,
    author_id: uuid.UUID | None = None,
    author_name: str | None = None,
    external_id: str | None = None,
) -> AppealMessage:
    """Adds a message; an outgoing one is owed to the appeal's chat, if it came by one."""
    message = AppealMessage(
        appeal_id=appeal.id,
        kind=kind,
        channel=channel or appeal.channel,
        author_id=author_id,
        author_name=author_name,
        text=text,
        at=now,
        external_id=external_id,
    )
    uow.session.add(message)
    if kind is not MessageKind.PERSON and appeal.reply_channel is not None:
        uow.session.add(
            MessageDelivery(
                id=uuid.uuid4(),
                message=message,
                appeal_id=appeal.id,
                channel=appeal.reply_channel,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                give_up_at=now + DELIVERY_WINDOW,
            )
        )
    return message


def _first(appeal: Appeal) -> MessageOut:
    return MessageOut(
        id=None,
        kind=MessageKind.PERSON,
        direction="in",
        channel=appeal.channel,
        author_id=None,
        author_name=appeal.contact_name,
        text=appeal.text,
        at=appeal.received_at,
        delivery=None,
    )


def message_out(message: AppealMessage, delivery: MessageDelivery | None) -> MessageOut:
    return MessageOut(
        id=message.id,
        kind=message.kind,
        direction="in" if message.kind is MessageKind.PERSON else "out",
        channel=message.channel,
        author_id=message.author_id,
        author_name=message.author_name,
        text=message.text,
        at=message.at,
        delivery=None if delivery is None else DeliveryOut.model_validate(delivery),
    )


async def _messages_after(uow: UnitOfWork, appeal: Appeal, after: int) -> list[MessageOut]:
    query = (
        select(AppealMessage, MessageDelivery)
        .outerjoin(MessageDelivery, MessageDelivery.message_id == AppealMessage.id)
        .where(AppealMessage.appeal_id == appeal.id, AppealMessage.id > after)
        .order_by(AppealMessage.id)
    )
    rows = (await uow.session.execute(query)).all()
    return [message_out(message, delivery) for message, delivery in rows]


async def messages_of(uow: UnitOfWork, appeal: Appeal) -> list[MessageOut]:
    return [_first(appeal), *await _messages_after(uow, appeal, 0)]


async def read_thread(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID
) -> list[MessageOut]:
    """Whoever may see the appeal reads its thread: its operators, the patient, its filer."""
    action = "appeal.thread.read"
    appeal = await load_appeal(uow, principal, appeal_id, action)
    messages = await messages_of(uow, appeal)
    audit(uow, action, appeal.id)
    return messages


async def thread_news(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID, after: int
) -> ThreadNews:
    """What a reader who has the thread up to message `after` has not seen, for a page that asks
    every few seconds. New messages are patient data (the person's words, staff's replies to
    them), so an answer with any is audited; one with none holds only the appeal's status and
    the sending of messages the reader has, nothing of the person's, and is not: a page left
    open for an hour writes no record for the polls that found nothing. Refusals are audited
    as ever."""
    action = "appeal.thread.read"
    appeal = await load_appeal(uow, principal, appeal_id, action)
    messages = await _messages_after(uow, appeal, after)
    query = (
        select(MessageDelivery)
        .where(MessageDelivery.appeal_id == appeal.id, MessageDelivery.message_id <= after)
        .order_by(MessageDelivery.message_id)
    )
    deliveries = [DeliveryState.model_validate(each) for each in await uow.session.scalars(query)]
    if messages:
        audit(uow, action, appeal.id, detail=f"messages after {after}")
    return ThreadNews(status=appeal.status, messages=messages, deliveries=deliveries)


async def reply(
    uow: UnitOfWork, principal: Principal, appeal_id: uuid.UUID, text: str, now: datetime
) -> MessageOut:
    """A reply of the region's operators to an open appeal; sent to its chat, if it came by one."""
    action = "appeal.thread.reply"
    appeal = await load_appeal(uow, principal, appeal_id, action, write=True)
    try:
        if not is_operator(principal, appeal.region):
            raise Forbidden("Only the region's hotline operators (coordinators) reply.")
        if appeal.status not in OPEN_APPEAL_STATUSES:
            raise Conflict(
                f"The appeal is {appeal.status.value}: it takes no more replies.",
                current_status=appeal.status.value,
            )
    except ProblemError as error:
        uow.audit.refuse(action, RESOURCE, appeal.id, error)
    message = post(uow, appeal, MessageKind.REPLY, text, now, author_id=principal.subject)
    appeal.updated_at = now
    await uow.session.flush()
    delivery = await uow.session.scalar(
        select(MessageDelivery).where(MessageDelivery.message_id == message.id)
    )
    audit(uow, action, appeal.id, detail=f"message {message.id}")
    return message_out(message, delivery)
