"""Typed client other services use to reach the files service, with the caller's own token."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx

from services.common.errors import BadGateway, Conflict, Forbidden, NotFound
from services.files.schemas import FileOut


class FilesClient:
    """Calls `/api/files` through the gateway as the caller, so the files service's own access
    rules decide; its 404, 403 and 409 come back as the same problems."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def _call(
        self,
        method: str,
        path: str,
        bearer: str,
        extra_headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        try:
            response = await self._client.request(
                method,
                f"/api/files{path}",
                headers={"Authorization": f"Bearer {bearer}"} | (extra_headers or {}),
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise BadGateway("The files service could not be reached.") from exc
        if response.status_code == 404:
            raise NotFound("No such file is visible to you.")
        if response.status_code == 403:
            raise Forbidden("The files service refused this request.")
        if response.status_code == 409:
            raise Conflict(response.json().get("detail", "The files service refused it."))
        if response.status_code not in (200, 201):
            raise BadGateway(f"The files service answered {response.status_code}.")
        return response.json()

    async def get_file(self, file_id: uuid.UUID, bearer: str) -> FileOut:
        return FileOut.model_validate(await self._call("GET", f"/files/{file_id}", bearer))

    async def attach(self, file_id: uuid.UUID, case_id: uuid.UUID, bearer: str) -> FileOut:
        """Marks the caller's own complete file as belonging to the case."""
        body = await self._call(
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
        body = await self._call(
            "POST",
            "/files",
            bearer,
            params=params,
            content=chunks(),
            extra_headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )
        return FileOut.model_validate(body)
