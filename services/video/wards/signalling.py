"""The wards' media signalling (WHIP/WHEP-shaped, like the rooms'): a bedside tablet
publishing with its device credential, an overview viewer watching with a watch token,
opening a bed full-size and talking to it, and both sides' events as Server-Sent Events.

Every viewing is on the audit trail: joining and leaving the overview, and each bed opened
full-size with how long it was watched.
"""

import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from services.common.auth import bearer_token
from services.common.errors import NotFound, Unauthorized, problem_responses
from services.common.openapi import CREDENTIAL_SECURITY
from services.common.uow import UnitOfWork, UnitOfWorkDep
from services.video.api import PREFIX
from services.video.deps import LiveDep
from services.video.ice import ice_servers, link_header
from services.video.signalling import SDP, read_body
from services.video.wards import service
from services.video.wards.credentials import matches
from services.video.wards.deps import MonitorDep, WardsLiveDep, WatchDep
from services.video.wards.live import BedEntry, Viewer, WardEntry, WardsLive
from services.video.wards.models import Bed
from services.video.wards.schemas import FocusIn, TalkIn, Tile, ViewerOut

# Every route takes a bed's device credential or a viewer's watch token as its bearer.
router = APIRouter(
    prefix=f"{PREFIX}/wards", tags=["ICU ward signalling"], dependencies=CREDENTIAL_SECURITY
)
WardId = Annotated[uuid.UUID, Path(description="The ward's id.")]
BedId = Annotated[uuid.UUID, Path(description="The bed's id.")]
ViewerId = Annotated[uuid.UUID, Path(description="The viewer (= overview session) id.")]
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


async def _device_bed(
    request: Request, uow: UnitOfWork, ward_id: uuid.UUID, bed_id: uuid.UUID
) -> Bed:
    """The bed whose current device credential the bearer is; anything else is a 401."""
    try:
        credential = bearer_token(request)
    except Unauthorized as exc:
        raise Unauthorized("The bed's device credential is required.") from exc
    bed = await uow.session.get(Bed, bed_id)
    if bed is None or bed.ward_id != ward_id or not matches(credential, bed.device_secret_hash):
        raise Unauthorized("The device credential is not valid for this bed.", reason="invalid")
    return bed


def _roster(wards: WardsLive, ward_id: uuid.UUID) -> WardEntry:
    ward = wards.rosters.get(ward_id)
    if ward is None:
        raise NotFound("No such ward is monitored here.")
    return ward


@router.post(
    "/{ward_id}/beds/{bed_id}/source",
    status_code=201,
    summary="The bedside tablet publishes its camera: SDP offer in, SDP answer out",
    description="Bearer: the bed's device credential. The offer sends video (and audio, which "
    "the tablet turns on while a doctor talks to the bed), receives one audio slot (the "
    "doctor's voice), and carries a data channel with a `ping` at least every 2 s. Joining "
    "again replaces the previous connection.",
    responses={
        201: {"content": {SDP: {}}, "description": "The SDP answer"},
        **problem_responses(400, 401, 404, 409, 413, 415),
    },
)
async def publish(
    ward_id: WardId,
    bed_id: BedId,
    request: Request,
    uow: UnitOfWorkDep,
    wards: WardsLiveDep,
    live: LiveDep,
) -> Response:
    offer = await read_body(request, SDP)
    bed = await _device_bed(request, uow, ward_id, bed_id)
    _roster(wards, ward_id)
    answer = await wards.connect_tablet(BedEntry.of(bed), offer)
    service.audit(uow, "bed.source.connect", service.BED, bed.id, by=f"bed:{bed.id}")
    headers = {"Location": f"{PREFIX}/wards/{ward_id}/beds/{bed_id}/source"}
    if links := link_header(ice_servers(live.settings, f"bed:{bed.id}")):
        headers["Link"] = links
    return Response(answer, status_code=201, media_type=SDP, headers=headers)


