"""HTTP routes of ICU wards under `/api/video/wards`: wards and beds, bedside credentials,
watch tokens and alarms (the overview's media and events are in `signalling.py`)."""

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from services.common.auth import CurrentPrincipal, Principal, bearer_token
from services.common.errors import ProblemError, problem_responses
from services.common.uow import UnitOfWork, UnitOfWorkDep
from services.video.api import PREFIX
from services.video.deps import LiveDep
from services.video.enums import Grant, ParticipantRole
from services.video.ice import ice_servers
from services.video.schemas import RecordingOut, RecordingStopped
from services.video.wards import access, service
from services.video.wards.deps import MonitorDep, OrganizationExistsDep
from services.video.wards.live import WardEntry
from services.video.wards.models import Bed, Ward
from services.video.wards.monitor import Monitor
from services.video.wards.schemas import (
    AlarmOut,
    BedChange,
    BedCreate,
    BedLive,
    BedOut,
    DeviceCredentialOut,
    WardChange,
    WardCreate,
    WardOut,
    WatchTokenOut,
)

router = APIRouter(prefix=f"{PREFIX}/wards", tags=["ICU wards"])
WardId = Annotated[uuid.UUID, Path(description="The ward's id.")]
BedId = Annotated[uuid.UUID, Path(description="The bed's id.")]
# A watch token lasts a duty shift's part; the console asks for another when it runs out.
WATCH_TOKEN_SECONDS = 2 * 3600


def bed_out(bed: Bed, live: BedLive | None = None) -> BedOut:
    return BedOut(
        id=bed.id, ward_id=bed.ward_id, label=bed.label, patient_ref=bed.patient_ref,
        occupied=bed.patient_ref is not None, recording_consent=bed.recording_consent,
        source=bed.source, rtsp_configured=bool(bed.rtsp_url),
        device_issued_at=bed.device_issued_at, live=live,
    )  # fmt: skip


def ward_out(ward: Ward, principal: Principal, monitor: Monitor | None = None) -> WardOut:
    """With each bed's live state when the ward's own instance (`monitor`) answers."""
    states: dict[str, dict[str, object]] = {}
    if monitor is not None:
        now = time.monotonic()
        entry = WardEntry.of(ward)
        states = {str(state["bed_id"]): state for state in monitor.state(entry, now)}
    beds = []
    for bed in ward.beds:
        state = states.get(str(bed.id))
        live = BedLive.model_validate(state) if state is not None else None
        beds.append(bed_out(bed, live))
    return WardOut(
        id=ward.id, organization_id=ward.organization_id, name=ward.name,
        recording_allowed=ward.recording_allowed, watcher_ids=ward.watcher_ids, beds=beds,
        may_manage=access.may_manage(principal, ward),
    )  # fmt: skip


def refresh_after_commit(uow: UnitOfWork, monitor: Monitor, ward_id: uuid.UUID) -> None:
    """The live side rereads the ward once the change is committed, not at its next round."""

    async def refresh() -> None:
        await monitor.refresh(ward_id)

    uow.after_commit.append(refresh)


@router.get(
    "",
    response_model=list[WardOut],
    summary="The wards you manage or may watch",
    description="A hospital's staff see its own wards; a regional centre's doctors see the "
    "wards whose agreements name their organisation. Beds carry no live state here; ask "
    "for one ward for that.",
    responses=problem_responses(401),
)
async def list_wards(uow: UnitOfWorkDep, principal: CurrentPrincipal) -> list[WardOut]:
    return [ward_out(ward, principal) for ward in await service.wards_of(uow, principal)]


@router.post(
    "",
    status_code=201,
    response_model=WardOut,
    summary="Add an intensive-care ward to your hospital",
    description="For the hospital's coordinators. `watcher_ids` names the organisations (a "
    "regional centre) whose doctors may watch it; an unknown one is a 422.",
    responses=problem_responses(401, 403, 422, 502),
)
async def create_ward(
    body: WardCreate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    exists: OrganizationExistsDep,
    monitor: MonitorDep,
) -> WardOut:
    ward = await service.create_ward(uow, principal, body, exists)
    refresh_after_commit(uow, monitor, ward.id)
    return ward_out(ward, principal)


@router.get(
    "/{ward_id}",
    response_model=WardOut,
    summary="A ward with its beds and each bed's live state",
    description="A ward the caller may not see is the same 404 as one that does not exist.",
    responses=problem_responses(401, 404),
)
async def get_ward(
    ward_id: WardId, uow: UnitOfWorkDep, principal: CurrentPrincipal, monitor: MonitorDep
) -> WardOut:
    ward = await service.visible_ward(uow, principal, ward_id, "ward.read")
    return ward_out(ward, principal, monitor)


