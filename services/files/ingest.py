"""The byte path of every upload: size limit, type sniffing, sha256 and parts, while streaming.

Nothing here holds a whole file: bytes are hashed as they pass and leave in fixed-size parts,
with at most one part being stored while the next one fills.
"""

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.common.errors import PayloadTooLarge, UnsupportedMediaType
from services.files.sniffing import SNIFF_BYTES, Sniffed, sniff
from services.files.storage import ObjectStore, Part


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The file is larger than the limit of {limit:,} bytes.", max_size=limit)


def not_allowed() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "This type of file is not accepted: the allowed types are PDF, JPEG, PNG, TIFF, DICOM, "
        "plain text or CSV, DOCX, XLSX, ODT, ZIP archives of those, and MP4 or WebM video. "
        "The type is read from the content, not from the name."
    )


@dataclass
class Intake:
    """Counts and hashes the bytes of one file and sniffs its type from the first ones."""

    limit: int
    display_name: str
    received: int = 0
    # None when earlier bytes of the file were hashed by another process: then the whole
    # file is read back once at the end instead.
    hasher: Any | None = field(default_factory=hashlib.sha256)
    head: bytearray = field(default_factory=bytearray)
    sniffed: Sniffed | None = None
    # False when the file's first bytes went by in an earlier request and passed then.
    sniffing: bool = True

    def accept(self, chunk: bytes) -> None:
        self.received += len(chunk)
        if self.received > self.limit:
            raise too_large(self.limit)
        if self.hasher is not None:
            self.hasher.update(chunk)
        if self.sniffing and self.sniffed is None and len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
            if len(self.head) >= SNIFF_BYTES:
                self.identify()

    def identify(self) -> Sniffed:
        """The type from the bytes seen so far; call at the end for files under SNIFF_BYTES."""
        if self.sniffed is None:
            sniffed = sniff(bytes(self.head), display_name=self.display_name)
            if sniffed is None:
                raise not_allowed()
            self.sniffed = sniffed
        return self.sniffed

    def seed(self, earlier: bytes) -> None:
        """Lets sniffing see bytes of the file that arrived in an earlier request."""
        self.head += earlier[: SNIFF_BYTES - len(self.head)]
        if len(self.head) >= SNIFF_BYTES:
            self.identify()

    @property
    def sha256(self) -> str:
        assert self.hasher is not None
        digest: str = self.hasher.hexdigest()
        return digest


@dataclass
class PartWriter:
    """Cuts a byte stream into parts of `part_size` and stores each as soon as it is full.

    `tail` holds bytes stored earlier (a tus upload's tail) that come first; `parts` lists only
    the parts this writer stored, numbered after the `earlier_parts` stored by earlier requests.
    Chunks wait in a list and are joined once per part: one copy of each byte, not three.
    """

    store: ObjectStore
    key: str
    media_type: str
    part_size: int
    multipart_id: str | None = None
    earlier_parts: int = 0
    tail: bytes = b""
    parts: list[Part] = field(default_factory=list)
    _pending: list[bytes] = field(default_factory=list)
    _pending_size: int = 0
    _in_flight: "asyncio.Task[Part] | None" = None
    _started_multipart: bool = False

    def __post_init__(self) -> None:
        if self.tail:
            self._pending, self._pending_size = [self.tail], len(self.tail)

    @property
    def buffered_size(self) -> int:
        return self._pending_size

    def buffered(self) -> bytes:
        """The bytes not yet stored as a part."""
        return b"".join(self._pending)

    async def write(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        while self._pending_size >= self.part_size:
            joined = self.buffered()
            rest = joined[self.part_size :]
            self._pending, self._pending_size = ([rest] if rest else []), len(rest)
            await self._store_part(joined[: self.part_size] if rest else joined)

    async def _store_part(self, data: bytes) -> None:
        await self.drain()
        if self.multipart_id is None:
            self.multipart_id = await self.store.start_multipart(self.key, self.media_type)
            self._started_multipart = True
        number = self.earlier_parts + len(self.parts) + 1
        self._in_flight = asyncio.create_task(
            self.store.put_part(self.key, self.multipart_id, number, data)
        )

    async def drain(self) -> None:
        """Waits for the part in flight, so `parts` is complete."""
        if self._in_flight is not None:
            task, self._in_flight = self._in_flight, None
            self.parts.append(await task)

    async def cancel(self) -> None:
        if self._in_flight is not None:
            self._in_flight.cancel()
            await asyncio.gather(self._in_flight, return_exceptions=True)
            self._in_flight = None

    async def finish(self, earlier_parts: Sequence[Part] = ()) -> None:
        """Stores what is buffered as the last part and assembles the object."""
        await self.drain()
        rest = self.buffered()
        self._pending, self._pending_size = [], 0
        if self.multipart_id is None:
            await self.store.put(self.key, rest, self.media_type)
        else:
            if rest:
                await self._store_part(rest)
                await self.drain()
            await self.store.complete_multipart(
                self.key, self.multipart_id, [*earlier_parts, *self.parts]
            )

    async def discard(self) -> None:
        """Drops everything this writer stored (the object itself is the caller's to delete)."""
        await self.cancel()
        if self.multipart_id is not None and self._started_multipart:
            await self.store.abort_multipart(self.key, self.multipart_id)
