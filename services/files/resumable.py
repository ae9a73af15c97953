"""Resumable uploads (the domain side of tus): creation, leases, appending, completion, ending.

One PATCH at a time per upload: a request takes a lease on the upload's row in a short
transaction of its own (so a long transfer holds no database lock) and gives it back when it
ends. A second PATCH meanwhile gets a 409.

A lease must outlive no process. Two rules make sure, and both hold with any number of
replicas on any number of machines:
- it is short (`upload_lease`, 20 s) and renewed every third of that by a task of the request
  for as long as the request runs, whatever it waits on; a process that dies stops renewing,
  so its leases lapse within the lease time;
- it names its holder's instance slot (services/files/instance.py), a file the holder keeps
  locked while it lives. A restarted process takes the slot its dead predecessor left, so it
  knows every lease naming that slot is the dead one's and frees them before it serves
  (`release_dead_holders`): the client's resume after a restart is not refused.
Holder ids per boot alone could not do the second: a new process cannot tell a crashed
predecessor's boot from a live replica's; the kernel's lock on the slot can.
"""

import asyncio
import hashlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update

from services.common.db import Database, utcnow
from services.common.errors import Conflict, Gone, NotFound, ProblemError
from services.files.enums import UploadStatus
from services.files.models import Upload
from services.files.storage import ObjectStore, Part

logger = logging.getLogger("telemed.files")
# What ends a lease, written once for every statement that does.
FREE = {"lease_token": None, "lease_expires_at": None, "lease_holder": None}


class ChecksumMismatch(ProblemError):
    status, slug, title = 460, "checksum-mismatch", "Checksum Mismatch"


@dataclass(frozen=True)
class Lease:
    upload_id: uuid.UUID
    token: uuid.UUID


class HasherCache:
    """The running sha256 of uploads this process is receiving, so completing one needs no
    second read of the whole file. A miss (restart, another instance) costs that read."""

    def __init__(self, capacity: int = 512) -> None:
        self._entries: OrderedDict[uuid.UUID, tuple[int, Any]] = OrderedDict()
        self._capacity = capacity

    def take(self, upload_id: uuid.UUID, offset: int) -> Any | None:
        entry = self._entries.get(upload_id)
        if entry is None or entry[0] != offset:
            return None if offset else hashlib.sha256()
        return entry[1].copy()

    def keep(self, upload_id: uuid.UUID, offset: int, hasher: Any) -> None:
        self._entries[upload_id] = (offset, hasher)
        self._entries.move_to_end(upload_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def forget(self, upload_id: uuid.UUID) -> None:
        self._entries.pop(upload_id, None)


def tail_key(upload_id: uuid.UUID, offset: int) -> str:
    return f"t/{upload_id.hex}/{offset}"


def parts_of(upload: Upload) -> list[Part]:
    return [Part(**part) for part in upload.parts]


def not_found() -> NotFound:
    return NotFound("No such upload is visible to you.")


def check_usable(upload: Upload, now: datetime) -> None:
    if upload.status is UploadStatus.TERMINATED:
        raise not_found()
    if upload.status is UploadStatus.EXPIRED or (
        upload.status is UploadStatus.ACTIVE and upload.expires_at <= now
    ):
        raise Gone("This upload has expired; start a new one.")
    if upload.status is UploadStatus.REJECTED:
        raise Gone("This upload was rejected; start a new one.")


async def acquire_lease(
    database: Database,
    upload_id: uuid.UUID,
    uploader: uuid.UUID,
    lifetime: timedelta,
    holder: str | None = None,
) -> tuple[Lease, Upload]:
    """Takes the upload for one request, or says why not (404, 410, or 409 when busy)."""
    now, token = utcnow(), uuid.uuid4()
    async with database.sessionmaker() as session:
        taken = await session.execute(
            update(Upload)
            .where(
                Upload.id == upload_id,
                Upload.uploaded_by == uploader,
                Upload.status == UploadStatus.ACTIVE,
                Upload.expires_at > now,
                or_(Upload.lease_token.is_(None), Upload.lease_expires_at < now),
            )
            .values(lease_token=token, lease_expires_at=now + lifetime, lease_holder=holder)
            .execution_options(synchronize_session=False)
        )
        upload = await session.get(Upload, upload_id)
        await session.commit()
    if upload is None or upload.uploaded_by != uploader:
        raise not_found()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        check_usable(upload, now)
        if upload.status is UploadStatus.COMPLETED:
            raise Conflict("This upload is already complete.", upload_offset=upload.offset)
        raise Conflict("Another request is writing to this upload; retry when it ends.")
    return Lease(upload_id, token), upload


async def renew_lease(database: Database, lease: Lease, lifetime: timedelta) -> bool:
    """Extends the lease; False if it is no longer this request's."""
    async with database.sessionmaker() as session:
        renewed = await session.execute(
            update(Upload)
            .where(Upload.id == lease.upload_id, Upload.lease_token == lease.token)
            .values(lease_expires_at=utcnow() + lifetime)
        )
        await session.commit()
    return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]


async def release_lease(database: Database, lease: Lease) -> None:
    async with database.sessionmaker() as session:
        await session.execute(
            update(Upload)
            .where(Upload.id == lease.upload_id, Upload.lease_token == lease.token)
            .values(**FREE)
        )
        await session.commit()


@asynccontextmanager
async def holding(database: Database, lease: Lease, lifetime: timedelta) -> AsyncIterator[None]:
    """Keeps the lease while the block runs, renewed by a task of its own so that a stalled
    client or a long completion (reading a whole file back) never lets it lapse; gives it back
    at the end."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lifetime.total_seconds() / 3)
            try:
                if not await renew_lease(database, lease, lifetime):
                    return  # given back by the request's last record (a lost one fails it)
            except Exception:  # the database may be back by the next round
                logger.warning("renewing the lease on upload %s failed", lease.upload_id)

    renewer = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewer.cancel()
        await asyncio.gather(renewer, return_exceptions=True)
        await release_lease(database, lease)


async def release_dead_holders(database: Database, slot_key: str) -> int:
    """Frees the leases held under this process's slot: they can only be a dead process's,
    since a living one keeps its slot locked (services/files/instance.py)."""
    async with database.sessionmaker() as session:
        freed = await session.execute(
            update(Upload).where(Upload.lease_holder == slot_key).values(**FREE)
        )
        await session.commit()
    count = int(freed.rowcount)  # type: ignore[attr-defined]
    if count:
        logger.info("freed %s upload lease(s) of a files process that died", count)
    return count


async def record_progress(
    database: Database,
    lease: Lease,
    *,
    offset_before: int,
    values: dict[str, Any],
    release: bool = True,
) -> None:
    """Stores a PATCH's progress, if the lease is still this request's; `release` ends the
    lease too (the last record of a request)."""
    async with database.sessionmaker() as session:
        result = await session.execute(
            update(Upload)
            .where(
                Upload.id == lease.upload_id,
                Upload.lease_token == lease.token,
                Upload.offset == offset_before,
            )
            .values(**values, **(FREE if release else {}))
        )
        await session.commit()
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This request lost its hold on the upload; check the offset and resume.")


async def discard_stored(store: ObjectStore, upload: Upload) -> None:
    """Removes everything an unfinished upload left in the store."""
    if upload.multipart_id is not None:
        await store.abort_multipart(upload.object_key, upload.multipart_id)
    if upload.tail_key is not None:
        await store.delete(upload.tail_key)
