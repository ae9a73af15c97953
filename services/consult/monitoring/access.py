"""Who may see and act on monitored patients: the responsible organisation's care team and
the patient themselves; every refusal and every access is audited against the enrolment."""

import uuid

from services.common.auth import Principal, Role
from services.common.errors import Forbidden
from services.common.uow import UnitOfWork
from services.consult.monitoring.models import Enrolment

RESOURCE = "monitoring_enrolment"
# Coordinators (the hotline operators who call) and the organisation's doctors.
CARE_TEAM = frozenset({Role.COORDINATOR, Role.DISTRICT_MEDIC, Role.SPECIALIST})


def care_team_of(principal: Principal) -> uuid.UUID | None:
    """The organisation whose monitored patients the caller looks after, if any."""
    return principal.organization_id if principal.role in CARE_TEAM else None


def can_see(principal: Principal, enrolment: Enrolment) -> bool:
    if principal.role is Role.PATIENT:
        return enrolment.patient_id == principal.subject
    return care_team_of(principal) == enrolment.organization_id


def record(uow: UnitOfWork, action: str, enrolment_id: uuid.UUID | None, detail: str) -> None:
    uow.audit.record(action, RESOURCE, enrolment_id, detail=detail)


def require_care_team(uow: UnitOfWork, principal: Principal, action: str) -> uuid.UUID:
    organization_id = care_team_of(principal)
    if organization_id is None:
        refusal = Forbidden("Coordinators and doctors of an organisation monitor its patients.")
        uow.audit.refuse(action, RESOURCE, None, refusal)
    return organization_id
