"""Rules of wards and beds: who creates and changes them, which organisations watch, the
bedside credentials, the alarms' record. No HTTP and no media here."""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.audit import Outcome
from services.common.auth import Principal
from services.common.db import utcnow
from services.common.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.common.uow import UnitOfWork
from services.video.wards import access
from services.video.wards.credentials import new_credential
from services.video.wards.enums import SourceKind
from services.video.wards.models import Bed, BedAlarm, Ward, WardWatcher
from services.video.wards.schemas import BedChange, BedCreate, WardChange, WardCreate

RESOURCE = "ward"
BED = "ward_bed"
# Whether an organisation exists, asked of the directory with the caller's token.
OrganizationExists = Callable[[uuid.UUID], Awaitable[bool]]


def audit(
    uow: UnitOfWork,
    action: str,
    resource: str,
    resource_id: uuid.UUID,
    *,
    by: str | None = None,
    detail: str | None = None,
) -> None:
    """Watch-token and device callers have no gateway principal: who it was goes in the detail."""
    text = "; ".join(part for part in (f"by={by}" if by else None, detail) if part)
    uow.audit.record(action, resource, resource_id, Outcome.SUCCESS, detail=text or None)


async def visible_ward(
    uow: UnitOfWork, principal: Principal, ward_id: uuid.UUID, action: str
) -> Ward:
    """The ward if the caller may see it; otherwise the same 404 as for none, on record."""
    ward = await uow.session.get(Ward, ward_id)
    if ward is None or not access.may_see(principal, ward):
        uow.audit.refuse(action, RESOURCE, ward_id, NotFound("No such ward."))
    return ward


async def managed_ward(
    uow: UnitOfWork, principal: Principal, ward_id: uuid.UUID, action: str
) -> Ward:
    ward = await visible_ward(uow, principal, ward_id, action)
    if not access.may_manage(principal, ward):
        uow.audit.refuse(
            action, RESOURCE, ward_id, Forbidden("Only the hospital's coordinators manage it.")
        )
    return ward


async def watched_ward(
    uow: UnitOfWork, principal: Principal, ward_id: uuid.UUID, action: str
) -> Ward:
    ward = await visible_ward(uow, principal, ward_id, action)
    if not access.may_watch(principal, ward):
        uow.audit.refuse(action, RESOURCE, ward_id, Forbidden("Only its doctors watch a ward."))
    return ward


async def managed_bed(
    uow: UnitOfWork, principal: Principal, ward_id: uuid.UUID, bed_id: uuid.UUID, action: str
) -> tuple[Ward, Bed]:
    """A bed of a ward the caller manages (refusals as for the ward, then a 404 for the bed)."""
    ward = await managed_ward(uow, principal, ward_id, action)
    bed = next((bed for bed in ward.beds if bed.id == bed_id), None)
    if bed is None:
        uow.audit.refuse(action, BED, bed_id, NotFound("No such bed in this ward."))
    return ward, bed


async def wards_of(uow: UnitOfWork, principal: Principal) -> Sequence[Ward]:
    rows = await uow.session.scalars(
        select(Ward).where(access.visible(principal)).order_by(Ward.name)
    )
    return rows.all()


async def _require_watchers(
    uow: UnitOfWork, ward_id: uuid.UUID, ids: list[uuid.UUID], exists: OrganizationExists
) -> list[uuid.UUID]:
    unique = sorted(set(ids))
    for organization_id in unique:
        if not await exists(organization_id):
            uow.audit.refuse(
                "ward.watchers", RESOURCE, ward_id,
                Unprocessable(f"No such organisation: {organization_id}.", field="watcher_ids"),
            )  # fmt: skip
    return unique


async def create_ward(
    uow: UnitOfWork, principal: Principal, body: WardCreate, exists: OrganizationExists
) -> Ward:
    if principal.role not in access.MANAGERS or principal.organization_id is None:
        uow.audit.refuse(
            "ward.create", RESOURCE, None, Forbidden("Only a hospital's coordinators add wards.")
        )
    ward = Ward(
        id=uuid.uuid4(),
        organization_id=principal.organization_id,
        name=body.name,
        recording_allowed=body.recording_allowed,
        watchers=[],
        beds=[],
    )
    watchers = await _require_watchers(uow, ward.id, body.watcher_ids, exists)
    ward.watchers = [WardWatcher(organization_id=org) for org in watchers]
    uow.session.add(ward)
    await uow.session.flush()
    uow.audit.record("ward.create", RESOURCE, ward.id, detail=f"watchers={len(watchers)}")
    return ward


