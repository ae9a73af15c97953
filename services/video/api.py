"""HTTP routes of the video service under `/api/video`: rooms, join tokens, recording."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.exc import IntegrityError

from services.common.audit import Outcome
from services.common.auth import CurrentPrincipal, bearer_token, current_principal
from services.common.errors import Conflict, Forbidden, problem_responses
from services.common.openapi import CREDENTIAL_SECURITY, TOKEN_SECURITY, client_scopes
from services.common.uow import UnitOfWorkDep
from services.video import service
from services.video.deps import LiveDep, PeopleDep
from services.video.enums import Grant, ParticipantRole
from services.video.ice import ice_servers
from services.video.live import Live
from services.video.models import Room
from services.video.schemas import (
    Feed,
    InviteesIn,
    JoinTokenOut,
    ParticipantOut,
    PatientLinkRequest,
    QualityOut,
    RecordingOut,
    RecordingStopped,
    RoomCreate,
    RoomOut,
    RoomView,
    TokenRequest,
)
from services.video.tokens import is_join_token

PREFIX = "/api/video"
router = APIRouter(prefix=PREFIX, tags=["video"])
RoomId = Annotated[uuid.UUID, Path(description="The room's id.")]


def room_out(room: Room) -> RoomOut:
    return RoomOut.model_validate(room)


def feeds(live: Live, participant_id: uuid.UUID | None) -> list[Feed]:
    """Whose video each of a participant's receive slots shows now."""
    session = live.hub.sessions.get(participant_id) if participant_id else None
    return [
        Feed(mid=slot.mid, participant_id=slot.publisher)
        for slot in (session.slots if session else [])
        if slot.kind == "video" and slot.mid is not None and slot.publisher is not None
    ]


async def room_view(
    uow: UnitOfWorkDep, live: Live, room: Room, identity: str, *, in_call: bool = False
) -> RoomView:
    """`in_call`: the caller holds a join token, and sees the feeds of their own slots."""
    people = []
    rows = await service.participants(uow, room.id)
    mine = next((row.id for row in rows if row.identity == identity), None)
    for row in rows:
        session = live.hub.sessions.get(row.id)
        people.append(
            ParticipantOut.model_validate(row).model_copy(
                update={
                    "connected": session is not None,
                    "quality": QualityOut(**session.quality.as_dict()) if session else None,
                }
            )
        )
    recording = live.recordings.get(room.id)
    stopped = live.stopped.get(room.id)
    return RoomView(
        **room_out(room).model_dump(exclude={"capacity"}),
        participants=people,
        recording=RecordingOut(
            active=recording is not None,
            started_at=datetime.fromtimestamp(recording.started_at, UTC) if recording else None,
            file_id=stopped.file_id if stopped else None,
            unstored=room.id in live.unstored,
        ),
        ice_servers=ice_servers(live.settings, identity),
        feeds=feeds(live, mine) if in_call else [],
    )


