"""Consilia: several specialists decide a hard case together.

The specialist who took a case convenes the consilium on it and chairs it, so the case keeps
one responsible doctor (a medic asks for one by opening the case in mode `consilium`; whoever
accepts it convenes it). Specialists are invited by name, or as any specialist of a specialty
in the chair's or another organisation, the first to accept taking the seat; each accepts or
declines with a reason and writes a signed opinion (`consilium_documents`). The chair asks the
video service for the consilium's room with their own token, and with it keeps the room's
invitees to the consilium's members.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select

from services.common.auth import Principal, Role
from services.common.errors import Conflict, Forbidden, NotFound, ProblemError, Unprocessable
from services.common.uow import UnitOfWork
from services.consult.cases.access import MEMBER_STATUSES, addressed_to, is_addressed_to
from services.consult.cases.consilium.models import Consilium, ConsiliumInvitation
from services.consult.cases.consilium.schemas import InvitationCreate
from services.consult.cases.enums import (
    OPEN_STATUSES,
    OUTSTANDING_INVITATIONS,
    CaseAction,
    CaseKind,
    ConsiliumStatus,
    ConsultationMode,
    InvitationStatus,
)
from services.consult.cases.models import Case, is_open
from services.consult.cases.transitions import RESOURCE as CASE_RESOURCE
from services.consult.cases.transitions import audit, check_action, load_case
from services.consult.ports import OrganizationLookup
from services.video.client import MAX_INVITEES

# (case, title, start, invitees) -> the id of the room the video service made, asked as the
# chair.
CreateRoom = Callable[[uuid.UUID, str, datetime, list[uuid.UUID]], Awaitable[uuid.UUID]]
# (room, invitees): the video service replaces the room's invitees, asked as the chair.
InviteToRoom = Callable[[uuid.UUID, list[uuid.UUID]], Awaitable[None]]
T = TypeVar("T")
# An answer -> the statuses it may be given in: an accepted invitation is declined or answered
# with the opinion, a pending one may go straight to either.
ANSWERS = {
    InvitationStatus.ACCEPTED: frozenset({InvitationStatus.PENDING}),
    InvitationStatus.DECLINED: OUTSTANDING_INVITATIONS,
    InvitationStatus.OPINION_GIVEN: OUTSTANDING_INVITATIONS,
}
MAX_LIST = 200


async def find_consilium(uow: UnitOfWork, case: Case, action: str) -> Consilium:
    consilium = await uow.session.scalar(select(Consilium).where(Consilium.case_id == case.id))
    if consilium is None:
        uow.audit.refuse(
            action, CASE_RESOURCE, case.id, NotFound("No consilium is convened on this case.")
        )
    return consilium


def require_open(uow: UnitOfWork, case: Case, consilium: Consilium, action: str) -> None:
    if consilium.status is not ConsiliumStatus.OPEN or case.status not in OPEN_STATUSES:
        refusal = Conflict(
            f"The consilium is {consilium.status.value} and its case {case.status.value}.",
            current_status=consilium.status.value,
        )
        uow.audit.refuse(action, CASE_RESOURCE, case.id, refusal)


async def chaired(
    uow: UnitOfWork, principal: Principal, case_id: uuid.UUID, action: str
) -> tuple[Case, Consilium]:
    """The case, locked, and its open consilium, for the consilium's chair only."""
    case = await load_case(uow, principal, case_id, action, write=True)
    consilium = await find_consilium(uow, case, action)
    if principal.subject != consilium.chair_id:
        uow.audit.refuse(
            action, CASE_RESOURCE, case.id, Forbidden("Only the consilium's chair can do this.")
        )
    require_open(uow, case, consilium, action)
    return case, consilium


async def _new_invitation(
    consilium: Consilium, wanted: InvitationCreate, organizations: OrganizationLookup, now: datetime
) -> ConsiliumInvitation:
    if wanted.user_id == consilium.chair_id:
        raise Unprocessable("The chair gives their view in the protocol, not by invitation.")
    organization_id = None
    if wanted.specialty is not None:
        organization_id = wanted.organization_id or consilium.organization_id
        try:
            await organizations(organization_id)
        except NotFound as error:
            raise Unprocessable(error.detail, organization_id=str(organization_id)) from error
    return ConsiliumInvitation(
        id=uuid.uuid4(),
        consilium_id=consilium.id,
        case_id=consilium.case_id,
        invitee_id=wanted.user_id,
        organization_id=organization_id,
        specialty=wanted.specialty,
        status=InvitationStatus.PENDING,
        invited_at=now,
    )


def _addressee(invitation: ConsiliumInvitation) -> tuple[object, ...]:
    if invitation.invitee_id is not None:
        return (invitation.invitee_id,)
    return (invitation.organization_id, invitation.specialty)


