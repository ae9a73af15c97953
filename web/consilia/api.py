"""Consult's consilium routes and the directory's list of colleagues, as the consilium screens
call them through the gateway with the person's own token."""

import uuid
from datetime import datetime
from typing import Any

from fastapi import Request

from web.cases.api import CONSULT, DIRECTORY, CasesApi, Refusal
from web.consilia.schemas import Colleague, Consilium, Invitation, Opinion, Protocol


class ConsiliaApi(CasesApi):
    """A refusal a form can show comes back as a `Refusal` (`CasesApi._submit`)."""

    @staticmethod
    def of(request: Request) -> "ConsiliaApi":
        # A thin wrapper of the app's one pooled client to the gateway.
        return ConsiliaApi(request.app.state.gateway_client)

    async def consilium(self, bearer: str, case_id: uuid.UUID) -> Consilium | None:
        """The case's consilium, or None when none is convened (the case itself the caller
        has read already: a 404 here is the consilium's absence)."""
        response = await self.request(
            "GET", f"{CONSULT}/cases/{case_id}/consilium", bearer, ok=(200, 404)
        )
        if response.status_code == 404:
            return None
        return self._parse(response, Consilium)

    async def convene(
        self, bearer: str, case_id: uuid.UUID, body: dict[str, Any], idempotency_key: str | None
    ) -> Consilium | Refusal:
        return await self._submit(
            "POST", f"{CONSULT}/cases/{case_id}/consilium", bearer, Consilium,
            idempotency_key=idempotency_key, json=body,
        )  # fmt: skip

    async def invite(
        self, bearer: str, case_id: uuid.UUID, body: dict[str, Any], idempotency_key: str | None
    ) -> Consilium | Refusal:
        return await self._submit(
            "POST", f"{CONSULT}/cases/{case_id}/consilium/invitations", bearer, Consilium,
            idempotency_key=idempotency_key, json=body,
        )  # fmt: skip

    async def answer(
        self,
        bearer: str,
        case_id: uuid.UUID,
        invitation_id: uuid.UUID,
        action: str,
        body: dict[str, Any] | None = None,
    ) -> Invitation | Refusal:
        """`accept` or `decline` (with `{"reason": ...}`) an invitation."""
        path = f"{CONSULT}/cases/{case_id}/consilium/invitations/{invitation_id}/{action}"
        return await self._submit("POST", path, bearer, Invitation, json=body)

    async def give_opinion(
        self,
        bearer: str,
        case_id: uuid.UUID,
        invitation_id: uuid.UUID,
        body: dict[str, Any],
        idempotency_key: str | None,
    ) -> Opinion | Refusal:
        path = f"{CONSULT}/cases/{case_id}/consilium/invitations/{invitation_id}/opinion"
        return await self._submit(
            "POST", path, bearer, Opinion, idempotency_key=idempotency_key, json=body
        )

    async def issue_protocol(
        self, bearer: str, case_id: uuid.UUID, body: dict[str, Any], idempotency_key: str | None
    ) -> Protocol | Refusal:
        return await self._submit(
            "POST", f"{CONSULT}/cases/{case_id}/consilium/protocol", bearer, Protocol,
            idempotency_key=idempotency_key, json=body,
        )  # fmt: skip

    async def request_room(
        self, bearer: str, case_id: uuid.UUID, starts_at: datetime
    ) -> Consilium | Refusal:
        return await self._submit(
            "POST", f"{CONSULT}/cases/{case_id}/consilium/room", bearer, Consilium,
            json={"starts_at": starts_at.isoformat()},
        )  # fmt: skip

    async def invitations(self, bearer: str) -> list[Invitation]:
        """The reader's invitations still to answer (a specialist's; others have none)."""
        response = await self.request("GET", f"{CONSULT}/consilium-invitations", bearer)
        return self._parse_list(response, Invitation)

    async def colleagues(self, bearer: str) -> list[Colleague] | None:
        """The specialists of the reader's region, or None where the directory does not list
        them to the reader's role."""
        response = await self.request(
            "GET", f"{DIRECTORY}/users", bearer, ok=(200, 403), params={"role": "specialist"}
        )
        if response.status_code == 403:
            return None
        return self._parse_list(response, Colleague)
