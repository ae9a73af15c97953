"""Periodic clean-up: abandoned uploads expire and free their parts; deleted files are purged
once their retention ends (never while under a legal hold)."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update

from services.common.db import Database, utcnow
from services.files.enums import UploadStatus
from services.files.models import StoredFile, Upload
from services.files.resumable import discard_stored
from services.files.storage import ObjectStore

logger = logging.getLogger("telemed.files.maintenance")
BATCH = 100


@dataclass(frozen=True)
class Swept:
    expired_uploads: int
    purged_files: int


async def sweep(database: Database, store: ObjectStore, now: datetime | None = None) -> Swept:
    now = now or utcnow()
    return Swept(await _expire_uploads(database, store, now), await _purge(database, store, now))


async def _expire_uploads(database: Database, store: ObjectStore, now: datetime) -> int:
    async with database.sessionmaker() as session:
        due = (
            await session.scalars(
                select(Upload)
                .where(Upload.status == UploadStatus.ACTIVE, Upload.expires_at <= now)
                .limit(BATCH)
            )
        ).all()
    expired = 0
    for upload in due:
        async with database.sessionmaker() as session:
            # Claimed first: a PATCH that renewed the upload meanwhile keeps it.
            claimed = await session.execute(
                update(Upload)
                .where(
                    Upload.id == upload.id,
                    Upload.status == UploadStatus.ACTIVE,
                    Upload.expires_at <= now,
                    or_(Upload.lease_token.is_(None), Upload.lease_expires_at < now),
                )
                .values(status=UploadStatus.EXPIRED, tail_key=None, multipart_id=None)
            )
            await session.commit()
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            await discard_stored(store, upload)
            expired += 1
    return expired


async def _purge(database: Database, store: ObjectStore, now: datetime) -> int:
    async with database.sessionmaker() as session:
        due = (
            await session.scalars(
                select(StoredFile)
                .where(
                    StoredFile.purge_after.is_not(None),
                    StoredFile.purge_after <= now,
                    StoredFile.purged_at.is_(None),
                    StoredFile.legal_hold.is_(False),
                )
                .limit(BATCH)
            )
        ).all()
        for record in due:
            await store.delete(record.object_key)
            record.purged_at = now
        await session.commit()
    return len(due)


async def run_periodically(database: Database, store: ObjectStore, interval: float) -> None:
    """The service's background sweeper; an error is logged and the next round runs anyway."""
    while True:
        try:
            swept = await sweep(database, store)
            if swept.expired_uploads or swept.purged_files:
                logger.info("swept %s", swept)
        except Exception:
            logger.exception("maintenance sweep failed")
        await asyncio.sleep(interval)