@router.delete(
    "/{ward_id}/beds/{bed_id}/source",
    status_code=204,
    summary="The bedside tablet stops publishing",
    description="Bearer: the bed's device credential (any other is a 401). The bed's picture "
    "leaves the overview; an occupied bed raises its alarm once the threshold passes.",
    responses=problem_responses(401),
)
async def unpublish(
    ward_id: WardId, bed_id: BedId, request: Request, uow: UnitOfWorkDep, wards: WardsLiveDep
) -> Response:
    bed = await _device_bed(request, uow, ward_id, bed_id)
    await wards.hub.disconnect(bed.id)
    wards.detach_picture(bed.id, ward_id)
    return Response(status_code=204)


@router.get(
    "/{ward_id}/beds/{bed_id}/events",
    summary="The tablet's events (a doctor starts or stops talking to the bed) as SSE",
    description="Bearer: the bed's device credential (any other is a 401). Starts with "
    "`bed.talk` saying whether someone talks now; each later `bed.talk` tells the tablet to "
    "turn its microphone on or off.",
    responses={200: {"content": {"text/event-stream": {}}}, **problem_responses(401)},
)
async def bed_events(
    ward_id: WardId, bed_id: BedId, request: Request, uow: UnitOfWorkDep, wards: WardsLiveDep
) -> StreamingResponse:
    bed = await _device_bed(request, uow, ward_id, bed_id)
    talking = any(v.talking and v.focus_bed == bed.id for v in wards.viewers.values())
    first = {"event": "bed.talk", "talking": talking}
    return StreamingResponse(
        wards.events.stream(bed.id, first), media_type="text/event-stream", headers=STREAM_HEADERS
    )


def viewer_out(viewer: Viewer) -> ViewerOut:
    focus_mid = next(
        (slot.mid for slot in viewer.session.slots
         if slot.kind == "video" and slot.mid not in viewer.tiles and slot.source is not None),
        None,
    )  # fmt: skip
    return ViewerOut(
        viewer_id=viewer.id,
        tiles=[Tile(mid=mid, bed_id=bed_id) for mid, bed_id in viewer.tiles.items()],
        focus_bed_id=viewer.focus_bed,
        focus_mid=focus_mid,
        talking=viewer.talking,
    )


@router.post(
    "/{ward_id}/viewers",
    status_code=201,
    summary="Watch the ward's overview: SDP offer in, SDP answer out",
    description="Bearer: the ward's watch token. The offer receives two video slots for the "
    "bed opened full-size (VP8 first, H.264 second) and one audio slot for its sound, then "
    "one video slot per bed (the grid, in the ward's bed order; `GET .../viewers/{id}` says "
    "which slot shows which bed); it may send audio (the doctor's voice, when talking) and "
    "carries a data channel with a `ping` at least every 2 s.",
    responses={
        201: {"content": {SDP: {}}, "description": "The SDP answer"},
        **problem_responses(400, 401, 403, 404, 413, 415),
    },
)
async def watch(
    ward_id: WardId,
    request: Request,
    uow: UnitOfWorkDep,
    claims: WatchDep,
    wards: WardsLiveDep,
    live: LiveDep,
) -> Response:
    offer = await read_body(request, SDP)
    viewer, answer = await wards.connect_viewer(_roster(wards, ward_id), claims, offer)
    service.audit(
        uow, "ward.watch", service.RESOURCE, ward_id, by=claims.identity,
        detail=f"viewer={viewer.id}; beds={len(viewer.tiles)}",
    )  # fmt: skip
    headers = {
        "Location": f"{PREFIX}/wards/{ward_id}/viewers/{viewer.id}",
        "X-Viewer-Id": str(viewer.id),
    }
    if links := link_header(ice_servers(live.settings, claims.identity)):
        headers["Link"] = links
    return Response(answer, status_code=201, media_type=SDP, headers=headers)


@router.get(
    "/{ward_id}/viewers/{viewer_id}",
    response_model=ViewerOut,
    summary="Which slot shows which bed, and the bed open full-size",
    description="Bearer: the watch token the viewer joined with; another's viewer is a 404. "
    "Read it after joining and after `ward.roster`, to label the grid.",
    responses=problem_responses(401, 403, 404),
)
async def get_viewer(
    ward_id: WardId, viewer_id: ViewerId, claims: WatchDep, wards: WardsLiveDep
) -> ViewerOut:
    return viewer_out(wards.viewer(ward_id, viewer_id, claims.identity))