@router.get(
    "/rooms",
    response_model=list[RoomOut],
    summary="Rooms not closed yet that you host, are invited to or are booked into",
    description="Soonest first; `case_id` narrows them to one consult case's rooms.",
    responses=problem_responses(401),
)
async def list_rooms(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    case_id: Annotated[uuid.UUID | None, Query(description="Only this case's rooms.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[RoomOut]:
    return [room_out(room) for room in await service.rooms_of(uow, principal, case_id, limit)]


@router.post(
    "/rooms",
    status_code=201,
    response_model=RoomOut,
    summary="Create a room for an appointment or a consult case",
    description="Staff create rooms of their organisation. A room scheduler (an API client "
    "with the `video:rooms` scope, such as the scheduling service) creates an appointment's "
    "room for the host and organisation it names. An appointment that already has a room the "
    "caller manages gets that room back with 200. A `host_id` staff name must be a "
    "specialist or district medic of their region, a `patient_id` a patient of their "
    "organisation, each of `invitee_ids` (at most seven) a specialist or district medic of "
    "their region, else a 422 naming the field.",
    responses={
        200: {"model": RoomOut, "description": "The appointment's room, which existed already"},
        **problem_responses(401, 403, 409, 422, 502),
    },
    dependencies=client_scopes(service.ROOM_SCHEDULER_SCOPE),
)
async def create_room(
    body: RoomCreate,
    response: Response,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    people: PeopleDep,
) -> RoomOut:
    room, created = await service.create_room(uow, principal, body, people)
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        raise Conflict("A room for this appointment was created at the same moment.") from exc
    if not created:
        response.status_code = 200
    return room_out(room)


@router.get(
    "/rooms/{room_id}",
    response_model=RoomView,
    summary="A room with its participants, their link quality, recording and ICE servers",
    description="For the host and the organisation's coordinators (access token), or for a "
    "participant (the room's join token). The token is checked before the room is looked up, "
    "and a room the caller may not see is the same 404 as a room that does not exist.",
    responses=problem_responses(401, 403, 404),
    dependencies=[
        *TOKEN_SECURITY,
        *CREDENTIAL_SECURITY,
        *client_scopes(service.ROOM_SCHEDULER_SCOPE),
    ],
)
async def get_room(
    room_id: RoomId, request: Request, uow: UnitOfWorkDep, live: LiveDep
) -> RoomView:
    token = bearer_token(request)
    if is_join_token(token):
        claims = live.tokens.verify(token, room_id)
        room = await service.get_room(uow, room_id)
        return await room_view(uow, live, room, claims.identity, in_call=True)
    principal = await current_principal(request)
    room = await service.visible_room(uow, principal, room_id, "room.read")
    service.require_manager(uow, principal, room, "room.read")
    return await room_view(uow, live, room, str(principal.subject))


@router.post(
    "/rooms/{room_id}/close",
    response_model=RoomOut,
    summary="Close the room: everyone is disconnected at once",
    description="For the room's host, its organisation's coordinators and, for an "
    "appointment's room, the room scheduler (others who see it: 403; a room you may not see: "
    "404). A running recording is stopped and stored first; `room.closed` goes to everyone "
    "on the room's events. A room already closed is a 409.",
    responses=problem_responses(401, 403, 404, 409),
    dependencies=client_scopes(service.ROOM_SCHEDULER_SCOPE),
)
async def close_room(
    room_id: RoomId, request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal,
    live: LiveDep,
) -> RoomOut:  # fmt: skip
    room = await service.visible_room(uow, principal, room_id, "room.close")
    service.require_manager(uow, principal, room, "room.close")
    await live.close(uow, room, bearer_token(request))
    return room_out(room)


@router.put(
    "/rooms/{room_id}/invitees",
    response_model=RoomOut,
    summary="Replace the room's invitees: the members of staff who may join it",
    description="For the room's host and its organisation's coordinators. Each invitee must be "
    "a specialist or district medic of the caller's region (else a 422 naming `invitee_ids`); "
    "those left out no longer see the room nor take a join token. A closed room is a 410.",
    responses=problem_responses(401, 403, 404, 409, 410, 422, 502),
    dependencies=client_scopes(service.ROOM_SCHEDULER_SCOPE),
)
async def set_invitees(
    room_id: RoomId,
    body: InviteesIn,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    people: PeopleDep,
) -> RoomOut:
    room = await service.visible_room(uow, principal, room_id, "room.invitees")
    await service.set_invitees(uow, principal, room, body.invitee_ids, people)
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # another change of the same room's invitees won the race
        raise Conflict("The room's invitees were changed at the same moment; ask again.") from exc
    return room_out(room)


def _token_out(live: Live, room: Room, identity: str, name: str, role: ParticipantRole,
               grants: frozenset[Grant]) -> JoinTokenOut:  # fmt: skip
    token, expires_at = live.tokens.issue(room.id, identity, name, role, grants)
    return JoinTokenOut(
        token=token,
        expires_at=datetime.fromtimestamp(expires_at, UTC),
        room_id=room.id,
        identity=identity,
        grants=sorted(grants),
        join_url=f"{live.settings.public_url.rstrip('/')}/join/{token}",
        ice_servers=ice_servers(live.settings, identity),
    )


@router.post(
    "/rooms/{room_id}/tokens",
    status_code=201,
    response_model=JoinTokenOut,
    summary="Issue a join token (the host's own, or an invitation)",
    description="The room's managers (host, organisation's coordinators, room scheduler) "
    "issue tokens for any identity, role and grants, e.g. for an interpreter; only the host "
    "joins as `host`. An invitee takes only their own token with default grants (else 403) "
    "and waits to be admitted. A closed room is a 410; `join_url` opens the call in a browser.",
    responses=problem_responses(401, 403, 404, 410),
    dependencies=client_scopes(service.ROOM_SCHEDULER_SCOPE),
)
async def issue_token(
    room_id: RoomId,
    body: TokenRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    live: LiveDep,
) -> JoinTokenOut:
    room = await service.visible_room(uow, principal, room_id, "token.issue")
    service.require_joinable(room)
    identity, role, grants = service.token_grant(principal, room, body)
    name = body.display_name or (principal.username if identity == str(principal.subject)
                                 else identity)  # fmt: skip
    service.audit(uow, "token.issue", room.id, detail=f"identity={identity}; role={role}")
    return _token_out(live, room, identity, name, role, grants)


@router.post(
    "/rooms/{room_id}/patient-link",
    status_code=201,
    response_model=JoinTokenOut,
    summary="Issue the patient's join link: by the room's managers, or the room's patient",
    description="The room's host, its organisation's coordinators and the room scheduler issue "
    "it for any patient; a patient for themselves, for the room they were booked into.",
    responses=problem_responses(401, 403, 404, 410),
    dependencies=client_scopes(service.ROOM_SCHEDULER_SCOPE),
)
async def patient_link(
    room_id: RoomId,
    body: PatientLinkRequest,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    live: LiveDep,
) -> JoinTokenOut:
    room = await service.visible_room(uow, principal, room_id, "token.issue")
    service.require_patient_link(uow, principal, room, body.patient_id)
    service.require_joinable(room)
    identity = f"patient:{body.patient_id}"
    role = ParticipantRole.PATIENT
    service.audit(uow, "token.issue", room.id, detail=f"identity={identity}; role=patient")
    return _token_out(live, room, identity, body.display_name, role, service.DEFAULT_GRANTS[role])


@router.post(
    "/rooms/{room_id}/recording",
    status_code=201,
    response_model=RecordingOut,
    summary="Start recording the host's video; every present participant must have consented",
    description="Only the room's host records (else 403). If anyone waiting or admitted has not "
    "consented it is a 409 listing them in `without_consent`; a room already being recorded "
    "is a 409 too. Everyone on the room's events hears `recording.started`.",
    responses=problem_responses(401, 403, 404, 409),
)
async def start_recording(
    room_id: RoomId, request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal,
    live: LiveDep,
) -> RecordingOut:  # fmt: skip
    room = await service.visible_room(uow, principal, room_id, "recording.start")
    if principal.subject != room.host_id:
        service.audit(uow, "recording.start", room.id, outcome=Outcome.DENIED)
        raise Forbidden("Only the room's host records.")
    rows = await service.participants(uow, room.id)
    try:
        service.require_consent(rows)
    except Conflict:
        service.audit(uow, "recording.start", room.id, outcome=Outcome.DENIED,
                      detail="consent missing")  # fmt: skip
        raise
    host = next((p for p in rows if p.identity == str(room.host_id)), None)
    recording = live.start_recording(room, host.id if host else uuid.uuid4(), bearer_token(request))
    service.audit(uow, "recording.start", room.id)
    return RecordingOut(active=True, started_at=datetime.fromtimestamp(recording.started_at, UTC))


@router.delete(
    "/rooms/{room_id}/recording",
    response_model=RecordingStopped,
    summary="Stop recording; the file is stored in the files service, attached to the case",
    description="For the room's managers. The file is uploaded to the files service as the "
    "caller and announced as `recording.ready` with the room's case and appointment. If the "
    "files service refuses it, the answer says `unstored: true` and the file waits for "
    "`POST .../recording/store`. A room not being recorded is a 404.",
    responses=problem_responses(401, 403, 404, 502),
    dependencies=client_scopes(service.ROOM_SCHEDULER_SCOPE),
)
async def stop_recording(
    room_id: RoomId, request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal,
    live: LiveDep,
) -> RecordingStopped:  # fmt: skip
    room = await service.visible_room(uow, principal, room_id, "recording.stop")
    service.require_manager(uow, principal, room, "recording.stop")
    return await live.stop_recording(room, bearer_token(request), "stopped by the host", uow)


@router.post(
    "/rooms/{room_id}/recording/store",
    response_model=RecordingStopped,
    summary="Store a finished recording the files service did not take when it stopped",
    description="For the room's managers, with their own token, after a stop answered "
    "`unstored: true`: the waiting file is uploaded and announced as `recording.ready`. A "
    "room with no recording waiting is a 404; a files service still refusing, a 502.",
    responses=problem_responses(401, 403, 404, 502),
    dependencies=client_scopes(service.ROOM_SCHEDULER_SCOPE),
)
async def store_recording(
    room_id: RoomId, request: Request, uow: UnitOfWorkDep, principal: CurrentPrincipal,
    live: LiveDep,
) -> RecordingStopped:  # fmt: skip
    room = await service.visible_room(uow, principal, room_id, "recording.store")
    service.require_manager(uow, principal, room, "recording.store")
    return await live.store_recording(room, bearer_token(request), "stored later", uow)