@router.patch(
    "/{ward_id}",
    response_model=WardOut,
    summary="Rename a ward, allow or forbid recording, change who watches it",
    description="For the hospital's coordinators and administrators (other viewers: 403). Only "
    "the fields given change; `watcher_ids` replaces the watching organisations, an unknown one "
    "a 422. Forbidding recording stops the ward's running recordings.",
    responses=problem_responses(401, 403, 404, 422, 502),
)
async def change_ward(
    ward_id: WardId,
    body: WardChange,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    exists: OrganizationExistsDep,
    monitor: MonitorDep,
) -> WardOut:
    ward = await service.managed_ward(uow, principal, ward_id, "ward.change")
    await service.change_ward(uow, ward, body, exists)
    refresh_after_commit(uow, monitor, ward.id)
    return ward_out(ward, principal, monitor)


@router.delete(
    "/{ward_id}",
    status_code=204,
    summary="Remove a ward with its beds and alarms",
    description="For the hospital's coordinators and administrators (other viewers: 403; a "
    "ward you may not see: 404). The ward leaves the monitoring at once and its running "
    "recordings stop; recordings already stored stay in the files service.",
    responses=problem_responses(401, 403, 404),
)
async def delete_ward(
    ward_id: WardId, uow: UnitOfWorkDep, principal: CurrentPrincipal, monitor: MonitorDep
) -> Response:
    ward = await service.managed_ward(uow, principal, ward_id, "ward.delete")
    await uow.session.delete(ward)
    uow.audit.record("ward.delete", service.RESOURCE, ward_id)
    refresh_after_commit(uow, monitor, ward_id)
    return Response(status_code=204)


@router.post(
    "/{ward_id}/beds",
    status_code=201,
    response_model=BedOut,
    summary="Add a bed: its label, patient reference, and where its picture comes from",
    description="`source` is `tablet` (a bedside tablet's browser, set up with a device "
    "credential) or `rtsp` (an IP camera, with `rtsp_url`). A label the ward already has is a "
    "409.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def add_bed(
    ward_id: WardId,
    body: BedCreate,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    monitor: MonitorDep,
) -> BedOut:
    ward = await service.managed_ward(uow, principal, ward_id, "bed.create")
    bed = await service.add_bed(uow, ward, body)
    refresh_after_commit(uow, monitor, ward.id)
    return bed_out(bed)


