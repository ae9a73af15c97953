"""Typed client other services use to reach the files service, with the caller's own token."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx

from services.common.client import ServiceClient
from services.files.schemas import FileOut


class FilesClient(ServiceClient):
    """Calls `/api/files` through the gateway as the caller, so the files service's own access
    rules decide; its refusals come back as the same problems."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, "/api/files", "files service")

    async def get_file(self, file_id: uuid.UUID, bearer: str) -> FileOut:
        return FileOut.model_validate(await self.call("GET", f"/files/{file_id}", bearer))

    async def attach(self, file_id: uuid.UUID, case_id: uuid.UUID, bearer: str) -> FileOut:
        """Marks the caller's own complete file as belonging to the case."""
        body = await self.call(
            "POST", f"/files/{file_id}/attach", bearer, json={"case_id": str(case_id)}
        )
        return FileOut.model_validate(body)

    async def upload(
        self,
        path: Path,
        bearer: str,
        *,
        kind: str,
        name: str,
        case_id: uuid.UUID | None = None,
        chunk_size: int = 1024 * 1024,
    ) -> FileOut:
        """Streams the file at `path` as the raw body of `POST /api/files/files`; the files
        service sniffs its type and answers the stored file's record."""
        params = {"kind": kind, "name": name} | ({"case_id": str(case_id)} if case_id else {})

        async def chunks() -> AsyncIterator[bytes]:
            async with await anyio.open_file(path, "rb") as file:
                while chunk := await file.read(chunk_size):
                    yield chunk

        size = (await anyio.Path(path).stat()).st_size
        body = await self.call(
            "POST",
            "/files",
            bearer,
            params=params,
            content=chunks(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        return FileOut.model_validate(body)
