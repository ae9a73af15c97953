"""Typed client other services use to read consultation cases and conclusions, as the caller."""

import uuid
from typing import Any

import httpx

from services.common.client import ServiceClient
from services.consult.cases.schemas import CaseOut, ConclusionOut


class ConsultClient(ServiceClient):
    """Reads from the consult service with the caller's own token, so its access rules apply."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__(client, "/api/consult", "consult service")

    async def get_case(self, case_id: uuid.UUID, bearer: str) -> CaseOut:
        return CaseOut.model_validate(await self.call("GET", f"/cases/{case_id}", bearer))

    async def get_conclusion(self, case_id: uuid.UUID, version: int, bearer: str) -> ConclusionOut:
        body = await self.call("GET", f"/cases/{case_id}/conclusions/{version}", bearer)
        return ConclusionOut.model_validate(body)

    async def list_conclusions(self, case_id: uuid.UUID, bearer: str) -> list[ConclusionOut]:
        body = await self.call("GET", f"/cases/{case_id}/conclusions", bearer)
        return [ConclusionOut.model_validate(item) for item in body]

    async def fhir(self, path: str, bearer: str) -> dict[str, Any]:
        """A FHIR view of consult (`ServiceRequest/<id>`, `ServiceRequest?patient=...`)."""
        resource: dict[str, Any] = await self.call("GET", f"/fhir/{path}", bearer)
        return resource
