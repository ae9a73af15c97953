"""Resumable uploads with a stock tus client through the real gateway, on both stores."""

import asyncio
import base64
import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tusclient import client as tus

from services.common.db import utcnow
from services.files.maintenance import sweep
from services.files.models import Upload
from services.files.settings import MIB
from tests.conftest import Actor
from tests.files import samples
from tests.files.conftest import FILES, FilesWorld, sha256
from tests.servers import serve

UPLOADS = f"{FILES}/uploads"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}


@asynccontextmanager
async def gateway_url(files: FilesWorld) -> AsyncIterator[str]:
    """The in-process gateway on a real socket, for clients that bring their own HTTP stack."""
    async with serve(files.stack.apps["gateway"], lifespan="off") as url:
        yield url


def big_dicom(size: int) -> bytes:
    header = samples.dicom_bytes(pixel_bytes_len=2)
    return header + bytes(range(256)) * ((size - len(header)) // 256)


def tus_client(url: str, actor: Actor) -> tus.TusClient:
    return tus.TusClient(f"{url}{UPLOADS}", headers=actor.headers)


async def create(files: FilesWorld, length: int, actor: Actor | None = None, **meta: str) -> str:
    metadata = {"filename": "ct.dcm", "kind": "imaging"} | meta
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())
    response = await files.client.post(
        UPLOADS,
        headers=(actor or files.medic).headers
        | TUS
        | {"Upload-Length": str(length), "Upload-Metadata": encoded},
    )
    assert response.status_code == 201, response.text
    assert response.headers["Tus-Resumable"] == "1.0.0"
    location: str = response.headers["Location"]
    return location


async def patch(
    files: FilesWorld, location: str, offset: int, content: Any, **headers: str
) -> httpx.Response:
    return await files.client.patch(
        location,
        content=content,
        headers=files.medic.headers | TUS | OFFSET_TYPE | {"Upload-Offset": str(offset)} | headers,
    )


async def offset_of(files: FilesWorld, location: str) -> int:
    response = await files.client.head(location, headers=files.medic.headers | TUS)
    assert response.status_code == 200
    return int(response.headers["Upload-Offset"])


async def file_of(files: FilesWorld, location: str) -> dict[str, Any]:
    state = await files.client.get(location, headers=files.medic.headers)
    assert state.json()["status"] == "completed", state.text
    response = await files.client.get(
        f"{FILES}/files/{state.json()['file_id']}", headers=files.medic.headers
    )
    body: dict[str, Any] = response.json()
    return body


async def drop_connection_after(
    url: str, location: str, offset: int, data: bytes, actor: Actor
) -> None:
    """A PATCH whose connection breaks after `data` is sent, like a rural link going down."""

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(data), MIB):
            yield data[start : start + MIB]
        await asyncio.sleep(0.2)  # let the bytes cross the gateway before the link drops
        raise ConnectionResetError("link lost")

    headers = actor.headers | TUS | OFFSET_TYPE | {"Upload-Offset": str(offset)}
    async with httpx.AsyncClient(base_url=url) as raw:
        with pytest.raises((httpx.HTTPError, ConnectionResetError)):
            await raw.patch(location, content=body(), headers=headers)


async def test_tus_client_resumes_after_the_link_drops_and_bytes_arrive_intact(
    files: FilesWorld,
) -> None:
    data = big_dicom(23 * MIB + 12345)
    async with gateway_url(files) as url:
        uploader = tus_client(url, files.medic).uploader(
            file_stream=io.BytesIO(data),
            chunk_size=4 * MIB,
            metadata={"filename": "CT chest.dcm", "kind": "imaging"},
            upload_checksum=True,
        )
        await asyncio.to_thread(uploader.upload_chunk)
        assert uploader.url is not None
        location = uploader.url.removeprefix(url)
        assert await offset_of(files, location) == 4 * MIB

        # Two drops mid-PATCH, no checksum: what arrived before each drop is kept.
        for sent in (7 * MIB, 3 * MIB + 7):
            before = await offset_of(files, location)
            await drop_connection_after(
                url, location, before, data[before : before + sent], files.medic
            )
            async with asyncio.timeout(10):
                # The server notices the drop on its own time; poll what it recorded.
                while (after := await offset_of(files, location)) == before:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            assert before < after <= before + sent

        def resume() -> None:  # the client asks the offset (HEAD) as it is made: off the loop
            tus_client(url, files.medic).uploader(
                file_stream=io.BytesIO(data),
                url=uploader.url,
                chunk_size=4 * MIB,
                upload_checksum=True,
            ).upload()

        await asyncio.to_thread(resume)
    stored = await file_of(files, location)
    assert stored["sha256"] == sha256(data)
    assert stored["media_type"] == "application/dicom"
    assert stored["dicom"]["modality"]
    downloaded = await files.content(stored["id"])
    assert hashlib.sha256(downloaded.content).hexdigest() == sha256(data)
    # Nothing but the finished object is left: no parts, no tails, no staging file.
    assert len(files.stored_objects()) == 1


async def test_a_second_patch_while_one_streams_gets_409(files: FilesWorld) -> None:
    location = await create(files, 6 * MIB)
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b"\x00" * 128 + b"DICM"
        await release.wait()
        yield b"\x00" * 1000

    first = asyncio.create_task(patch(files, location, 0, slow_body()))
    database = files.stack.apps["files"].state.database
    upload_id = uuid.UUID(location.rsplit("/", 1)[1])
    async with asyncio.timeout(10):
        while not await _leased(database, upload_id):  # noqa: ASYNC110 - state in the DB
            await asyncio.sleep(0.02)
    second = await patch(files, location, 0, b"x" * 10)
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert second.headers["Tus-Resumable"] == "1.0.0"
    release.set()
    assert (await first).status_code == 204
    assert await offset_of(files, location) == 1132


