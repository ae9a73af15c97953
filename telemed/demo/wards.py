"""The demo's ICU ward: Tashtagol District Hospital's, watched by the regional centre, with four
bedside-tablet beds (three patients, one of whom consented to recording, and an empty bed),
written into the video service's database with its own rules for beds and its audit trail."""

import uuid

from sqlalchemy import select

from services.common.db import Database
from services.common.keys import load_or_create_secret
from services.common.settings import ServiceSettings
from services.common.uow import UnitOfWork, standalone_unit_of_work
from services.video.models import KERNEL_TABLES as VIDEO_TABLES
from services.video.wards import service
from services.video.wards.models import Ward, WardWatcher
from services.video.wards.schemas import BedCreate

WARD_NAME = "ICU, Tashtagol District Hospital"
# label, the hospital's case-history number (None: the bed is empty), consent to recording.
BEDS = [
    ("Bed 1", "IB 2026/0871", True),
    ("Bed 2", "IB 2026/0904", False),
    ("Bed 3", "IB 2026/0919", False),
    ("Bed 4", None, False),
]


async def seed_ward(video: ServiceSettings, hospital: uuid.UUID, centre: uuid.UUID) -> None:
    """Creates what is missing (the ward, the centre's agreement to watch it, a bed of a
    label), so seeding again doubles nothing; beds the demo's people changed stay as they are.
    The tablets get no credential here: the coordinator issues each one's link (shown once)."""
    key = load_or_create_secret(video.resolved_audit_key_path())
    database = Database(video.resolved_database_url(), audit_key=key)
    try:
        async with standalone_unit_of_work(database, VIDEO_TABLES.audit) as uow:
            ward = await _watched_ward(uow, hospital, centre)
            labels = {bed.label for bed in ward.beds}
            for label, patient, consent in BEDS:
                if label not in labels:
                    body = BedCreate(label=label, patient_ref=patient, recording_consent=consent)
                    await service.add_bed(uow, ward, body)
    finally:
        await database.dispose()


async def _watched_ward(uow: UnitOfWork, hospital: uuid.UUID, centre: uuid.UUID) -> Ward:
    """The demo's ward, with the centre among its watchers (again, if someone removed it)."""
    query = select(Ward).where(Ward.organization_id == hospital, Ward.name == WARD_NAME)
    ward = await uow.session.scalar(query)
    if ward is None:
        ward = Ward(id=uuid.uuid4(), organization_id=hospital, name=WARD_NAME,
                    recording_allowed=True, watchers=[WardWatcher(organization_id=centre)],
                    beds=[])  # fmt: skip
        uow.session.add(ward)
        await uow.session.flush()
        uow.audit.record("ward.create", service.RESOURCE, ward.id, detail="the demo's seed")
    elif centre not in ward.watcher_ids:
        ward.watchers.append(WardWatcher(organization_id=centre))
        uow.audit.record("ward.change", service.RESOURCE, ward.id,
                         detail="fields=watcher_ids; the demo's seed")  # fmt: skip
    return ward
