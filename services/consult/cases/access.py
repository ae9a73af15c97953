"""Who may see which cases: one rule written twice, as a Python check and as a SQL filter."""

from sqlalchemy import ColumnElement, and_, bindparam, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.auth import Principal, Role
from services.consult.cases.consilium.models import ConsiliumInvitation
from services.consult.cases.enums import CaseKind, CaseStatus, ConsultationMode, InvitationStatus
from services.consult.cases.models import Case

# Roles that act for the requesting organisation: they create, edit, submit and cancel.
REQUESTER_ROLES = frozenset({Role.DISTRICT_MEDIC, Role.API_CLIENT})
# An invited specialist reads the consilium's case until they decline or are closed out.
MEMBER_STATUSES = frozenset(
    {InvitationStatus.PENDING, InvitationStatus.ACCEPTED, InvitationStatus.OPINION_GIVEN}
)


def is_requester(principal: Principal, case: Case) -> bool:
    return (
        principal.role in REQUESTER_ROLES
        and principal.organization_id is not None
        and case.requesting_organization_id == principal.organization_id
    )


def is_the_patient(principal: Principal, case: Case) -> bool:
    return principal.role is Role.PATIENT and case.patient_id == principal.subject


def acts_for_patient(principal: Principal, case: Case) -> bool:
    """On a patient's request: the patient, or a coordinator of the patient's organisation
    (the hotline operator) on their behalf."""
    return case.kind is CaseKind.PATIENT_REQUEST and (
        is_the_patient(principal, case)
        or (
            principal.role is Role.COORDINATOR
            and principal.organization_id is not None
            and case.requesting_organization_id == principal.organization_id
        )
    )


def is_target_specialist(principal: Principal, case: Case) -> bool:
    return (
        principal.role is Role.SPECIALIST
        and principal.organization_id is not None
        and case.target_organization_id == principal.organization_id
        and case.specialty == principal.specialty
    )


def can_see(principal: Principal, case: Case) -> bool:
    if is_requester(principal, case) or acts_for_patient(principal, case):
        return True
    if case.status is CaseStatus.DRAFT:
        return False
    if is_target_specialist(principal, case):
        return True
    return (
        principal.role is Role.COORDINATOR
        and principal.region is not None
        and case.region == principal.region
    )


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """The SQL form of `can_see` for the work queues; admins and patients have none (a
    patient lists their own requests in `patient_requests`)."""
    # Written into the SQL rather than bound, so generic plans can still use index-only counts.
    not_draft = Case.status != bindparam("draft", CaseStatus.DRAFT.value, literal_execute=True)
    if principal.role in REQUESTER_ROLES and principal.organization_id is not None:
        return Case.requesting_organization_id == principal.organization_id
    if principal.role is Role.SPECIALIST and principal.organization_id and principal.specialty:
        return and_(
            Case.target_organization_id == principal.organization_id,
            Case.specialty == principal.specialty,
            not_draft,
        )
    if principal.role is Role.COORDINATOR and principal.region is not None:
        return and_(Case.region == principal.region, not_draft)
    return false()


# Roles whose work is consultation cases: they have a queue (patients list their own requests
# in `patient_requests`; administrators and registrars see no cases).
QUEUE_ROLES = frozenset({Role.DISTRICT_MEDIC, Role.SPECIALIST, Role.COORDINATOR, Role.API_CLIENT})


def can_list(principal: Principal) -> bool:
    return principal.role in QUEUE_ROLES


def is_addressed_to(principal: Principal, invitation: ConsiliumInvitation) -> bool:
    """A consilium invitation is the named specialist's; one to a specialty is for any
    specialist of it in the organisation until one of them accepts it."""
    if principal.role is not Role.SPECIALIST:
        return False
    if invitation.invitee_id is not None:
        return invitation.invitee_id == principal.subject
    return (
        principal.organization_id is not None
        and invitation.organization_id == principal.organization_id
        and invitation.specialty == principal.specialty
    )


def addressed_to(principal: Principal) -> ColumnElement[bool]:
    """The SQL form of `is_addressed_to`, for a specialist."""
    by_name = ConsiliumInvitation.invitee_id == principal.subject
    if principal.organization_id is None or principal.specialty is None:
        return by_name
    to_specialty = and_(
        ConsiliumInvitation.invitee_id.is_(None),
        ConsiliumInvitation.organization_id == principal.organization_id,
        ConsiliumInvitation.specialty == principal.specialty,
    )
    return or_(by_name, to_specialty)


async def invited_to_consilium(session: AsyncSession, principal: Principal, case: Case) -> bool:
    """Whether the caller is a specialist invited to the consilium on `case`, so that they
    read it to give their opinion, although it is addressed to another specialty."""
    if case.mode is not ConsultationMode.CONSILIUM or principal.role is not Role.SPECIALIST:
        return False
    query = (
        select(ConsiliumInvitation.id)
        .where(
            ConsiliumInvitation.case_id == case.id,
            addressed_to(principal),
            ConsiliumInvitation.status.in_(sorted(MEMBER_STATUSES)),
        )
        .limit(1)
    )
    return await session.scalar(query) is not None