async def _invite(
    uow: UnitOfWork,
    consilium: Consilium,
    wanted: list[InvitationCreate],
    organizations: OrganizationLookup,
    now: datetime,
) -> None:
    """Adds invitations; one to whoever is invited already (and has not declined) is a 409."""
    action = "consilium.invite"
    current = await uow.session.scalars(
        select(ConsiliumInvitation).where(
            ConsiliumInvitation.consilium_id == consilium.id,
            ConsiliumInvitation.status.in_(sorted(MEMBER_STATUSES)),
        )
    )
    invited = {_addressee(invitation) for invitation in current}
    for item in wanted:
        try:
            invitation = await _new_invitation(consilium, item, organizations, now)
        except ProblemError as error:
            uow.audit.refuse(action, CASE_RESOURCE, consilium.case_id, error)
        if _addressee(invitation) in invited:
            refusal = Conflict("This specialist or specialty is invited already.")
            uow.audit.refuse(action, CASE_RESOURCE, consilium.case_id, refusal)
        invited.add(_addressee(invitation))
        uow.session.add(invitation)
    await uow.session.flush()
    audit(uow, action, consilium.case_id, detail=f"{len(wanted)} to consilium {consilium.id}")


async def convene(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    agenda: str,
    invitations: list[InvitationCreate],
    organizations: OrganizationLookup,
    now: datetime,
) -> Consilium:
    """The assigned specialist turns their accepted or in-progress case into a consilium."""
    action = "consilium.convene"
    case = await load_case(uow, principal, case_id, action, write=True)
    if case.kind is not CaseKind.DOCTOR_TO_DOCTOR:
        refusal = Conflict("A consilium is convened on a doctor-to-doctor case.")
        uow.audit.refuse(action, CASE_RESOURCE, case.id, refusal)
    status = check_action(uow, principal, case, CaseAction.CONVENE)
    if await uow.session.scalar(select(Consilium.id).where(Consilium.case_id == case.id)):
        refusal = Conflict("This case has a consilium already; invite more specialists to it.")
        uow.audit.refuse(action, CASE_RESOURCE, case.id, refusal)
    consilium = Consilium(
        id=uuid.uuid4(),
        case_id=case.id,
        chair_id=principal.subject,
        # The chair is a specialist of the case's target organisation.
        organization_id=case.target_organization_id,
        status=ConsiliumStatus.OPEN,
        agenda=agenda,
        convened_at=now,
    )
    case.status, case.mode = status, ConsultationMode.CONSILIUM
    uow.session.add(consilium)
    await uow.session.flush()
    audit(uow, action, case.id, detail=f"consilium {consilium.id}")
    await _invite(uow, consilium, invitations, organizations, now)
    return consilium


async def invite(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    invitations: list[InvitationCreate],
    organizations: OrganizationLookup,
    now: datetime,
) -> Consilium:
    _, consilium = await chaired(uow, principal, case_id, "consilium.invite")
    await _invite(uow, consilium, invitations, organizations, now)
    return consilium


async def answerable_invitation(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    action: str,
) -> tuple[Case, Consilium, ConsiliumInvitation]:
    """The invitation if the caller may answer it, its consilium still open; else the refusal."""
    case = await load_case(uow, principal, case_id, action, write=True)
    consilium = await find_consilium(uow, case, action)
    invitation = await uow.session.scalar(
        select(ConsiliumInvitation).where(
            ConsiliumInvitation.id == invitation_id,
            ConsiliumInvitation.consilium_id == consilium.id,
        )
    )
    if invitation is None:
        uow.audit.refuse(
            action, CASE_RESOURCE, case.id, NotFound("This consilium has no such invitation.")
        )
    if principal.subject == consilium.chair_id or not is_addressed_to(principal, invitation):
        refusal = Forbidden("Only the specialist invited can answer this invitation.")
        uow.audit.refuse(action, CASE_RESOURCE, case.id, refusal)
    require_open(uow, case, consilium, action)
    return case, consilium, invitation


def answer(
    uow: UnitOfWork,
    principal: Principal,
    invitation: ConsiliumInvitation,
    target: InvitationStatus,
    action: str,
    now: datetime,
) -> None:
    """Moves an invitation on by `ANSWERS`; whoever answers one to a specialty takes it."""
    if invitation.status not in ANSWERS[target]:
        refusal = Conflict(
            f"The invitation is {invitation.status.value}.", current_status=invitation.status.value
        )
        uow.audit.refuse(action, CASE_RESOURCE, invitation.case_id, refusal)
    if invitation.status is InvitationStatus.PENDING:
        invitation.invitee_id = principal.subject
        invitation.organization_id = principal.organization_id
        invitation.specialty = principal.specialty
    invitation.status, invitation.answered_at = target, now


