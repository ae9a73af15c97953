"""The directory's routes for organisations that serve others: the links an administrator
sets, and the organisations a signed-in caller acts for."""

import uuid

from fastapi import APIRouter

from gateway import schemas
from gateway.directory.access import require_admin
from gateway.directory.schemas import ActingOrganization, ServedUpdate
from gateway.directory.serving import acting_organizations, replace_served
from services.common.auth import CurrentPrincipal
from services.common.errors import problem_responses
from services.common.uow import UnitOfWorkDep

router = APIRouter(prefix="/api/directory", tags=["directory"])


@router.put(
    "/organizations/{organization_id}/served",
    response_model=schemas.Organization,
    summary="Replace the organisations an organisation serves",
    description="A call centre or hotline serves other organisations: its coordinators and "
    "registrars register, find and book for their patients and file their callers' appeals. "
    "The list replaces the previous one (an empty list ends every link); each must exist and "
    "not be the organisation itself (422). The services read the links with a short cache, so "
    "a change takes effect everywhere within a minute.",
    responses=problem_responses(401, 403, 404, 422),
)
async def replace_served_organizations(
    organization_id: uuid.UUID,
    body: ServedUpdate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
) -> schemas.Organization:
    require_admin(uow, principal, "organization.serve", "organization")
    return await replace_served(uow, organization_id, body.organization_ids)


@router.get(
    "/me/organizations",
    response_model=list[ActingOrganization],
    summary="The organisations the signed-in caller acts for",
    description="Their own organisation first, then those it serves, by name; empty for "
    "someone of no organisation (an administrator).",
    responses=problem_responses(401),
)
async def my_organizations(
    uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> list[ActingOrganization]:
    return await acting_organizations(uow.session, principal)