async def _leased(database: Any, upload_id: uuid.UUID) -> bool:
    async with database.sessionmaker() as session:
        upload = await session.get(Upload, upload_id)
        return upload is not None and upload.lease_token is not None


async def test_a_checksum_mismatch_is_460_and_keeps_nothing_of_that_patch(
    files: FilesWorld,
) -> None:
    data = samples.pdf_bytes()
    location = await create(files, len(data) * 2)
    wrong = base64.b64encode(hashlib.sha1(b"something else").digest()).decode()
    response = await patch(files, location, 0, data, **{"Upload-Checksum": f"sha1 {wrong}"})
    assert response.status_code == 460
    assert response.json()["title"] == "Checksum Mismatch"
    assert await offset_of(files, location) == 0
    right = base64.b64encode(hashlib.sha1(data).digest()).decode()
    response = await patch(files, location, 0, data, **{"Upload-Checksum": f"sha1 {right}"})
    assert response.status_code == 204
    assert response.headers["Upload-Offset"] == str(len(data))


async def test_a_wrong_offset_is_409_with_the_real_one(files: FilesWorld) -> None:
    location = await create(files, 100_000)
    response = await patch(files, location, 10, b"x")
    assert response.status_code == 409
    assert response.headers["Upload-Offset"] == "0"


async def test_creation_with_upload_and_a_whole_file_checksum(files: FilesWorld) -> None:
    data = samples.png_bytes()
    meta = {"filename": "rash.png", "kind": "photo", "sha256": sha256(data)}
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    response = await files.client.post(
        UPLOADS,
        content=data,
        headers=files.medic.headers | TUS | OFFSET_TYPE
        | {"Upload-Length": str(len(data)), "Upload-Metadata": encoded},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.headers["Upload-Offset"] == str(len(data))
    stored = await file_of(files, response.headers["Location"])
    assert (stored["media_type"], stored["display_name"]) == ("image/png", "rash.png")


async def test_a_whole_file_checksum_mismatch_rejects_the_upload(files: FilesWorld) -> None:
    data = samples.png_bytes()
    location = await create(files, len(data), sha256="0" * 64)
    response = await patch(files, location, 0, data)
    assert response.status_code == 460
    assert (await files.client.head(location, headers=files.medic.headers | TUS)).status_code == 410
    assert files.stored_objects() == []


async def test_a_disguised_executable_is_refused_on_its_first_bytes(files: FilesWorld) -> None:
    exe = samples.windows_executable() + b"\x00" * 20_000
    location = await create(files, len(exe), filename="results.pdf")
    response = await patch(files, location, 0, exe)
    assert response.status_code == 415
    assert files.stored_objects() == []


async def test_more_bytes_than_the_length_is_413(files: FilesWorld) -> None:
    data = samples.pdf_bytes()
    location = await create(files, len(data) - 1)
    assert (await patch(files, location, 0, data)).status_code == 413


async def test_termination_frees_everything(files: FilesWorld) -> None:
    location = await create(files, 20 * MIB)
    data = big_dicom(7 * MIB)
    assert (await patch(files, location, 0, data)).status_code == 204
    assert files.stored_objects() != []
    response = await files.client.delete(location, headers=files.medic.headers | TUS)
    assert response.status_code == 204
    assert files.stored_objects() == []
    assert (await files.client.head(location, headers=files.medic.headers | TUS)).status_code == 404


async def test_abandoned_uploads_expire_and_their_parts_are_cleaned_up(files: FilesWorld) -> None:
    location = await create(files, 20 * MIB)
    assert (await patch(files, location, 0, big_dicom(6 * MIB))).status_code == 204
    app = files.stack.apps["files"]
    later = utcnow() + app.state.settings.upload_expiry + timedelta(minutes=1)
    swept = await sweep(app.state.database, app.state.store, later)
    assert swept.expired_uploads == 1
    assert files.stored_objects() == []
    response = await patch(files, location, 6 * MIB, b"more")
    assert response.status_code == 410


async def test_uploads_belong_to_their_uploader(files: FilesWorld) -> None:
    location = await create(files, 1000)
    for actor in (files.colleague, files.stranger):
        response = await files.client.head(location, headers=actor.headers | TUS)
        assert response.status_code == 404


async def test_protocol_discovery_and_version_checks(files: FilesWorld) -> None:
    options = await files.client.options(UPLOADS)
    assert options.status_code == 204
    assert options.headers["Tus-Version"] == "1.0.0"
    assert set(options.headers["Tus-Extension"].split(",")) >= {
        "creation", "creation-with-upload", "termination", "checksum", "expiration",
    }  # fmt: skip
    assert int(options.headers["Tus-Max-Size"]) == files.settings.max_file_size
    response = await files.client.post(
        UPLOADS, headers=files.medic.headers | {"Tus-Resumable": "0.2.2", "Upload-Length": "5"}
    )
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"
    too_big = str(files.settings.max_file_size + 1)
    response = await files.client.post(
        UPLOADS, headers=files.medic.headers | TUS | {"Upload-Length": too_big}
    )
    assert response.status_code == 413