async def accept(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    now: datetime,
) -> ConsiliumInvitation:
    action = "consilium.accept"
    _, _, invitation = await answerable_invitation(uow, principal, case_id, invitation_id, action)
    answer(uow, principal, invitation, InvitationStatus.ACCEPTED, action, now)
    await uow.session.flush()
    audit(uow, action, invitation.case_id, detail=f"invitation {invitation.id}")
    return invitation


async def decline(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> ConsiliumInvitation:
    """Declines, saying why, before the opinion is written (having accepted or not)."""
    action = "consilium.decline"
    _, _, invitation = await answerable_invitation(uow, principal, case_id, invitation_id, action)
    answer(uow, principal, invitation, InvitationStatus.DECLINED, action, now)
    invitation.reason = reason
    await uow.session.flush()
    audit(uow, action, invitation.case_id, detail=f"invitation {invitation.id}: {reason}")
    return invitation


async def list_invitations(uow: UnitOfWork, principal: Principal) -> list[ConsiliumInvitation]:
    """The calling specialist's invitations still to answer, oldest first; those of a case
    withdrawn or closed meanwhile are not."""
    action = "consilium.invitations"
    if principal.role is not Role.SPECIALIST:
        uow.audit.refuse(
            action, CASE_RESOURCE, None, Forbidden("Consilium invitations are for specialists.")
        )
    query = (
        select(ConsiliumInvitation)
        .join(Case, Case.id == ConsiliumInvitation.case_id)
        .where(
            addressed_to(principal),
            ConsiliumInvitation.status.in_(sorted(OUTSTANDING_INVITATIONS)),
            is_open(Case.status),
        )
        .order_by(ConsiliumInvitation.invited_at, ConsiliumInvitation.id)
        .limit(MAX_LIST)
    )
    invitations = list(await uow.session.scalars(query))
    audit(uow, action, None, detail=f"{len(invitations)} invitations")
    return invitations


async def members(uow: UnitOfWork, consilium: Consilium) -> list[uuid.UUID]:
    """Who sits on the consilium besides the chair, oldest invitation first: those who accepted
    or gave their opinion, and those invited by name who have not answered yet (an invitation
    to a specialty has no one until someone accepts it)."""
    invitees = await uow.session.scalars(
        select(ConsiliumInvitation.invitee_id)
        .where(
            ConsiliumInvitation.consilium_id == consilium.id,
            ConsiliumInvitation.invitee_id.is_not(None),
            ConsiliumInvitation.status.in_(sorted(MEMBER_STATUSES)),
        )
        .order_by(ConsiliumInvitation.invited_at, ConsiliumInvitation.id)
    )
    return [
        user_id
        for user_id in dict.fromkeys(invitees)
        if user_id is not None and user_id != consilium.chair_id
    ]


async def _asked_video(uow: UnitOfWork, case: Case, action: str, call: Awaitable[T]) -> T:
    """The video service's answer; its refusal is this request's 409 (not this case's 404, 403
    or 422: the consilium is there, the video service said no), its failure passed on."""
    try:
        return await call
    except (NotFound, Forbidden, Unprocessable) as error:
        refusal = Conflict(f"The video service refused the room: {error.detail}")
        uow.audit.refuse(action, CASE_RESOURCE, case.id, refusal)
    except ProblemError as error:
        uow.audit.refuse(action, CASE_RESOURCE, case.id, error)


async def request_room(
    uow: UnitOfWork,
    principal: Principal,
    case_id: uuid.UUID,
    starts_at: datetime,
    create_room: CreateRoom,
    invite_to_room: InviteToRoom,
    now: datetime,
) -> Consilium:
    """The chair's room for the consilium, hosted by them, its members invited; asked again,
    the same room, its invitees brought up to date (those who accepted since get in, those who
    declined no longer)."""
    action = "consilium.room"
    case, consilium = await chaired(uow, principal, case_id, action)
    invitees = await members(uow, consilium)
    if len(invitees) > MAX_INVITEES:
        refusal = Conflict(
            f"A video room takes the chair and at most {MAX_INVITEES} members; "
            f"this consilium has {len(invitees)}.",
            members=len(invitees),
        )
        uow.audit.refuse(action, CASE_RESOURCE, case.id, refusal)
    if consilium.room_id is None:
        if starts_at < now:
            uow.audit.refuse(
                action,
                CASE_RESOURCE,
                case.id,
                Unprocessable("A consilium's room starts now or later."),
            )
        title = f"Consilium: {case.specialty}"
        room_id = await _asked_video(
            uow, case, action, create_room(case.id, title, starts_at, invitees)
        )
        consilium.room_id, consilium.room_starts_at = room_id, starts_at
        await uow.session.flush()
    else:
        await _asked_video(uow, case, action, invite_to_room(consilium.room_id, invitees))
    audit(uow, action, case.id, detail=f"room {consilium.room_id}; {len(invitees)} invited")
    return consilium
