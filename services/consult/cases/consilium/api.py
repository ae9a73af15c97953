"""HTTP routes of consilia under `/api/consult`: convening one on a case, invitations and their
answers, signed opinions, the chair's protocol and the consilium's video room."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.common.auth import CurrentPrincipal, bearer_token
from services.common.errors import problem_responses
from services.common.idempotency import idempotent
from services.common.openapi import client_scopes
from services.common.uow import UnitOfWorkDep
from services.consult.cases.consilium import documents as consilium_documents
from services.consult.cases.consilium import service as consilium
from services.consult.cases.consilium.schemas import (
    ConsiliumCreate,
    ConsiliumOut,
    InvitationOut,
    InvitationsCreate,
    OpinionCreate,
    OpinionOut,
    ProtocolCreate,
    ProtocolOut,
    RoomRequest,
)
from services.consult.cases.deps import SignerDep
from services.consult.cases.schemas import ReasonRequest
from services.consult.deps import PREFIX, NowDep, OrganizationsDep
from services.consult.scopes import READ_SCOPE, WRITE_SCOPE
from services.video.client import RoomKind, VideoClient

router = APIRouter(prefix=PREFIX, tags=["consilium"])
CONSILIUM = "/cases/{case_id}/consilium"
INVITATION = CONSILIUM + "/invitations/{invitation_id}"
ANSWER_ERRORS = problem_responses(401, 403, 404, 409)


def _create_room(request: Request) -> consilium.CreateRoom:
    """Asks the video service as the chair, so its rules decide: the chair, a specialist of
    the case's target organisation, hosts a room of their own organisation, and invites
    doctors of their region."""
    video: VideoClient = request.app.state.video
    token = bearer_token(request)

    async def create(
        case_id: uuid.UUID, title: str, starts_at: datetime, invitee_ids: list[uuid.UUID]
    ) -> uuid.UUID:
        room = await video.create_room(
            token, kind=RoomKind.CONSILIUM, title=title, starts_at=starts_at, case_id=case_id,
            invitee_ids=invitee_ids,
        )  # fmt: skip
        return room.id

    return create


def _invite_to_room(request: Request) -> consilium.InviteToRoom:
    """Asks the video service as the chair, the room's host, to replace its invitees."""
    video: VideoClient = request.app.state.video
    token = bearer_token(request)

    async def invite(room_id: uuid.UUID, invitee_ids: list[uuid.UUID]) -> None:
        await video.set_invitees(room_id, invitee_ids, token)

    return invite


CreateRoomDep = Annotated[consilium.CreateRoom, Depends(_create_room)]
InviteToRoomDep = Annotated[consilium.InviteToRoom, Depends(_invite_to_room)]