@router.patch(
    "/{ward_id}/beds/{bed_id}",
    response_model=BedOut,
    summary="Change a bed: its patient (null: empty), consent, label or source",
    description="A new patient starts without consent to recording unless it is given with "
    "them; emptying the bed withdraws it. An empty bed shows nothing to viewers.",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def change_bed(
    ward_id: WardId,
    bed_id: BedId,
    body: BedChange,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    monitor: MonitorDep,
) -> BedOut:
    ward, bed = await service.managed_bed(uow, principal, ward_id, bed_id, "bed.change")
    await service.change_bed(uow, ward, bed, body)
    refresh_after_commit(uow, monitor, ward.id)
    return bed_out(bed)


@router.delete(
    "/{ward_id}/beds/{bed_id}",
    status_code=204,
    summary="Remove a bed",
    description="For the hospital's coordinators and administrators; the bed's tablet or "
    "camera drops out of the overview, a running recording stops, and its alarms go with it. "
    "A bed of another ward is a 404.",
    responses=problem_responses(401, 403, 404),
)
async def delete_bed(
    ward_id: WardId,
    bed_id: BedId,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    monitor: MonitorDep,
) -> Response:
    ward, bed = await service.managed_bed(uow, principal, ward_id, bed_id, "bed.delete")
    ward.beds.remove(bed)
    await uow.session.delete(bed)
    uow.audit.record("bed.delete", service.BED, bed_id, detail=f"ward={ward_id}")
    refresh_after_commit(uow, monitor, ward.id)
    return Response(status_code=204)


@router.post(
    "/{ward_id}/beds/{bed_id}/device",
    status_code=201,
    response_model=DeviceCredentialOut,
    summary="Issue the bedside tablet's credential (shown once; revokes the previous one)",
    description="Open `bedside_url` on the tablet once: the page keeps the credential and "
    "publishes the camera from then on, reconnecting by itself.",
    responses=problem_responses(401, 403, 404, 409),
)
async def issue_device(
    ward_id: WardId,
    bed_id: BedId,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    live: LiveDep,
    monitor: MonitorDep,
) -> DeviceCredentialOut:
    ward, bed = await service.managed_bed(uow, principal, ward_id, bed_id, "bed.device.issue")
    credential, issued_at = service.issue_device(uow, bed)
    await monitor.live.hub.disconnect(bed.id)  # the old credential's tablet is let go
    refresh_after_commit(uow, monitor, ward.id)
    base = live.settings.public_url.rstrip("/")
    # In the fragment: browsers never send it, so no server or proxy log holds the secret.
    url = f"{base}/bedside#ward={ward.id}&bed={bed.id}&key={credential}"
    return DeviceCredentialOut(credential=credential, bedside_url=url, issued_at=issued_at)


@router.delete(
    "/{ward_id}/beds/{bed_id}/device",
    status_code=204,
    summary="Revoke the bedside tablet's credential and disconnect it",
    description="For the hospital's coordinators and administrators, e.g. for a lost tablet: "
    "its credential stops working at once (401 on its next call) and the bed shows nothing "
    "until a new one is issued.",
    responses=problem_responses(401, 403, 404),
)
async def revoke_device(
    ward_id: WardId,
    bed_id: BedId,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    monitor: MonitorDep,
) -> Response:
    ward, bed = await service.managed_bed(uow, principal, ward_id, bed_id, "bed.device.revoke")
    service.revoke_device(uow, bed)
    await monitor.live.hub.disconnect(bed.id)
    refresh_after_commit(uow, monitor, ward.id)
    return Response(status_code=204)


@router.post(
    "/{ward_id}/watch-token",
    status_code=201,
    response_model=WatchTokenOut,
    summary="A short-lived token for watching the ward's overview",
    description="For the hospital's staff and the doctors of the organisations that watch the "
    "ward. The overview's peer connection and events take it as their bearer; the console "
    "hands it to the page instead of the access token.",
    responses=problem_responses(401, 403, 404),
)
async def watch_token(
    ward_id: WardId, uow: UnitOfWorkDep, principal: CurrentPrincipal, live: LiveDep
) -> WatchTokenOut:
    ward = await service.watched_ward(uow, principal, ward_id, "ward.watch_token")
    identity = str(principal.subject)
    token, expires_at = live.tokens.issue(
        ward.id, identity, principal.username, ParticipantRole.SPECIALIST,
        frozenset({Grant.SUBSCRIBE, Grant.PUBLISH}), lifetime_seconds=WATCH_TOKEN_SECONDS,
        organization_id=principal.organization_id,
    )  # fmt: skip
    service.audit(uow, "ward.watch_token", service.RESOURCE, ward.id, by=identity)
    return WatchTokenOut(
        token=token,
        expires_at=datetime.fromtimestamp(expires_at, UTC),
        ice_servers=ice_servers(live.settings, identity),
    )


@router.post(
    "/{ward_id}/beds/{bed_id}/recording",
    status_code=201,
    response_model=RecordingOut,
    summary="Record the bed's picture (where the ward allows it and the patient consented)",
    description="For those who may watch the ward. A ward that does not allow recording, an "
    "empty bed, a patient who has not consented, or a bed with no picture is a 409; the "
    "recording stops by itself when any of these ends.",
    responses=problem_responses(401, 403, 404, 409),
)
async def start_recording(
    ward_id: WardId,
    bed_id: BedId,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    monitor: MonitorDep,
) -> RecordingOut:
    await service.watched_ward(uow, principal, ward_id, "bed.recording.start")
    try:
        recording = monitor.recordings.start(ward_id, bed_id, bearer_token(request))
    except ProblemError as error:
        uow.audit.refuse("bed.recording.start", service.BED, bed_id, error)
    uow.audit.record("bed.recording.start", service.BED, bed_id, detail=f"ward={ward_id}")
    started = datetime.fromtimestamp(recording.started_at, UTC)
    return RecordingOut(active=True, started_at=started, file_id=None, unstored=False)


@router.delete(
    "/{ward_id}/beds/{bed_id}/recording",
    response_model=RecordingStopped,
    summary="Stop recording the bed: the file is stored as your file in the files service",
    description="For those who may watch the ward. The answer carries the stored `file_id`. A "
    "bed not being recorded is a 404; if the files service refuses the file (502) it is "
    "deleted, since a recording may not stay outside the record.",
    responses=problem_responses(401, 403, 404, 502, 503),
)
async def stop_recording(
    ward_id: WardId,
    bed_id: BedId,
    request: Request,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    monitor: MonitorDep,
) -> RecordingStopped:
    await service.watched_ward(uow, principal, ward_id, "bed.recording.stop")
    stopped = await monitor.recordings.stop(bed_id, bearer_token(request))
    uow.audit.record(
        "bed.recording.stop", service.BED, bed_id, detail=f"ward={ward_id}; file={stopped.file_id}"
    )
    return stopped


@router.get(
    "/{ward_id}/alarms",
    response_model=list[AlarmOut],
    summary="The ward's alarms, newest first",
    description="For whoever may see the ward (else 404). An alarm is raised when an occupied "
    "bed's picture has stopped for the service's threshold, and cleared when frames return; "
    "`open=true` lists only those not cleared.",
    responses=problem_responses(401, 404),
)
async def list_alarms(
    ward_id: WardId,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    open_only: Annotated[bool, Query(alias="open", description="Only alarms not cleared.")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AlarmOut]:
    ward = await service.visible_ward(uow, principal, ward_id, "ward.alarms")
    rows = await service.alarms(uow, ward, open_only=open_only, limit=limit)
    return [AlarmOut.model_validate(row) for row in rows]
