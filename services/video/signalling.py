"""WHIP/WHEP-shaped signalling (RFC 9725) and the waiting room, authorised by join tokens.

`POST .../sessions` takes the SDP offer and answers 201 with the SDP answer (every server
candidate in it: aiortc gathers before answering and never trickles) and the session's
`Location`; `PATCH` adds trickled client candidates; `DELETE` leaves. aiortc cannot restart
ICE, so a PATCH with new ICE credentials is answered 422 and the client re-joins instead.
"""

import uuid
from typing import Annotated

from aiortc import RTCIceCandidate
from aiortc.sdp import candidate_from_sdp
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from services.common.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
    problem_responses,
)
from services.common.openapi import CREDENTIAL_SECURITY
from services.common.uow import UnitOfWorkDep
from services.video import service
from services.video.api import PREFIX, RoomId
from services.video.deps import JoinDep, LiveDep
from services.video.enums import Grant, ParticipantState
from services.video.ice import ice_servers, link_header
from services.video.models import Participant
from services.video.schemas import AudioOnlyIn, ConsentIn, ParticipantOut

# Every route takes the room's join token as its bearer.
router = APIRouter(prefix=PREFIX, tags=["video signalling"], dependencies=CREDENTIAL_SECURITY)
ParticipantId = Annotated[uuid.UUID, Path(description="The participant (= session) id.")]
MAX_SDP_BYTES = 64 * 1024
SDP = "application/sdp"
SDP_FRAG = "application/trickle-ice-sdpfrag"


