"""HTTP route answering when a case would be due: `/deadlines`, for forms that open cases."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.cases import service as cases
from services.consult.cases.schemas import DeadlinePreview, UrgencyDeadline
from services.consult.deps import PREFIX, NowDep, OrganizationsDep, SettingsDep
from services.consult.scopes import READ_SCOPE

router = APIRouter(prefix=PREFIX, tags=["cases"])


@router.get(
    "/deadlines",
    response_model=DeadlinePreview,
    summary="When a case to a regional centre would be due, by urgency, if submitted now",
    description="The rule submitting applies (the caller's region's policy, the centre's "
    "working hours and zone), so a form can show the due time before anything is stored. "
    "For those who open cases; a target that is not a regional centre is a 422.",
    responses=problem_responses(401, 403, 404, 422, 502),
    dependencies=client_scopes(READ_SCOPE),
)
async def deadlines(
    target_organization_id: Annotated[uuid.UUID, Query(description="The regional centre.")],
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    settings: SettingsDep,
    now: NowDep,
) -> DeadlinePreview:
    due = await cases.deadlines_if_submitted(
        uow, principal, target_organization_id, organizations, settings, now
    )
    return DeadlinePreview(
        target_organization_id=target_organization_id,
        as_of=now,
        deadlines=[UrgencyDeadline(urgency=urgency, due_at=at) for urgency, at in due.items()],
    )