@router.put(
    "/{ward_id}/viewers/{viewer_id}/focus",
    response_model=ViewerOut,
    summary="Open a bed full-size (every frame, and its sound), or close it with null",
    description="An empty bed is a 409: it shows nothing.",
    responses=problem_responses(401, 403, 404, 409),
)
async def focus(
    ward_id: WardId,
    viewer_id: ViewerId,
    body: FocusIn,
    uow: UnitOfWorkDep,
    claims: WatchDep,
    wards: WardsLiveDep,
) -> ViewerOut:
    viewer = wards.viewer(ward_id, viewer_id, claims.identity)
    previous, seconds = wards.focus(viewer, body.bed_id)
    if previous is not None:
        service.audit(uow, "bed.view.end", service.BED, previous, by=claims.identity,
                      detail=f"ward={ward_id}; seconds={seconds:.0f}")  # fmt: skip
    if body.bed_id is not None:
        service.audit(uow, "bed.view", service.BED, body.bed_id, by=claims.identity,
                      detail=f"ward={ward_id}")  # fmt: skip
    return viewer_out(viewer)


@router.put(
    "/{ward_id}/viewers/{viewer_id}/talk",
    response_model=ViewerOut,
    summary="Talk to the bed open full-size through its tablet, or stop",
    description="The tablet turns its microphone on while someone talks, so the doctor hears "
    "the local staff. A bed without a connected tablet (an IP camera) is a 409.",
    responses=problem_responses(401, 403, 404, 409),
)
async def talk(
    ward_id: WardId,
    viewer_id: ViewerId,
    body: TalkIn,
    uow: UnitOfWorkDep,
    claims: WatchDep,
    wards: WardsLiveDep,
) -> ViewerOut:
    viewer = wards.viewer(ward_id, viewer_id, claims.identity)
    bed_id = wards.talk(viewer, body.talking)
    service.audit(uow, "bed.talk", service.BED, bed_id, by=claims.identity,
                  detail=f"ward={ward_id}; talking={body.talking}")  # fmt: skip
    return viewer_out(viewer)


@router.delete(
    "/{ward_id}/viewers/{viewer_id}",
    status_code=204,
    summary="Stop watching",
    description="Bearer: the watch token the viewer joined with; another's viewer is a 404. The "
    "connection is closed and the end of the viewing audited.",
    responses=problem_responses(401, 403, 404),
)
async def unwatch(
    ward_id: WardId,
    viewer_id: ViewerId,
    uow: UnitOfWorkDep,
    claims: WatchDep,
    wards: WardsLiveDep,
) -> Response:
    viewer = wards.viewer(ward_id, viewer_id, claims.identity)
    await wards.disconnect_viewer(viewer)
    service.audit(uow, "ward.unwatch", service.RESOURCE, ward_id, by=claims.identity,
                  detail=f"viewer={viewer.id}")  # fmt: skip
    return Response(status_code=204)


@router.get(
    "/{ward_id}/events",
    summary="The overview's events as SSE: each bed's state every moment, alarms, roster",
    description="Bearer: the ward's watch token. `ward.state` lists every bed (online, seconds "
    "since its last frame, open alarm) about twice a second; `bed.alarm` and "
    "`bed.alarm_cleared` come at once; `ward.roster` means the beds changed (join again).",
    responses={200: {"content": {"text/event-stream": {}}}, **problem_responses(401, 403, 404)},
)
async def ward_events(
    ward_id: WardId, claims: WatchDep, wards: WardsLiveDep, monitor: MonitorDep
) -> StreamingResponse:
    ward = _roster(wards, ward_id)
    first = {"event": "ward.state", "beds": monitor.state(ward, time.monotonic())}
    return StreamingResponse(
        wards.events.stream(ward_id, first), media_type="text/event-stream", headers=STREAM_HEADERS
    )
