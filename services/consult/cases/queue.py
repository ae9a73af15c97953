"""The work queue: the caller's visible cases by deadline, keyset-paginated, and overdue counts."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, select, tuple_

from services.common.auth import Principal
from services.common.db import utcnow
from services.common.errors import Forbidden
from services.common.pagination import decode_cursor, encode_cursor
from services.common.uow import UnitOfWork
from services.consult.cases.access import can_list, visible_cases
from services.consult.cases.enums import OPEN_STATUSES, CaseStatus
from services.consult.cases.models import Case, is_open
from services.consult.cases.schemas import CaseSummary
from services.consult.cases.transitions import RESOURCE as CASE_RESOURCE
from services.consult.cases.transitions import audit
from services.consult.scopes import require_scope
from services.consult.values import Urgency

# Only the columns the queue shows, read as plain rows: loading `Case` entities decoded the
# JSON columns (summary, attachment ids) and built ORM objects for every row, which cost far
# more CPU than the query itself. The names are CaseSummary's fields, so none can be missed
# (`overdue` is worked out on validation).
SUMMARY_FIELDS = tuple(name for name in CaseSummary.model_fields if name != "overdue")
SUMMARY_COLUMNS = tuple(Case.__table__.c[name] for name in SUMMARY_FIELDS)


def summaries(rows: Sequence[Row[Any]]) -> list[CaseSummary]:
    """Rows of `SUMMARY_COLUMNS` as summaries."""
    # Validated, not constructed: a dict per row validates faster than model_construct builds
    # one, and a value the database should never hold fails here instead of in the response.
    return [CaseSummary.model_validate(dict(zip(SUMMARY_FIELDS, row, strict=True))) for row in rows]


@dataclass(frozen=True)
class QueueFilter:
    statuses: Sequence[CaseStatus] = field(default_factory=tuple)
    specialty: str | None = None
    overdue: bool = False
    urgencies: Sequence[Urgency] = field(default_factory=tuple)


def _check_listing(uow: UnitOfWork, principal: Principal, action: str) -> None:
    try:
        require_scope(principal, write=False)
        if not can_list(principal):
            raise Forbidden("Your role does not work with consultation cases.")
    except Forbidden as error:
        uow.audit.refuse(action, CASE_RESOURCE, None, error)


def _status_filter(wanted: frozenset[CaseStatus]) -> ColumnElement[bool]:
    """`status IN wanted`, said so that a choice of open statuses can use the open-case indexes."""
    if wanted == OPEN_STATUSES:
        return is_open(Case.status)
    chosen = Case.status.in_(sorted(wanted))
    # Bound values prove nothing to a planner about a partial index's predicate; the literal
    # open-status term beside them does, and changes nothing when every wanted status is open.
    return chosen & is_open(Case.status) if wanted <= OPEN_STATUSES else chosen


def page_query(
    principal: Principal,
    filters: QueueFilter,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
    now: datetime | None = None,
) -> Select[*tuple[Any, ...]]:
    """The SQL of one page: `limit + 1` rows, so the extra one tells whether more follow."""
    query = select(*SUMMARY_COLUMNS).where(visible_cases(principal))
    wanted = frozenset(filters.statuses) if filters.statuses else None
    if filters.overdue:
        # Overdue means open and past the deadline, within the statuses asked for if any.
        query = query.where(Case.due_at < (now or utcnow()))
        wanted = OPEN_STATUSES if wanted is None else wanted & OPEN_STATUSES
    if wanted is not None:
        query = query.where(_status_filter(wanted))
    if filters.specialty:
        query = query.where(Case.specialty == filters.specialty)
    if filters.urgencies:
        # Filtered within the queue's own index range: a centre's queue is some tens of
        # cases a week, so an index per urgency would cost every write more than it saves.
        query = query.where(Case.urgency.in_(sorted(filters.urgencies)))
    if after is not None:
        query = query.where(tuple_(Case.due_at, Case.id) > after)
    return query.order_by(Case.due_at, Case.id).limit(limit + 1)


def overdue_count_query(principal: Principal, *, now: datetime | None = None) -> Select[int]:
    return select(func.count()).where(
        visible_cases(principal), is_open(Case.status), Case.due_at < (now or utcnow())
    )


async def list_cases(
    uow: UnitOfWork,
    principal: Principal,
    filters: QueueFilter,
    *,
    limit: int,
    cursor: str | None = None,
    now: datetime | None = None,
) -> tuple[list[CaseSummary], str | None]:
    """One page of visible cases ordered by (due_at, id), and the cursor of the next page."""
    after = decode_cursor(cursor) if cursor else None
    _check_listing(uow, principal, "case.list")
    query = page_query(principal, filters, limit=limit, after=after, now=now)
    rows = (await uow.session.execute(query)).all()
    page = summaries(rows[:limit])
    audit(uow, "case.list", None, detail=f"{len(page)} cases")
    more = len(rows) > limit
    return page, encode_cursor(page[-1].due_at, page[-1].id) if more else None


async def count_overdue(
    uow: UnitOfWork, principal: Principal, *, now: datetime | None = None
) -> int:
    """Open cases past their deadline among those the caller sees."""
    _check_listing(uow, principal, "case.count_overdue")
    count = await uow.session.scalar(overdue_count_query(principal, now=now))
    audit(uow, "case.count_overdue", None, detail=f"{count} overdue")
    return count or 0