async def read_body(request: Request, media_type: str) -> str:
    """The request body as text of `media_type`, at most `MAX_SDP_BYTES`."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != media_type:
        raise UnsupportedMediaType(f"The body must be {media_type}.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SDP_BYTES:
            raise PayloadTooLarge(f"The body exceeds {MAX_SDP_BYTES} bytes.")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("The body is not UTF-8 text.") from exc


def _session_path(room_id: uuid.UUID, participant_id: uuid.UUID) -> str:
    return f"{PREFIX}/rooms/{room_id}/sessions/{participant_id}"


@router.post(
    "/rooms/{room_id}/sessions",
    status_code=201,
    summary="Join: send an SDP offer, get the SDP answer (WHIP/WHEP style)",
    description="Bearer: the room's join token. The offer carries the client's own audio and "
    "video (sendonly), receive slots (recvonly audio/video pairs) for the others, and a data "
    "channel on which the client sends `ping` at least every 2 s.",
    responses={
        201: {"content": {SDP: {}}, "description": "The SDP answer"},
        **problem_responses(400, 401, 403, 404, 409, 410, 413, 415),
    },
)
async def join(
    room_id: RoomId, request: Request, uow: UnitOfWorkDep, claims: JoinDep, live: LiveDep
) -> Response:
    offer = await read_body(request, SDP)
    claims.require(Grant.SUBSCRIBE)
    room = await service.get_room(uow, room_id)
    participant, answer = await live.join(uow, room, claims, offer)
    headers = {
        "Location": _session_path(room_id, participant.id),
        "X-Participant-Id": str(participant.id),
        "X-Participant-State": participant.state.value,
    }
    links = link_header(ice_servers(live.settings, claims.identity))
    if links:
        headers["Link"] = links
    return Response(answer, status_code=201, media_type=SDP, headers=headers)


@router.patch(
    "/rooms/{room_id}/sessions/{participant_id}",
    status_code=204,
    summary="Trickle ICE candidates; an ICE restart is refused with 422",
    description="Bearer: the same join token. The body is an SDP fragment "
    "(`application/trickle-ice-sdpfrag`, RFC 8840) with `a=mid` and `a=candidate` lines for "
    "your own session (`Location` of the join); another's session is a 404. A new "
    "`a=ice-ufrag` is a 422: join again instead.",
    responses=problem_responses(400, 401, 403, 404, 415, 422),
)
async def trickle(
    room_id: RoomId,
    participant_id: ParticipantId,
    request: Request,
    claims: JoinDep,
    live: LiveDep,
) -> Response:
    fragment = await read_body(request, SDP_FRAG)
    session = live.hub.sessions.get(participant_id)
    if session is None or session.room_id != room_id or session.identity != claims.identity:
        raise NotFound("No such session of yours.")
    remote = session.pc.remoteDescription.sdp if session.pc.remoteDescription else ""
    mid: str | None = None
    candidates: list[RTCIceCandidate] = []
    for line in fragment.splitlines():
        if line.startswith("a=ice-ufrag:") and line not in remote:
            raise Unprocessable("ICE restart is not supported; join again instead.")
        if line.startswith("a=mid:"):
            mid = line[6:].strip()
        elif line.startswith("a=candidate:"):
            try:
                candidate = candidate_from_sdp(line[12:])
            except (ValueError, IndexError) as exc:
                raise BadRequest(f"Not an ICE candidate: {line[:80]}") from exc
            candidate.sdpMid = mid
            candidates.append(candidate)
    for candidate in candidates:
        await session.pc.addIceCandidate(candidate)
    return Response(status_code=204)


@router.delete(
    "/rooms/{room_id}/sessions/{participant_id}",
    status_code=204,
    summary="Leave the room",
    description="Bearer: the join token of the session's own participant (anyone else's "
    "session is a 404). The others hear `participant.left`; leaving twice changes nothing. "
    "The room stays open for the rest, and the token can join again.",
    responses=problem_responses(401, 403, 404, 409),
)
async def leave(
    room_id: RoomId,
    participant_id: ParticipantId,
    uow: UnitOfWorkDep,
    claims: JoinDep,
    live: LiveDep,
) -> Response:
    room = await service.get_room(uow, room_id)
    participant = await service.find_participant(uow, room_id, participant_id)
    if participant.identity != claims.identity:
        raise NotFound("No such session of yours.")
    if participant.state in service.PRESENT:
        await live.move(uow, room, participant, ParticipantState.LEFT, claims.identity)
    return Response(status_code=204)


@router.get(
    "/rooms/{room_id}/events",
    summary="Room events as Server-Sent Events (join token as bearer or `?token=`)",
    description="Starts with `room.state`, then `participant.*` (joined, waiting, admitted, "
    "returned_to_waiting, left, removed), `recording.*` (started, stopped, unstored) and "
    "`room.closed`, after which the stream ends. A closed room is a 410.",
    responses={200: {"content": {"text/event-stream": {}}}, **problem_responses(401, 403, 410)},
)
async def events(
    room_id: RoomId, uow: UnitOfWorkDep, claims: JoinDep, live: LiveDep
) -> StreamingResponse:
    room = await service.get_room(uow, room_id)
    service.require_joinable(room)
    first = {"event": "room.state", "room_id": str(room_id), "status": room.status.value}
    return StreamingResponse(
        live.events.stream(room_id, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


MOVES = {
    "admit": ParticipantState.ADMITTED,
    "return-to-waiting": ParticipantState.WAITING,
    "remove": ParticipantState.REMOVED,
}


@router.post(
    "/rooms/{room_id}/participants/{participant_id}/{action}",
    response_model=ParticipantOut,
    summary="Admit a waiting participant, return one to the waiting room, or remove one",
    description="`action` is `admit`, `return-to-waiting` or `remove`; needs the admit grant.",
    responses=problem_responses(401, 403, 404, 409, 410),
)
async def move_participant(
    room_id: RoomId,
    participant_id: ParticipantId,
    action: Annotated[str, Path(pattern="^(admit|return-to-waiting|remove)$")],
    uow: UnitOfWorkDep,
    claims: JoinDep,
    live: LiveDep,
) -> ParticipantOut:
    claims.require(Grant.ADMIT)
    room = await service.get_room(uow, room_id)
    participant = await service.find_participant(uow, room_id, participant_id)
    await live.move(uow, room, participant, MOVES[action], claims.identity)
    return ParticipantOut.model_validate(participant)


async def _own(uow: UnitOfWorkDep, room_id: uuid.UUID, participant_id: uuid.UUID,
               identity: str) -> Participant:  # fmt: skip
    participant = await service.find_participant(uow, room_id, participant_id)
    if participant.identity != identity:
        raise NotFound("No such participant of yours.")
    if participant.state not in service.PRESENT:
        raise Conflict(f"You are {participant.state.value}.")
    return participant


@router.put(
    "/rooms/{room_id}/participants/{participant_id}/consent",
    response_model=ParticipantOut,
    summary="Give or withdraw your consent to recording (withdrawing stops a recording)",
    description="Bearer: your join token; only your own participant (another's is a 404), "
    "while you wait or are admitted (else a 409 saying you have left or were removed). Every "
    "change is audited; withdrawing stops a running recording at once.",
    responses=problem_responses(401, 403, 404, 409),
)
async def consent(
    room_id: RoomId,
    participant_id: ParticipantId,
    body: ConsentIn,
    uow: UnitOfWorkDep,
    claims: JoinDep,
    live: LiveDep,
) -> ParticipantOut:
    participant = await _own(uow, room_id, participant_id, claims.identity)
    participant.consented = body.consented
    service.audit(uow, "recording.consent", room_id, by=claims.identity,
                  detail=f"consented={body.consented}")  # fmt: skip
    if not body.consented and room_id in live.recordings:
        live.stop_soon(await service.get_room(uow, room_id), "consent withdrawn")
    return ParticipantOut.model_validate(participant)


@router.put(
    "/rooms/{room_id}/participants/{participant_id}/audio-only",
    response_model=ParticipantOut,
    summary="Switch your own receiving to audio only (for a poor link), or back",
    description="Bearer: your join token; only your own participant (another's is a 404), "
    "while present (else 409). The server stops forwarding others' video to you; what you "
    "send is unchanged.",
    responses=problem_responses(401, 403, 404, 409),
)
async def audio_only(
    room_id: RoomId,
    participant_id: ParticipantId,
    body: AudioOnlyIn,
    uow: UnitOfWorkDep,
    claims: JoinDep,
    live: LiveDep,
) -> ParticipantOut:
    participant = await _own(uow, room_id, participant_id, claims.identity)
    participant.audio_only = body.audio_only
    live.hub.set_audio_only(participant_id, body.audio_only)
    return ParticipantOut.model_validate(participant)
