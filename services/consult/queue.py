"""The work queue: the caller's visible cases by deadline, keyset-paginated, and overdue counts."""

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, tuple_

from services.common.auth import Principal
from services.common.db import utcnow
from services.common.errors import BadRequest, Forbidden
from services.common.uow import UnitOfWork
from services.consult.access import can_list, require_scope, visible_cases
from services.consult.enums import OPEN_STATUSES, CaseStatus
from services.consult.models import Case
from services.consult.service import audit, fail


@dataclass(frozen=True)
class QueueFilter:
    statuses: Sequence[CaseStatus] = field(default_factory=tuple)
    specialty: str | None = None
    overdue: bool = False


def encode_cursor(due_at: datetime, case_id: uuid.UUID) -> str:
    """Opaque to clients: base64url of the last row's sort key."""
    raw = json.dumps([due_at.isoformat(), str(case_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due_at_text, case_id_text = json.loads(raw)
        due_at = datetime.fromisoformat(due_at_text)
        case_id = uuid.UUID(case_id_text)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError) as error:
        raise BadRequest("The cursor is not one this service issued.") from error
    if due_at.tzinfo is None:
        raise BadRequest("The cursor is not one this service issued.")
    return due_at, case_id


def _check_listing(uow: UnitOfWork, principal: Principal, action: str) -> None:
    try:
        require_scope(principal, write=False)
        if not can_list(principal):
            raise Forbidden("Your role does not work with consultation cases.")
    except Forbidden as error:
        fail(uow, action, None, error)


async def list_cases(
    uow: UnitOfWork,
    principal: Principal,
    filters: QueueFilter,
    *,
    limit: int,
    cursor: str | None = None,
    now: datetime | None = None,
) -> tuple[Sequence[Case], str | None]:
    """One page of visible cases ordered by (due_at, id), and the cursor of the next page."""
    after = decode_cursor(cursor) if cursor else None
    _check_listing(uow, principal, "case.list")
    query = select(Case).where(visible_cases(principal))
    if filters.statuses:
        query = query.where(Case.status.in_(filters.statuses))
    if filters.specialty:
        query = query.where(Case.specialty == filters.specialty)
    if filters.overdue:
        query = query.where(Case.due_at < (now or utcnow()), Case.status.in_(OPEN_STATUSES))
    if after is not None:
        query = query.where(tuple_(Case.due_at, Case.id) > after)
    query = query.order_by(Case.due_at, Case.id).limit(limit + 1)
    cases = (await uow.session.scalars(query)).all()
    page, more = cases[:limit], len(cases) > limit
    audit(uow, "case.list", None, detail=f"{len(page)} cases")
    return page, encode_cursor(page[-1].due_at, page[-1].id) if more else None


async def count_overdue(
    uow: UnitOfWork, principal: Principal, *, now: datetime | None = None
) -> int:
    """Open cases past their deadline among those the caller sees."""
    _check_listing(uow, principal, "case.count_overdue")
    query = select(func.count()).where(
        visible_cases(principal),
        Case.status.in_(OPEN_STATUSES),
        Case.due_at < (now or utcnow()),
    )
    count = await uow.session.scalar(query)
    audit(uow, "case.count_overdue", None, detail=f"{count} overdue")
    return count or 0
