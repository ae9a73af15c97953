"""A case's message thread: reading it and writing to it, for everyone who sees the case."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select

from services.common.auth import Principal
from services.common.uow import UnitOfWork
from services.consult.cases.enums import MessageKind
from services.consult.cases.models import Message
from services.consult.cases.transitions import audit, load_case, new_message


async def list_messages(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID
) -> Sequence[Message]:
    case = await load_case(uow, principal, case_id, "message.list")
    query = select(Message).where(Message.case_id == case.id)
    messages = (await uow.session.scalars(query.order_by(Message.created_at, Message.id))).all()
    audit(uow, "message.list", case.id)
    return messages


async def post_message(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, text: str
) -> Message:
    """Coordinators may write here although they change nothing else on the case."""
    case = await load_case(uow, principal, case_id, "message.post", write=True)
    message = new_message(case, principal, MessageKind.COMMENT, text)
    uow.session.add(message)
    await uow.session.flush()
    audit(uow, "message.post", case.id)
    return message
