"""Who may read whose messages and preferences: administrators anyone's, everyone their own."""

import uuid

from sqlalchemy import ColumnElement, true

from gateway.notify.models import Message
from services.common.auth import Principal, Role


def sees_everyone(principal: Principal) -> bool:
    return principal.role == Role.ADMIN


def may_read(principal: Principal, recipient_id: uuid.UUID) -> bool:
    return sees_everyone(principal) or principal.subject == recipient_id


def visible_messages(principal: Principal) -> ColumnElement[bool]:
    """`may_read` as an SQL filter on messages."""
    return true() if sees_everyone(principal) else Message.recipient_id == principal.subject
