"""Who may see and manage whom in the directory."""

from sqlalchemy import ColumnElement, and_, false, or_, true

from gateway.models import Organization, User
from services.common.audit import Outcome
from services.common.auth import Principal, Role
from services.common.errors import Forbidden
from services.common.uow import UnitOfWork


def require_admin(uow: UnitOfWork, principal: Principal, action: str, resource: str) -> None:
    if principal.role != Role.ADMIN:
        uow.audit.record(action, resource, None, Outcome.DENIED)
        raise Forbidden("Only administrators manage the directory.")


# Those doctors may name as a room's host or a colleague: the staff of their region.
REGION_STAFF = frozenset({Role.COORDINATOR.value, Role.DISTRICT_MEDIC.value, Role.SPECIALIST.value})
DOCTORS = frozenset({Role.DISTRICT_MEDIC, Role.SPECIALIST})
# Staff who look after the patients of the organisations they act for (their own and those
# theirs serves, `Principal.acting_for`), wherever those are.
CARERS = frozenset({Role.COORDINATOR, Role.REGISTRAR, Role.DISTRICT_MEDIC, Role.SPECIALIST})


def can_see_user(principal: Principal, user: User, user_region: str | None) -> bool:
    """Administrators see everyone and everyone themselves; staff the patients of the
    organisations they act for (`principal.serves` filled in: `serving.acting`); coordinators
    the users of their region; doctors their own organisation and the staff of their region;
    registrars the staff of their region (whom they book visits with); an API client (an MIS)
    its organisation's patients, whom it names in requests. Services check the people a
    request names through this (`get_user`)."""
    if principal.role == Role.ADMIN or principal.subject == user.id:
        return True
    patient = user.role == Role.PATIENT.value
    if principal.role == Role.API_CLIENT:
        own = principal.organization_id is not None
        return own and patient and user.organization_id == principal.organization_id
    if principal.role in CARERS and patient and user.organization_id in principal.acting_for:
        return True
    if principal.region is None or user_region != principal.region:
        return False
    if principal.role == Role.COORDINATOR:
        return True
    if principal.role == Role.REGISTRAR:
        return user.role in REGION_STAFF
    if principal.role in DOCTORS:
        own = principal.organization_id is not None
        return (own and user.organization_id == principal.organization_id) or (
            user.role in REGION_STAFF
        )
    return False


def visible_users(principal: Principal) -> ColumnElement[bool]:
    """`can_see_user` as an SQL filter over users outer-joined to their organisation (for its
    region), so a search finds exactly the users a read by id shows."""
    if principal.role == Role.ADMIN:
        return true()
    patient = User.role == Role.PATIENT.value
    rules: list[ColumnElement[bool]] = [User.id == principal.subject]
    own = (
        User.organization_id == principal.organization_id
        if principal.organization_id is not None
        else false()
    )
    if principal.role == Role.API_CLIENT:
        return or_(*rules, and_(patient, own))
    if principal.role in CARERS:
        rules.append(and_(patient, User.organization_id.in_(list(principal.acting_for))))
    if principal.region is not None:
        in_region = Organization.region == principal.region
        staff = User.role.in_(sorted(REGION_STAFF))
        if principal.role == Role.COORDINATOR:
            rules.append(in_region)
        elif principal.role == Role.REGISTRAR:
            rules.append(and_(in_region, staff))
        elif principal.role in DOCTORS:
            rules.append(and_(in_region, or_(own, staff)))
    return or_(*rules)
