"""Typed client other services use to reach the files service, with the caller's own token."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx

from services.common.client import ServiceClient
from services.common.grants import GRANT_HEADER
from services.files.schemas import FileOut

# What the files service accepts from consult's grants: their audience, and the purposes it
# acts on (pinning a file to a case; reading the files a case lists).
GRANT_AUDIENCE = "files"
PIN_PURPOSE = "case.pin"
READ_PURPOSE = "case.read"


class FilesClient(ServiceClient):
    """Calls `/api/files` through the gateway as the caller, so the files service's own access
    rules decide; its refusals come back as the same problems."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, "/api/files", "files service")

    async def get_file(self, file_id: uuid.UUID, bearer: str) -> FileOut:
        return FileOut.model_validate(await self.call("GET", f"/files/{file_id}", bearer))

    async def pin(self, file_id: uuid.UUID, case_id: uuid.UUID, bearer: str, grant: str) -> FileOut:
        """Pins the caller's own file to the case, on the strength of consult's `case.pin`
        grant naming both; pinning it again to the same case changes nothing."""
        body = await self.call(
            "PUT",
            f"/files/{file_id}/case",
            bearer,
            json={"case_id": str(case_id)},
            headers={GRANT_HEADER: grant},
        )
        return FileOut.model_validate(body)

    async def upload(
        self,
        path: Path,
        bearer: str,
        *,
        kind: str,
        name: str,
        chunk_size: int = 1024 * 1024,
    ) -> FileOut:
        """Streams the file at `path` as the raw body of `POST /api/files/files`; the files
        service sniffs its type and answers the stored file's record."""

        async def chunks() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as file:
                while chunk := await file.read(chunk_size):
                    yield chunk

        size = (await anyio.Path(path).stat()).st_size
        body = await self.call(
            "POST",
            "/files",
            bearer,
            params={"kind": kind, "name": name},
            content=chunks(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        return FileOut.model_validate(body)
