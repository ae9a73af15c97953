"""Where file bytes live: one interface, with the local-directory store as embedded default.

Objects are keyed by opaque ids the service makes, never by a name a user supplied. Multipart
writes follow S3's model (parts of one fixed size, the last one shorter), so the tus and simple
upload paths are written once for both stores.
"""

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar

from services.common.owner_only import FILE_MODE, private_file, private_folder, tighten

READ_CHUNK = 1024 * 1024
SAFE_KEY = re.compile(r"^[a-z]+/[0-9a-f]{32}(/[0-9]+)?$")
T = TypeVar("T")


@dataclass(frozen=True)
class Part:
    number: int
    etag: str
    size: int


class ObjectStore(Protocol):
    """Blocking work runs on the store's own thread pool, never on the event loop."""

    name: str

    async def prepare(self) -> None:
        """Creates the bucket or directory and switches on what the backend offers."""

    async def ping(self) -> None: ...
    async def put(self, key: str, data: bytes, media_type: str) -> None: ...
    async def start_multipart(self, key: str, media_type: str) -> str: ...
    async def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> Part: ...
    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[Part]) -> None: ...

    async def abort_multipart(self, key: str, upload_id: str) -> None: ...
    async def size(self, key: str) -> int | None: ...
    def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]: ...
    def reader(self, key: str, size: int) -> BinaryIO:
        """A blocking, seekable view of the object, for parsers run in a worker thread."""

    async def delete(self, key: str) -> None: ...
    def presigned_url(
        self, key: str, lifetime: timedelta, *, filename_header: str, media_type: str
    ) -> str | None:
        """A URL a browser can fetch without a token, or None if the store cannot sign one."""

    def close(self) -> None: ...


def check_key(key: str) -> str:
    if not SAFE_KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class ThreadedStore:
    """The thread pool every store runs its blocking calls on."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")

    async def _run(self, call: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, call, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class LocalStore(ThreadedStore):
    """Objects as files under one directory; a multipart upload is one staging file that parts
    are written into at their offsets, and completing it is a rename."""

    name = "local"

    def __init__(self, root: Path, part_size: int, threads: int = 8) -> None:
        super().__init__(threads)
        self.root = root
        self.part_size = part_size

    def _object(self, key: str) -> Path:
        return self.root / "objects" / check_key(key)

    def _staging(self, upload_id: str) -> Path:
        return self.root / "staging" / check_key(f"staging/{upload_id}").split("/", 1)[1]

    async def prepare(self) -> None:
        """The store's folders are its own, owner-only (0700), like every object in them
        (0600): they hold patient files. Folders of an older version are tightened."""
        for folder in (self.root, self.root / "objects", self.root / "staging"):
            await self._run(private_folder, folder)
            await self._run(tighten, folder)

    async def ping(self) -> None:
        if not await self._run(os.access, self.root / "objects", os.W_OK):
            raise OSError(f"{self.root} is not writable")

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        await self._run(_write_atomically, self._object(key), data)

    async def start_multipart(self, key: str, media_type: str) -> str:
        upload_id = os.urandom(16).hex()
        await self._run(private_file, self._staging(upload_id))
        return upload_id

    async def put_part(self, key: str, upload_id: str, number: int, data: bytes) -> Part:
        offset = (number - 1) * self.part_size
        await self._run(_write_at, self._staging(upload_id), offset, data)
        return Part(number=number, etag=f"{number}-{len(data)}", size=len(data))

    async def complete_multipart(self, key: str, upload_id: str, parts: Sequence[Part]) -> None:
        staging = self._staging(upload_id)
        expected = sum(part.size for part in parts)
        await self._run(os.truncate, staging, expected)
        target = self._object(key)
        await self._run(private_folder, target.parent)
        await self._run(os.replace, staging, target)

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        await self._run(lambda: self._staging(upload_id).unlink(missing_ok=True))

    async def size(self, key: str) -> int | None:
        try:
            return (await self._run(self._object(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        path = self._object(key)
        handle: BinaryIO = await self._run(path.open, "rb")
        try:
            await self._run(handle.seek, start)
            remaining = None if stop is None else stop - start
            while remaining is None or remaining > 0:
                size = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = await self._run(handle.read, size)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            await self._run(handle.close)

    def reader(self, key: str, size: int) -> BinaryIO:
        return self._object(key).open("rb")

    async def delete(self, key: str) -> None:
        await self._run(lambda: self._object(key).unlink(missing_ok=True))

    def presigned_url(
        self, key: str, lifetime: timedelta, *, filename_header: str, media_type: str
    ) -> str | None:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    private_folder(path.parent)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)  # one left by a crash keeps its mode when reopened
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _write_at(path: Path, offset: int, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY)
    try:
        written = 0
        view = memoryview(data)
        while written < len(data):
            written += os.pwrite(descriptor, view[written:], offset + written)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
