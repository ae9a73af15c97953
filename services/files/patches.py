"""Applying one tus PATCH: append the bytes, keep what arrived if the link drops or the process
dies, and complete the file when the last byte is in.

A PATCH's bytes join the upload's tail (bytes past the last full part); full parts go to the
store, and what is left becomes the new tail. With an `Upload-Checksum`, nothing of the PATCH
counts until the checksum matches; without one, bytes received before a drop are kept, so the
client resumes from there.

Without a checksum, progress is also recorded while the bytes stream, about every
`upload_checkpoint` (a stalled client included): the parts stored so far and the rest as a
tail object are written first, then the row's offset, so that the offset a HEAD reports after
a crash counts only bytes the store holds. A checkpoint rewrites the pending tail, so it waits
until the bytes new since the last one are at least a quarter of it: on a slow link that keeps
the rewriting within five times the bytes received. A client that stalls has what it sent
recorded at the next tick.
"""

import asyncio
import hashlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
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
    parts_of,
    record_progress,
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
class Recorded:
    """What the upload's row says is stored, as this request last wrote it."""

    offset: int
    parts: list[dict[str, Any]]
    tail_key: str | None
    writer_parts: int = 0  # how many of this request's parts are among `parts`


async def with_ticks(
    body: AsyncIterator[bytes], every: float
) -> AsyncGenerator[bytes | None, None]:
    """The body's chunks, and None each time `every` seconds pass without one. The read in
    flight is never cancelled by a tick (that would end the body's stream), only at the end."""
    chunks = aiter(body)

    async def next_chunk() -> bytes | None:
        return await anext(chunks, None)

    pending: asyncio.Task[bytes | None] | None = None
    try:
        while True:
            pending = pending or asyncio.create_task(next_chunk())
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield None
                continue
            chunk, pending = pending.result(), None
            if chunk is None:
                return
            yield chunk
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)


@dataclass
class Patch:
    store: ObjectStore
    database: Database
    settings: FilesSettings
    hashers: HasherCache
    upload: Upload
    lease: Lease
    recorded: Recorded = field(init=False)

    def __post_init__(self) -> None:
        upload = self.upload
        self.recorded = Recorded(upload.offset, list(upload.parts), upload.tail_key)

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
        await self._record(writer, intake, release=True)
        if intake.hasher is not None:
            self.hashers.keep(upload.id, offset, intake.hasher)
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
        """Streams the body into the writer, recording progress on the way unless the PATCH
        has a checksum; True if the client went away before the end."""
        every = self.settings.upload_checkpoint.total_seconds()
        last = time.monotonic()
        try:
            async with aclosing(with_ticks(body, every)) as chunks:
                async for chunk in chunks:
                    if chunk is not None:
                        await self._take(chunk, intake, writer, request_hash)
                    if request_hash is None and time.monotonic() - last >= every:
                        if self._worth_recording(writer, intake, stalled=chunk is None):
                            await self._record(writer, intake)
                        last = time.monotonic()
        except ClientDisconnect:
            return True
        return False

    async def _take(
        self, chunk: bytes, intake: Intake, writer: PartWriter, request_hash: Any | None
    ) -> None:
        try:
            intake.accept(chunk)
        except PayloadTooLarge as exc:
            raise PayloadTooLarge(
                "The PATCH carries more bytes than the upload's Upload-Length."
            ) from exc
        if request_hash is not None:
            request_hash.update(chunk)
        await writer.write(chunk)

    def _worth_recording(self, writer: PartWriter, intake: Intake, *, stalled: bool) -> bool:
        """Whether a checkpoint is worth rewriting the tail; always, once the client stalls."""
        unrecorded = self.upload.offset + intake.received - self.recorded.offset
        return unrecorded > 0 and (stalled or 4 * unrecorded >= writer.buffered_size)

    async def _record(self, writer: PartWriter, intake: Intake, *, release: bool = False) -> None:
        """Records everything received so far: the parts stored, then the rest as the tail."""
        upload, recorded = self.upload, self.recorded
        await writer.drain()
        offset = upload.offset + intake.received
        new_tail = tail_key(upload.id, offset) if writer.buffered_size else None
        if new_tail is not None and new_tail != recorded.tail_key:
            await self.store.put(new_tail, writer.buffered(), STORED_TYPE)
        parts = [*recorded.parts, *(vars(part) for part in writer.parts[recorded.writer_parts :])]
        try:
            await record_progress(
                self.database,
                self.lease,
                offset_before=recorded.offset,
                values={
                    "offset": offset,
                    "multipart_id": writer.multipart_id,
                    "parts": parts,
                    "tail_key": new_tail,
                    "tail_size": writer.buffered_size,
                    "media_type": intake.sniffed.media_type
                    if intake.sniffed
                    else upload.media_type,
                    "expires_at": utcnow() + self.settings.upload_expiry,
                },
                release=release,
            )
        except BaseException:
            if new_tail is not None and new_tail != recorded.tail_key:
                await remove_quietly(self.store, new_tail)
            raise
        if recorded.tail_key is not None and recorded.tail_key != new_tail:
            await remove_quietly(self.store, recorded.tail_key)
        self.recorded = Recorded(offset, parts, new_tail, len(writer.parts))

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
            await self._reject(writer)
            raise
        for key in self._tail_keys():
            await remove_quietly(store, key)
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

    def _tail_keys(self) -> set[str]:
        """The tail the upload came with and the one this request last recorded."""
        return {key for key in (self.upload.tail_key, self.recorded.tail_key) if key is not None}

    async def _reject(self, writer: PartWriter) -> None:
        upload = self.upload
        if writer.multipart_id is not None:
            await self.store.abort_multipart(upload.object_key, writer.multipart_id)
        for key in self._tail_keys():
            await remove_quietly(self.store, key)
        await remove_quietly(self.store, upload.object_key)
        await record_progress(
            self.database,
            self.lease,
            offset_before=self.recorded.offset,
            values={"status": UploadStatus.REJECTED, "tail_key": None, "multipart_id": None},
        )
        self.hashers.forget(upload.id)
