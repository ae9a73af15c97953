"""Who sees and works home visits: the polyclinic's own staff, the call centres serving it and
the region's coordinators (its hotline operators); to anyone else a visit does not exist.

The caller's `Principal.serves` must be filled in (`deps.ActingPrincipal`) for a call
centre's staff to act for the polyclinics it serves.
"""

import uuid

from sqlalchemy import select

from gateway.client import Organization
from services.common.auth import Principal, Role
from services.common.errors import NotFound
from services.common.uow import UnitOfWork
from services.consult.home_visits.models import HomeVisit
from services.consult.ports import OrganizationLookup

RESOURCE = "home_visit"
STAFF = frozenset({Role.COORDINATOR, Role.REGISTRAR, Role.DISTRICT_MEDIC, Role.SPECIALIST})
# Who takes the calls: hotline operators (coordinators) and registry or call-centre staff.
FILERS = frozenset({Role.COORDINATOR, Role.REGISTRAR})


async def visible_polyclinic(
    uow: UnitOfWork,
    principal: Principal,
    organization_id: uuid.UUID,
    organizations: OrganizationLookup,
    action: str,
    hidden: NotFound,
) -> Organization:
    """The polyclinic whose list or figures `action` reads; `hidden`, through the audit trail,
    for one the directory does not know and for one the caller may not see alike."""
    try:
        polyclinic = await organizations(organization_id)
    except NotFound:
        uow.audit.refuse(action, RESOURCE, None, hidden)
    if not sees_polyclinic(principal, polyclinic.id, polyclinic.region):
        uow.audit.refuse(action, RESOURCE, None, hidden)
    return polyclinic


def sees_polyclinic(principal: Principal, organization_id: uuid.UUID, region: str) -> bool:
    if principal.role not in STAFF:
        return False
    if organization_id in principal.acting_for:
        return True
    return principal.role is Role.COORDINATOR and principal.region == region


def may_file(principal: Principal, organization_id: uuid.UUID, region: str) -> bool:
    return principal.role in FILERS and sees_polyclinic(principal, organization_id, region)


def can_see(principal: Principal, visit: HomeVisit) -> bool:
    return sees_polyclinic(principal, visit.organization_id, visit.region)


def works_there(principal: Principal, visit: HomeVisit) -> bool:
    """The polyclinic's own staff, who send their doctors and nurses and close the visit."""
    return principal.role in STAFF and principal.organization_id == visit.organization_id


def record(uow: UnitOfWork, action: str, visit_id: uuid.UUID | None, detail: str) -> None:
    uow.audit.record(action, RESOURCE, visit_id, detail=detail)


async def load_visit(
    uow: UnitOfWork, principal: Principal, visit_id: uuid.UUID, action: str, *, write: bool = False
) -> HomeVisit:
    """The visit if the caller may see it, else 404; writes lock its row until commit. API
    clients are no staff: they see none."""
    query = select(HomeVisit).where(HomeVisit.id == visit_id)
    if write:
        query = query.with_for_update()
    visit = (await uow.session.execute(query)).scalar_one_or_none()
    if visit is None or not can_see(principal, visit):
        refusal = NotFound("No home visit with this id is visible to you.")
        uow.audit.refuse(action, RESOURCE, visit_id, refusal)
    return visit
