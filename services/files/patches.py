"""Applying one tus PATCH: append the bytes, keep what arrived if the link drops, and complete
the file when the last byte is in.

A PATCH's bytes join the upload's tail (bytes past the last full part); full parts go to the
store, and what is left becomes the new tail. With an `Upload-Checksum`, nothing of the PATCH
counts until the checksum matches; without one, bytes received before a drop are kept, so the
client resumes from there.
"""

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect

from services.common.db import Database, utcnow
from services.common.errors import PayloadTooLarge
from services.files.enums import UploadStatus
from services.files.ingest import Intake, PartWriter, not_allowed
from services.files.models import Upload
from services.files.receive import (
    STORED_TYPE,
    Received,
    confirm_size,
    inspect_stored,
    remove_quietly,
)
from services.files.resumable import (
    ChecksumMismatch,
    HasherCache,
    Lease,
    discard_stored,
    parts_of,
    record_progress,
    renew_lease,
    tail_key,
)
from services.files.settings import FilesSettings
from services.files.sniffing import SNIFF_BYTES, Sniffed, sniff
from services.files.storage import ObjectStore


@dataclass(frozen=True)
class RequestChecksum:
    algorithm: str
    digest: bytes


@dataclass
class Patch:
    store: ObjectStore
    database: Database
    settings: FilesSettings
    hashers: HasherCache
    upload: Upload
    lease: Lease

    async def apply(
        self,
        body: AsyncIterator[bytes],
        checksum: RequestChecksum | None,
        complete: Callable[[Received], Awaitable[None]],
    ) -> int:
        """Appends the body; returns the new offset. `complete` records a finished file."""
        upload = self.upload
        remaining = upload.length - upload.offset
        intake = Intake(
            limit=remaining,
            display_name=upload.display_name,
            hasher=self.hashers.take(upload.id, upload.offset),
            sniffing=upload.media_type is None,
        )
        tail = await self._read_tail()
        if upload.media_type is None:
            intake.seed(tail)
        writer = PartWriter(
            self.store,
            upload.object_key,
            STORED_TYPE,
            self.settings.part_size,
            multipart_id=upload.multipart_id,
            earlier_parts=len(upload.parts),
            tail=tail,
        )
        request_hash = hashlib.new(checksum.algorithm) if checksum else None
        try:
            interrupted = await self._receive(body, intake, writer, request_hash)
            if checksum and (interrupted or request_hash.digest() != checksum.digest):  # type: ignore[union-attr]
                await writer.discard()
                if interrupted:
                    return upload.offset
                raise ChecksumMismatch("The PATCH's checksum does not match; nothing was kept.")
            await writer.drain()
        except BaseException:
            await writer.cancel()
            raise
        offset = upload.offset + intake.received
        if offset == upload.length:
            await complete(await self._finish(writer, intake))
            self.hashers.forget(upload.id)
            return offset
        await self._keep(writer, intake, offset)
        return offset

    async def _read_tail(self) -> bytes:
        if self.upload.tail_key is None:
            return b""
        return b"".join([chunk async for chunk in self.store.read(self.upload.tail_key)])

    async def _receive(
        self,
        body: AsyncIterator[bytes],
        intake: Intake,
        writer: PartWriter,
        request_hash: Any | None,
    ) -> bool:
        """Streams the body into the writer; True if the client went away before the end."""
        lifetime = self.settings.upload_lease
        renew_every = lifetime.total_seconds() / 3
        renewed = time.monotonic()
        try:
            async for chunk in body:
                try:
                    intake.accept(chunk)
                except PayloadTooLarge as exc:
                    raise PayloadTooLarge(
                        "The PATCH carries more bytes than the upload's Upload-Length."
                    ) from exc
                if request_hash is not None:
                    request_hash.update(chunk)
                await writer.write(chunk)
                if time.monotonic() - renewed > renew_every:
                    await renew_lease(self.database, self.lease, lifetime)
                    renewed = time.monotonic()
        except ClientDisconnect:
            return True
        return False

    async def _keep(self, writer: PartWriter, intake: Intake, offset: int) -> None:
        """Records the progress of an unfinished upload: new parts, and the rest as tail."""
        upload = self.upload
        new_tail = tail_key(upload.id, offset) if writer.buffered_size else None
        if new_tail is not None:
            await self.store.put(new_tail, writer.buffered(), STORED_TYPE)
        try:
            await record_progress(
                self.database,
                self.lease,
                offset_before=upload.offset,
                values={
                    "offset": offset,
                    "multipart_id": writer.multipart_id,
                    "parts": [*upload.parts, *(vars(part) for part in writer.parts)],
                    "tail_key": new_tail,
                    "tail_size": writer.buffered_size,
                    "media_type": intake.sniffed.media_type
                    if intake.sniffed
                    else upload.media_type,
                    "expires_at": utcnow() + self.settings.upload_expiry,
                },
            )
        except BaseException:
            if new_tail is not None:
                await remove_quietly(self.store, new_tail)
            raise
        if upload.tail_key is not None and upload.tail_key != new_tail:
            await remove_quietly(self.store, upload.tail_key)
        if intake.hasher is not None:
            self.hashers.keep(upload.id, offset, intake.hasher)

    async def _finish(self, writer: PartWriter, intake: Intake) -> Received:
        """Assembles the object and checks it like a simple upload's; failures reject it."""
        upload = self.upload
        store = self.store
        try:
            if upload.media_type is None:
                intake.identify()  # a file shorter than SNIFF_BYTES: its type is settled now
            await writer.finish(parts_of(upload))
            await confirm_size(store, upload.object_key, upload.length)
            sniffed = intake.sniffed or await self._sniff_stored()
            sha256 = intake.sha256 if intake.hasher is not None else await self._hash_stored()
            if upload.expected_sha256 and sha256 != upload.expected_sha256:
                raise ChecksumMismatch(
                    "The file's sha256 does not match the one given at creation; "
                    "the upload was rejected.",
                    actual_sha256=sha256,
                )
            media_type, dicom = await inspect_stored(
                store, self.settings, upload.object_key, upload.length, sniffed
            )
        except BaseException:
            await self._reject()
            raise
        if upload.tail_key is not None:
            await remove_quietly(store, upload.tail_key)
        return Received(upload.object_key, upload.length, sha256, media_type, dicom)

    async def _sniff_stored(self) -> Sniffed:
        """The type settled by an earlier request, read again from the assembled object."""
        chunks = self.store.read(self.upload.object_key, 0, SNIFF_BYTES)
        head = b"".join([chunk async for chunk in chunks])
        sniffed = sniff(head, display_name=self.upload.display_name)
        if sniffed is None:
            raise not_allowed()
        return sniffed

    async def _hash_stored(self) -> str:
        hasher = hashlib.sha256()
        async for chunk in self.store.read(self.upload.object_key):
            hasher.update(chunk)
            await asyncio.sleep(0)
        return hasher.hexdigest()

    async def _reject(self) -> None:
        upload = self.upload
        await discard_stored(self.store, upload)
        await remove_quietly(self.store, upload.object_key)
        await record_progress(
            self.database,
            self.lease,
            offset_before=upload.offset,
            values={"status": UploadStatus.REJECTED, "tail_key": None, "multipart_id": None},
        )
        self.hashers.forget(upload.id)
