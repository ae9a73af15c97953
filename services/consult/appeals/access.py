"""Who may see an appeal, loading one with that check, and the audit and history of each step.

The hotline operator is a coordinator: they work for their region, and every appeal of the
region is theirs to read and handle. A patient reads their own appeals; an API client (a
regional MIS) reads those it filed.
"""

import uuid
from datetime import datetime

from sqlalchemy import select

from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.errors import Forbidden, NotFound
from services.common.uow import UnitOfWork
from services.consult.appeals.enums import AppealEventKind
from services.consult.appeals.models import Appeal, AppealEvent
from services.consult.scopes import require_scope

RESOURCE = "consult_appeal"


def audit(
    uow: UnitOfWork,
    action: str,
    appeal_id: uuid.UUID | None,
    outcome: Outcome = Outcome.SUCCESS,
    detail: str | None = None,
) -> None:
    uow.audit.record(action, RESOURCE, appeal_id, outcome, detail=detail)


def is_operator(principal: Principal, region: str) -> bool:
    return principal.role is Role.COORDINATOR and principal.region == region


def can_see(principal: Principal, appeal: Appeal) -> bool:
    if principal.role is Role.PATIENT:
        return appeal.patient_id == principal.subject
    if principal.role is Role.API_CLIENT:
        return appeal.created_by == principal.subject
    return is_operator(principal, appeal.region)


def add_event(
    uow: UnitOfWork,
    appeal_id: uuid.UUID,
    kind: AppealEventKind,
    now: datetime,
    principal: Principal | None,
    *,
    to_organization_id: uuid.UUID | None = None,
    from_organization_id: uuid.UUID | None = None,
    note: str | None = None,
) -> None:
    uow.session.add(
        AppealEvent(
            appeal_id=appeal_id,
            kind=kind,
            at=now,
            actor_id=principal.subject if principal else None,
            actor_role=principal.role.value if principal else None,
            from_organization_id=from_organization_id,
            to_organization_id=to_organization_id,
            note=note,
        )
    )


async def load_appeal(
    uow: UnitOfWork,
    principal: Principal,
    appeal_id: uuid.UUID,
    action: str,
    *,
    write: bool = False,
) -> Appeal:
    """The appeal if the caller may see it, else 404; writes lock its row until commit."""
    try:
        require_scope(principal, write=write)
    except Forbidden as error:
        uow.audit.refuse(action, RESOURCE, appeal_id, error)
    query = select(Appeal).where(Appeal.id == appeal_id)
    if write:
        query = query.with_for_update()
    appeal = (await uow.session.execute(query)).scalar_one_or_none()
    if appeal is None or not can_see(principal, appeal):
        uow.audit.refuse(
            action, RESOURCE, appeal_id, NotFound("No appeal with this id is visible to you.")
        )
    return appeal