@router.post(
    CONSILIUM,
    status_code=201,
    response_model=ConsiliumOut,
    summary="Convene a consilium on your accepted or in-progress case; you chair it",
    description=(
        "The case's assigned specialist invites specialists by `user_id`, or any specialist "
        "of a `specialty` in their own or a named organisation. The case moves to mode "
        "`consilium` and is in progress; it is concluded by the consilium's protocol. Send "
        "`Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def convene(
    case_id: uuid.UUID,
    body: ConsiliumCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    signer: SignerDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> ConsiliumOut:
        convened = await consilium.convene(
            uow, principal, case_id, body.agenda, body.invitations, organizations, now
        )
        return await consilium_documents.consilium_out(uow, convened, signer)

    return await idempotent(request, uow.session, principal, body, create)


@router.get(
    CONSILIUM,
    response_model=ConsiliumOut,
    summary="The consilium: invitations, opinions and protocol, each signature checked now",
    description="For those who see the case, and the specialists invited who have not declined.",
    responses=problem_responses(401, 403, 404),
    dependencies=client_scopes(READ_SCOPE),
)
async def get_consilium(
    case_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal, signer: SignerDep
) -> ConsiliumOut:
    return await consilium_documents.get_consilium(uow, principal, case_id, signer)


@router.post(
    CONSILIUM + "/invitations",
    status_code=201,
    response_model=ConsiliumOut,
    summary="Invite more specialists (the chair, while the consilium is open)",
    description=(
        "For the chair only (403 for others): adds invitations by `user_id` or by `specialty`, "
        "and returns the whole consilium. 409 when the consilium has its protocol or the case "
        "is closed, or when someone is invited already; 422 for an unknown organisation or "
        "inviting yourself. Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def invite(
    case_id: uuid.UUID,
    body: InvitationsCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    organizations: OrganizationsDep,
    signer: SignerDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> ConsiliumOut:
        invited = await consilium.invite(
            uow, principal, case_id, body.invitations, organizations, now
        )
        return await consilium_documents.consilium_out(uow, invited, signer)

    return await idempotent(request, uow.session, principal, body, create)


@router.post(
    INVITATION + "/accept",
    response_model=InvitationOut,
    summary="Accept an invitation addressed to you or to your specialty; you take the seat",
    description=(
        "For the specialist named, or any specialist of the invited specialty and "
        "organisation: the first to accept becomes `invitee_id`. 409 when the invitation is "
        "answered already or the consilium is no longer open; 404 for an invitation this "
        "case's consilium does not have."
    ),
    responses=ANSWER_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def accept(
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
) -> InvitationOut:
    invitation = await consilium.accept(uow, principal, case_id, invitation_id, now)
    return InvitationOut.model_validate(invitation)


@router.post(
    INVITATION + "/decline",
    response_model=InvitationOut,
    summary="Decline an invitation, saying why",
    description=(
        "For whoever may answer the invitation, before giving an opinion (having accepted or "
        "not): it becomes `declined` with `reason`, which the chair sees. 409 once the opinion "
        "is given or the consilium is no longer open."
    ),
    responses=ANSWER_ERRORS,
    dependencies=client_scopes(WRITE_SCOPE),
)
async def decline(
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    body: ReasonRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    now: NowDep,
) -> InvitationOut:
    invitation = await consilium.decline(uow, principal, case_id, invitation_id, body.reason, now)
    return InvitationOut.model_validate(invitation)


@router.post(
    INVITATION + "/opinion",
    status_code=201,
    response_model=OpinionOut,
    summary="Give your signed opinion (it accepts a pending invitation)",
    description="One opinion per invitation. Send `Idempotency-Key` to retry safely.",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def give_opinion(
    case_id: uuid.UUID,
    invitation_id: uuid.UUID,
    body: OpinionCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    signer: SignerDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> OpinionOut:
        return await consilium_documents.give_opinion(
            uow, principal, case_id, invitation_id, body.content, signer, now
        )

    return await idempotent(request, uow.session, principal, body, create)


@router.post(
    CONSILIUM + "/protocol",
    status_code=201,
    response_model=ProtocolOut,
    summary="Issue the chair's signed protocol citing the opinions; it concludes the case",
    description=(
        "Refused (409, listing them in `unanswered`) while invitations are pending or accepted "
        "without an opinion, unless `close_unanswered` closes them. Needs at least one "
        "opinion. Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(400, 401, 403, 404, 409, 422),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def issue_protocol(
    case_id: uuid.UUID,
    body: ProtocolCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    signer: SignerDep,
    now: NowDep,
) -> JSONResponse:
    async def create() -> ProtocolOut:
        return await consilium_documents.issue_protocol(uow, principal, case_id, body, signer, now)

    return await idempotent(request, uow.session, principal, body, create)


@router.post(
    CONSILIUM + "/room",
    response_model=ConsiliumOut,
    summary="Ask the video service for the consilium's room, hosted by the chair",
    description=(
        "A room of kind `consilium` of the chair's organisation, for the case, to which the "
        "consilium's members are invited (those who accepted or gave their opinion, and those "
        "invited by name who have not answered); asked again, the room already made, its "
        "invitees brought up to date. Each member takes their own join token "
        "(`POST /api/video/rooms/{id}/tokens`) and waits until the chair admits them. The "
        "video service's refusals are 409, and so is a consilium of more members than a room "
        "takes."
    ),
    responses=problem_responses(401, 403, 404, 409, 422, 502),
    dependencies=client_scopes(WRITE_SCOPE),
)
async def request_room(
    case_id: uuid.UUID,
    body: RoomRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    create_room: CreateRoomDep,
    invite_to_room: InviteToRoomDep,
    signer: SignerDep,
    now: NowDep,
) -> ConsiliumOut:
    found = await consilium.request_room(
        uow, principal, case_id, body.starts_at, create_room, invite_to_room, now
    )
    return await consilium_documents.consilium_out(uow, found, signer)


@router.get(
    "/consilium-invitations",
    response_model=list[InvitationOut],
    summary="Your consilium invitations still to answer: by name, or to your specialty",
    description=(
        "For specialists (403 for other roles): pending invitations, and accepted ones still "
        "owing an opinion, oldest first, leaving out those of cases closed meanwhile. Changes "
        "nothing; the listing is audited."
    ),
    responses=problem_responses(401, 403),
)
async def list_invitations(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> list[InvitationOut]:
    found = await consilium.list_invitations(uow, principal)
    return [InvitationOut.model_validate(invitation) for invitation in found]
