"""Organisations that serve others (a call centre serves polyclinics): the links, the
organisation view that shows them, and the organisations a caller acts for."""

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import schemas
from gateway.directory.models import OrganizationService
from gateway.directory.schemas import ActingOrganization
from gateway.models import Organization
from services.common.auth import Principal
from services.common.errors import NotFound, UnknownReference
from services.common.uow import UnitOfWork

RESOURCE = "organization"


async def served_by(
    session: AsyncSession, provider_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The organisations each of `provider_ids` serves, in one query."""
    served: dict[uuid.UUID, list[uuid.UUID]] = {provider: [] for provider in provider_ids}
    if provider_ids:
        rows = await session.execute(
            select(OrganizationService.provider_id, OrganizationService.served_id)
            .where(OrganizationService.provider_id.in_(list(provider_ids)))
            .order_by(OrganizationService.served_id)
        )
        for provider, served_id in rows:
            served[provider].append(served_id)
    return served


async def organization_views(
    session: AsyncSession, organizations: Sequence[Organization]
) -> list[schemas.Organization]:
    served = await served_by(session, [organization.id for organization in organizations])
    return [
        schemas.Organization.model_validate(organization).model_copy(
            update={"serves": served[organization.id]}
        )
        for organization in organizations
    ]


async def organization_view(
    session: AsyncSession, organization: Organization
) -> schemas.Organization:
    (view,) = await organization_views(session, [organization])
    return view


async def acting(session: AsyncSession, principal: Principal) -> Principal:
    """The caller with `serves` filled in: the organisations theirs serves."""
    if principal.organization_id is None:
        return principal
    served = await served_by(session, [principal.organization_id])
    return principal.model_copy(update={"serves": frozenset(served[principal.organization_id])})


async def replace_served(
    uow: UnitOfWork, organization_id: uuid.UUID, served_ids: list[uuid.UUID]
) -> schemas.Organization:
    """Replaces the set `organization_id` serves; each must exist and not be itself (422)."""
    action = "organization.serve"
    # Locked, so two replacements of one organisation's set run one after the other.
    query = select(Organization).where(Organization.id == organization_id).with_for_update()
    provider = (await uow.session.execute(query)).scalar_one_or_none()
    if provider is None:
        uow.audit.refuse(
            action, RESOURCE, organization_id, NotFound(f"No organisation {organization_id}.")
        )
    wanted = list(dict.fromkeys(served_ids))
    if organization_id in wanted:
        uow.audit.refuse(
            action,
            RESOURCE,
            organization_id,
            _refused(wanted.index(organization_id), "An organisation does not serve itself."),
        )
    existing = select(Organization.id).where(Organization.id.in_(wanted))
    found = set(await uow.session.scalars(existing))
    for index, served_id in enumerate(wanted):
        if served_id not in found:
            uow.audit.refuse(
                action, RESOURCE, organization_id, _refused(index, f"No organisation {served_id}.")
            )
    await uow.session.execute(
        delete(OrganizationService).where(OrganizationService.provider_id == organization_id)
    )
    uow.session.add_all(
        OrganizationService(provider_id=organization_id, served_id=served_id)
        for served_id in wanted
    )
    await uow.session.flush()
    uow.audit.record(action, RESOURCE, organization_id, detail=f"serves {len(wanted)}")
    return await organization_view(uow.session, provider)


def _refused(index: int, detail: str) -> UnknownReference:
    issue = {"loc": ["body", "organization_ids", index], "msg": detail, "type": "unknown"}
    return UnknownReference(detail, errors=[issue])


async def acting_organizations(
    session: AsyncSession, principal: Principal
) -> list[ActingOrganization]:
    """The caller's own organisation first, then those it serves, by name."""
    caller = await acting(session, principal)
    if not caller.acting_for:
        return []
    rows = await session.scalars(
        select(Organization)
        .where(Organization.id.in_(list(caller.acting_for)))
        .order_by(Organization.name)
    )
    found = [
        ActingOrganization(
            id=row.id,
            name=row.name,
            kind=row.kind,
            region=row.region,
            timezone=row.timezone,
            relation="own" if row.id == principal.organization_id else "served",
        )
        for row in rows
    ]
    return sorted(found, key=lambda organization: organization.relation != "own")
