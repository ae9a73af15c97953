"""Typed client other services use to read consultation cases and conclusions, as the caller."""

import uuid
from typing import Any

import httpx

from services.common.errors import BadGateway, Forbidden, NotFound
from services.consult.schemas import CaseOut, ConclusionOut


class ConsultClient:
    """Reads from the consult service with the caller's own token, so its access rules apply."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def _get(self, path: str, bearer: str) -> Any:
        try:
            response = await self._client.get(
                f"/api/consult{path}", headers={"Authorization": f"Bearer {bearer}"}
            )
        except httpx.HTTPError as exc:
            raise BadGateway("The consult service could not be reached.") from exc
        if response.status_code == 404:
            raise NotFound("No such case or conclusion is visible to you.")
        if response.status_code == 403:
            raise Forbidden("The consult service refused this request.")
        if response.status_code != 200:
            raise BadGateway(f"The consult service answered {response.status_code}.")
        return response.json()

    async def get_case(self, case_id: uuid.UUID, bearer: str) -> CaseOut:
        return CaseOut.model_validate(await self._get(f"/cases/{case_id}", bearer))

    async def get_conclusion(self, case_id: uuid.UUID, version: int, bearer: str) -> ConclusionOut:
        body = await self._get(f"/cases/{case_id}/conclusions/{version}", bearer)
        return ConclusionOut.model_validate(body)

    async def list_conclusions(self, case_id: uuid.UUID, bearer: str) -> list[ConclusionOut]:
        body = await self._get(f"/cases/{case_id}/conclusions", bearer)
        return [ConclusionOut.model_validate(item) for item in body]

    async def fhir(self, path: str, bearer: str) -> dict[str, Any]:
        """A FHIR view of consult (`ServiceRequest/<id>`, `ServiceRequest?patient=...`)."""
        resource: dict[str, Any] = await self._get(f"/fhir/{path}", bearer)
        return resource
