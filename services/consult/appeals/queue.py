"""The appeals queue: the region's appeals by deadline for its operators, keyset-paginated, and
a patient's own appeals, newest first."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, select, tuple_

from services.common.auth import Principal, Role
from services.common.errors import Forbidden, ProblemError
from services.common.pagination import decode_cursor, encode_cursor
from services.common.uow import UnitOfWork
from services.consult.appeals.access import RESOURCE as APPEAL_RESOURCE
from services.consult.appeals.access import audit
from services.consult.appeals.enums import (
    OPEN_APPEAL_STATUSES,
    AppealCategory,
    AppealChannel,
    AppealStatus,
)
from services.consult.appeals.models import Appeal
from services.consult.appeals.schemas import AppealSummary
from services.consult.scopes import require_scope

MAX_OWN = 100
# Read as plain rows, as the case queue does: only the columns a summary shows.
SUMMARY_FIELDS = tuple(name for name in AppealSummary.model_fields if name != "overdue")
SUMMARY_COLUMNS = tuple(Appeal.__table__.c[name] for name in SUMMARY_FIELDS)


def summarise(row: Sequence[Any], now: datetime) -> AppealSummary:
    values = dict(zip(SUMMARY_FIELDS, row, strict=True))
    overdue = values["status"] in OPEN_APPEAL_STATUSES and values["due_at"] < now
    return AppealSummary.model_validate(values | {"overdue": overdue})


def summaries(rows: Sequence[Row[Any]], now: datetime) -> list[AppealSummary]:
    return [summarise(row, now) for row in rows]


@dataclass(frozen=True)
class AppealFilter:
    statuses: Sequence[AppealStatus] = field(default_factory=tuple)
    organization_id: uuid.UUID | None = None
    category: AppealCategory | None = None
    channel: AppealChannel | None = None
    overdue: bool = False
    escalated: bool | None = None


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Operators see their region's appeals, an API client those it filed."""
    if principal.role is Role.COORDINATOR and principal.region is not None:
        return Appeal.region == principal.region
    if principal.role is Role.API_CLIENT:
        return Appeal.created_by == principal.subject
    raise Forbidden("The appeals queue is for hotline operators and API clients.")


def _filtered(filters: AppealFilter, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    wanted = set(filters.statuses) or set(AppealStatus)
    if filters.overdue:
        wanted &= OPEN_APPEAL_STATUSES
        conditions.append(Appeal.due_at < now)
    if wanted != set(AppealStatus):
        conditions.append(Appeal.status.in_(sorted(wanted)))
    if filters.organization_id is not None:
        conditions.append(Appeal.organization_id == filters.organization_id)
    if filters.category is not None:
        conditions.append(Appeal.category == filters.category)
    if filters.channel is not None:
        conditions.append(Appeal.channel == filters.channel)
    if filters.escalated is not None:
        flagged = Appeal.escalated_at.is_not(None)
        conditions.append(flagged if filters.escalated else Appeal.escalated_at.is_(None))
    return conditions


async def list_appeals(
    uow: UnitOfWork,
    principal: Principal,
    filters: AppealFilter,
    now: datetime,
    *,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[AppealSummary], str | None]:
    """One page ordered by (due_at, id), and the cursor of the next page."""
    action = "appeal.list"
    after = decode_cursor(cursor) if cursor else None
    try:
        require_scope(principal, write=False)
        visible = _visible(principal)
    except ProblemError as error:
        uow.audit.refuse(action, APPEAL_RESOURCE, None, error)
    query = select(*SUMMARY_COLUMNS).where(visible, *_filtered(filters, now))
    if after is not None:
        query = query.where(tuple_(Appeal.due_at, Appeal.id) > after)
    query = query.order_by(Appeal.due_at, Appeal.id).limit(limit + 1)
    rows = (await uow.session.execute(query)).all()
    page = summaries(rows[:limit], now)
    audit(uow, action, None, detail=f"{len(page)} appeals")
    more = len(rows) > limit
    return page, encode_cursor(page[-1].due_at, page[-1].id) if more else None


async def own_appeals(uow: UnitOfWork, principal: Principal, now: datetime) -> list[AppealSummary]:
    """A patient's appeals, newest first."""
    action = "appeal.list"
    if principal.role is not Role.PATIENT:
        uow.audit.refuse(
            action, APPEAL_RESOURCE, None, Forbidden("Patients list their own appeals here.")
        )
    query = (
        select(*SUMMARY_COLUMNS)
        .where(Appeal.patient_id == principal.subject)
        .order_by(Appeal.created_at.desc(), Appeal.id)
        .limit(MAX_OWN)
    )
    found = summaries((await uow.session.execute(query)).all(), now)
    audit(uow, action, None, detail=f"{len(found)} own appeals")
    return found
