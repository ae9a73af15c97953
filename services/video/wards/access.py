"""Who may see and manage a ward: one rule written as a Python check and as an SQL filter."""

from sqlalchemy import ColumnElement, false, or_, select

from services.common.auth import Principal, Role
from services.video.wards.models import Ward, WardWatcher

MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})
# Doctors and coordinators watch; patients and API clients never see a ward.
WATCHERS = frozenset({Role.SPECIALIST, Role.DISTRICT_MEDIC, Role.COORDINATOR})


def may_manage(principal: Principal, ward: Ward) -> bool:
    """The hospital's own coordinators (and administrators) manage its wards."""
    return principal.role in MANAGERS and principal.organization_id == ward.organization_id


def may_watch(principal: Principal, ward: Ward) -> bool:
    """The hospital's own staff, and the staff of the organisations the ward names."""
    if principal.role not in WATCHERS or principal.organization_id is None:
        return False
    return (
        principal.organization_id == ward.organization_id
        or principal.organization_id in ward.watcher_ids
    )


def may_see(principal: Principal, ward: Ward) -> bool:
    return may_manage(principal, ward) or may_watch(principal, ward)


def visible(principal: Principal) -> ColumnElement[bool]:
    """`may_see` as a filter on wards."""
    organization = principal.organization_id
    if organization is None or principal.role not in MANAGERS | WATCHERS:
        return false()
    watched = select(WardWatcher.ward_id).where(WardWatcher.organization_id == organization)
    own = Ward.organization_id == organization
    if principal.role not in WATCHERS:
        return own
    return or_(own, Ward.id.in_(watched))
