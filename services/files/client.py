"""Typed client other services use to reach the files service, with the caller's own token."""

import uuid
from typing import Any

import httpx

from services.common.errors import BadGateway, Conflict, Forbidden, NotFound
from services.files.schemas import FileOut


class FilesClient:
    """Calls `/api/files` through the gateway as the caller, so the files service's own access
    rules decide; its 404, 403 and 409 come back as the same problems."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def _call(self, method: str, path: str, bearer: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(
                method,
                f"/api/files{path}",
                headers={"Authorization": f"Bearer {bearer}"},
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
