"""The issue's bar: a 500 MB imaging study over a link that drops twice arrives byte for byte,
through the gateway, on both stores (`TELEMED_TEST_LARGE_MB` changes the size)."""

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tusclient.exceptions import TusUploadFailed
from tusclient.uploader.uploader import Uploader

from services.files.settings import MIB
from tests.conftest import running_stack
from tests.files import samples
from tests.files.conftest import FILES, FilesWorld, files_overrides, make_world
from tests.files.test_tus import drop_connection_after, gateway_url, offset_of, tus_client

SIZE = int(os.environ.get("TELEMED_TEST_LARGE_MB", "500")) * 1000 * 1000
CHUNK = 32 * MIB


def write_study(path: Path, size: int) -> str:
    """A DICOM file of `size` bytes (a real header, then pixel-like bytes); returns its sha256."""
    digest = hashlib.sha256()
    block = bytes(range(256)) * (4 * MIB // 256)
    with path.open("wb") as out:
        header = samples.dicom_bytes(pixel_bytes_len=2)
        out.write(header)
        digest.update(header)
        left = size - len(header)
        counter = 0
        while left:
            piece = (counter.to_bytes(8, "big") + block)[: min(left, len(block) + 8)]
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
            counter += 1
    return digest.hexdigest()


def read_slice(path: Path, start: int, length: int) -> bytes:
    with path.open("rb") as source:
        source.seek(start)
        return source.read(length)


@pytest.fixture
async def files(
    backend: str,
    clean_databases: dict[str, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> AsyncIterator[FilesWorld]:
    """The stack with the files service's default limits (2 GiB, 8 MiB parts)."""
    overrides = files_overrides(backend, request) | {"part_size": 8 * MIB}
    async with running_stack(clean_databases, tmp_path, {"files": overrides}) as stack:
        yield await make_world(stack, backend)


async def test_a_500_mb_study_survives_two_dropped_links(files: FilesWorld, tmp_path: Path) -> None:
    study = tmp_path / "study.dcm"
    expected = await asyncio.to_thread(write_study, study, SIZE)
    async with gateway_url(files) as url:

        def first_chunk() -> Uploader:
            uploader = tus_client(url, files.medic).uploader(
                file_path=str(study), chunk_size=CHUNK, metadata={"filename": "CT.dcm"}
            )
            uploader.upload_chunk()  # type: ignore[no-untyped-call]
            return uploader

        uploader = await asyncio.to_thread(first_chunk)
        assert uploader.url is not None
        location = uploader.url.removeprefix(url)
        for fraction in (0.3, 0.7):  # the link goes down twice, mid-request
            before = await offset_of(files, location)
            goal = int(SIZE * fraction)
            data = await asyncio.to_thread(read_slice, study, before, goal - before)
            await drop_connection_after(url, location, before, data, files.medic)
            async with asyncio.timeout(30):
                while await offset_of(files, location) == before:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)

        def resume() -> None:
            # The server may still be finishing the dropped PATCH (it keeps what arrived, in
            # checkpoints) and holds the upload's lease meanwhile: a 409, which clients such as
            # tus-js-client retry. Retry likewise, with a deadline.
            deadline = time.monotonic() + 60
            while True:
                try:
                    tus_client(url, files.medic).uploader(
                        file_path=str(study), url=uploader.url, chunk_size=CHUNK
                    ).upload()
                    return
                except TusUploadFailed as error:
                    if error.status_code != 409 or time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)

        await asyncio.to_thread(resume)
    state = await files.client.get(location, headers=files.medic.headers)
    file_id = state.json()["file_id"]
    record = (
        await files.client.get(f"{FILES}/files/{file_id}", headers=files.medic.headers)
    ).json()
    assert (record["size"], record["sha256"]) == (SIZE, expected)
    downloaded = hashlib.sha256()
    async with files.client.stream(
        "GET", f"{FILES}/files/{file_id}/content", headers=files.cardiologist.headers
    ) as denied:
        assert denied.status_code == 404
    async with files.client.stream(
        "GET", f"{FILES}/files/{file_id}/content", headers=files.colleague.headers
    ) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            downloaded.update(chunk)
    assert downloaded.hexdigest() == expected