async def change_ward(
    uow: UnitOfWork, ward: Ward, body: WardChange, exists: OrganizationExists
) -> None:
    if body.name is not None:
        ward.name = body.name
    if body.recording_allowed is not None:
        ward.recording_allowed = body.recording_allowed
    if body.watcher_ids is not None:
        wanted = await _require_watchers(uow, ward.id, body.watcher_ids, exists)
        ward.watchers = [w for w in ward.watchers if w.organization_id in wanted] + [
            WardWatcher(organization_id=org) for org in wanted if org not in ward.watcher_ids
        ]
    await uow.session.flush()
    changed = ",".join(sorted(body.model_fields_set))
    uow.audit.record("ward.change", RESOURCE, ward.id, detail=f"fields={changed}")


async def add_bed(uow: UnitOfWork, ward: Ward, body: BedCreate) -> Bed:
    if any(bed.label == body.label for bed in ward.beds):
        raise Conflict(f"The ward already has a bed labelled {body.label!r}.")
    bed = Bed(
        ward_id=ward.id,
        label=body.label,
        source=body.source or SourceKind.TABLET,
        rtsp_url=body.rtsp_url,
        recording_consent=False,
    )
    _assign(bed, body.patient_ref, body.recording_consent)
    ward.beds.append(bed)
    await _flush_label(uow)
    uow.audit.record("bed.create", BED, bed.id, detail=f"ward={ward.id}")
    return bed


async def change_bed(uow: UnitOfWork, ward: Ward, bed: Bed, body: BedChange) -> None:
    given = body.model_fields_set
    if body.label is not None:
        bed.label = body.label
    if body.source is not None:
        bed.source = body.source
        bed.rtsp_url = body.rtsp_url if body.source is SourceKind.RTSP else None
    elif body.rtsp_url is not None:
        if bed.source is not SourceKind.RTSP:
            raise Unprocessable("A tablet bed takes no rtsp_url.", field="rtsp_url")
        bed.rtsp_url = body.rtsp_url
    if "patient_ref" in given:
        _assign(bed, body.patient_ref, body.recording_consent or False)
    elif body.recording_consent is not None:
        if bed.patient_ref is None:
            raise Conflict("The bed is empty: there is no patient to consent.")
        bed.recording_consent = body.recording_consent
    await _flush_label(uow)
    uow.audit.record(
        "bed.change", BED, bed.id, detail=f"ward={ward.id}; fields={','.join(sorted(given))}"
    )


def _assign(bed: Bed, patient_ref: str | None, consent: bool) -> None:
    """A new patient (or none) starts without consent unless it is given with them."""
    if patient_ref != bed.patient_ref:
        bed.patient_since = utcnow() if patient_ref else None
    bed.patient_ref = patient_ref or None
    bed.recording_consent = consent and bed.patient_ref is not None


async def _flush_label(uow: UnitOfWork) -> None:
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        raise Conflict("The ward already has a bed with this label.") from exc


def issue_device(uow: UnitOfWork, bed: Bed) -> tuple[str, datetime]:
    credential, stored = new_credential()
    bed.device_secret_hash, bed.device_issued_at = stored, utcnow()
    uow.audit.record("bed.device.issue", BED, bed.id, detail=f"ward={bed.ward_id}")
    return credential, bed.device_issued_at


def revoke_device(uow: UnitOfWork, bed: Bed) -> None:
    bed.device_secret_hash = bed.device_issued_at = None
    uow.audit.record("bed.device.revoke", BED, bed.id, detail=f"ward={bed.ward_id}")


async def alarms(uow: UnitOfWork, ward: Ward, *, open_only: bool, limit: int) -> Sequence[BedAlarm]:
    query = select(BedAlarm).where(BedAlarm.ward_id == ward.id)
    if open_only:
        query = query.where(BedAlarm.cleared_at.is_(None))
    rows = await uow.session.scalars(query.order_by(BedAlarm.raised_at.desc()).limit(limit))
    return rows.all()
