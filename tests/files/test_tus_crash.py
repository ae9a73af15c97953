"""tus across a crash: a files process killed with SIGKILL in the middle of a PATCH and started
again on the same store and database reports an offset that counts only stored bytes, takes the
resume at once (the dead process's lease does not refuse it), and the file checks out."""

import asyncio
import base64
import hashlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.common.db import utcnow
from services.files.instance import take_slot
from services.files.models import Upload
from services.files.settings import MIB
from telemed.launcher import uvicorn_command
from telemed.registry import spec
from tests.files.conftest import FilesWorld, sha256
from tests.files.test_tus import TUS, UPLOADS, big_dicom, file_of, gateway_url
from tests.servers import free_port

OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}
BURST = 7 * MIB  # past the first 5 MiB part: the crash leaves a part and a tail


class FilesProcess:
    """The files service in a uvicorn process of its own, on the in-process stack's database,
    store and `var/`, checking tokens with the stack's gateway."""

    def __init__(self, files: FilesWorld, gateway: str, log: Path) -> None:
        settings = files.settings
        values = {
            "DATABASE_URL": settings.database_url,
            "VAR_DIR": str(settings.var_dir),
            "GATEWAY_URL": gateway,
            "JSON_LOGS": "false",
            "STORAGE": settings.storage.value,
            "PART_SIZE": str(settings.part_size),
            "MAX_FILE_SIZE": str(settings.max_file_size),
            "UPLOAD_CHECKPOINT": "PT0.5S",
            # As long as the old default: only the freeing of a dead holder's lease lets the
            # resume through within the test.
            "UPLOAD_LEASE": "PT60S",
        }
        if files.backend == "s3":
            values |= {
                "S3_ENDPOINT": settings.s3_endpoint,
                "S3_BUCKET": settings.s3_bucket,
                "S3_ACCESS_KEY": settings.s3_access_key,
                "S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
            }
        self.env = {**os.environ} | {f"TELEMED_FILES_{k}": v for k, v in values.items()}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *uvicorn_command(spec("files"), "127.0.0.1", self.port),
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                assert self.process.returncode is None, self.log.read_text()[-3000:]
                assert time.monotonic() < deadline, "the files process did not start"
                try:
                    if (await client.get(self.url + "/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            async with asyncio.timeout(15):
                await self.process.wait()


async def upload_row(files: FilesWorld, upload_id: uuid.UUID) -> Upload:
    async with files.stack.apps["files"].state.database.sessionmaker() as session:
        upload: Upload | None = await session.get(Upload, upload_id)
    assert upload is not None
    return upload


async def offset_of(client: httpx.AsyncClient, location: str) -> int:
    response = await client.head(location)
    assert response.status_code == 200, response.text
    return int(response.headers["Upload-Offset"])


async def assert_offset_counts_stored_bytes(files: FilesWorld, upload: Upload, data: bytes) -> None:
    """The row's offset is its parts, then its tail, and the store holds exactly those bytes."""
    parts_end = sum(part["size"] for part in upload.parts)
    assert upload.parts, "no part was recorded before the crash"
    assert upload.offset == parts_end + upload.tail_size
    store: Any = files.stack.apps["files"].state.store
    assert upload.tail_key is not None
    tail = b"".join([chunk async for chunk in store.read(upload.tail_key)])
    assert tail == data[parts_end : upload.offset]
    assert upload.multipart_id is not None
    if files.backend == "local":
        staging = Path(files.settings.resolved_local_root()) / "staging" / upload.multipart_id
        assert staging.read_bytes()[:parts_end] == data[:parts_end]
        return
    listed = await asyncio.to_thread(
        store.client._list_parts,
        bucket_name=files.settings.s3_bucket,
        object_name=upload.object_key,
        upload_id=upload.multipart_id,
    )
    etags = {part.part_number: (part.etag, part.size) for part in listed.parts}
    start = 0
    for part in upload.parts:
        piece = data[start : start + part["size"]]
        assert etags[part["number"]] == (
            hashlib.md5(piece).hexdigest(),
            len(piece),
        )  # S3's ETag of a part
        start += part["size"]


async def test_a_patch_cut_by_a_crash_keeps_what_was_stored_and_resumes_at_once(
    files: FilesWorld, tmp_path: Path
) -> None:
    data = big_dicom(12 * MIB + 777)
    metadata = {"filename": "ct.dcm", "kind": "imaging", "sha256": sha256(data)}
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())
    sent = 0

    async def burst_then_trickle() -> AsyncIterator[bytes]:
        """A fast start, then a slow link: the bytes still flow when the server dies."""
        nonlocal sent
        while sent < len(data):
            piece = data[sent : sent + (256 * 1024 if sent < BURST else 16 * 1024)]
            sent += len(piece)
            yield piece
            if sent >= BURST:
                await asyncio.sleep(0.05)

    async with gateway_url(files) as gateway:
        server = FilesProcess(files, gateway, tmp_path / "files-process.log")
        await server.start()
        headers = files.medic.headers | TUS
        try:
            async with httpx.AsyncClient(
                base_url=server.url, headers=headers, timeout=30
            ) as client:
                created = await client.post(
                    UPLOADS, headers={"Upload-Length": str(len(data)), "Upload-Metadata": encoded}
                )
                assert created.status_code == 201, created.text
                location = created.headers["Location"]
                upload_id = uuid.UUID(location.rsplit("/", 1)[1])
                patching = asyncio.create_task(
                    client.patch(
                        location,
                        content=burst_then_trickle(),
                        headers=OFFSET_TYPE | {"Upload-Offset": "0"},
                    )
                )
                async with asyncio.timeout(60):  # the server records progress as bytes arrive
                    while await offset_of(client, location) < BURST:  # noqa: ASYNC110
                        await asyncio.sleep(0.1)
                await server.kill()
                with pytest.raises(httpx.TransportError):
                    await patching
                held = await upload_row(files, upload_id)  # the dead process's lease
                assert held.lease_token is not None
                assert held.lease_expires_at is not None

                await server.start()
                offset = await offset_of(client, location)
                assert BURST <= offset <= sent < len(data)
                await assert_offset_counts_stored_bytes(
                    files, await upload_row(files, upload_id), data
                )
                rest = data[offset:]
                checksum = base64.b64encode(hashlib.sha1(rest).digest()).decode()
                resumed = await client.patch(
                    location,
                    content=rest,
                    headers=OFFSET_TYPE
                    | {"Upload-Offset": str(offset), "Upload-Checksum": f"sha1 {checksum}"},
                )
                assert resumed.status_code == 204, resumed.text
                assert resumed.headers["Upload-Offset"] == str(len(data))
                assert utcnow() < held.lease_expires_at  # taken back, not waited out
        finally:
            await server.stop()
    stored = await file_of(files, location)
    assert stored["sha256"] == sha256(data)
    downloaded = await files.content(stored["id"])
    assert hashlib.sha256(downloaded.content).hexdigest() == sha256(data)


def test_a_slot_is_the_first_one_no_living_process_holds_and_keeps_its_key(
    tmp_path: Path,
) -> None:
    first, second = take_slot(tmp_path), take_slot(tmp_path)
    assert (first.path.name, second.path.name) == ("0.slot", "1.slot")
    assert first.key != second.key
    key = first.key
    first.release()
    again = take_slot(tmp_path)
    assert (again.path.name, again.key) == ("0.slot", key)
    assert again.path.stat().st_mode & 0o777 == 0o600
    again.release()
    second.release()
