"""Consult-local fixtures: a region with a district hospital, a regional centre and its people."""

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from telemed.samples import sample_case
from tests.conftest import Actor, Stack

CONSULT = "/api/consult"


@dataclass
class World:
    stack: Stack
    hospital: dict[str, Any]
    centre: dict[str, Any]
    medic: Actor
    other_medic: Actor
    cardiologist: Actor
    colleague: Actor
    neurologist: Actor
    coordinator: Actor
    far_coordinator: Actor
    patient: Actor
    clients: dict[str, Actor]

    def case_body(self, **overrides: Any) -> dict[str, Any]:
        return sample_case(**({"target_organization_id": self.centre["id"]} | overrides))

    async def create(self, actor: Actor | None = None, **overrides: Any) -> dict[str, Any]:
        response = await self.stack.client.post(
            f"{CONSULT}/cases",
            json=self.case_body(**overrides),
            headers=(actor or self.medic).headers,
        )
        assert response.status_code == 201, response.text
        case: dict[str, Any] = response.json()
        return case

    async def upload(
        self, content: bytes, name: str, kind: str, actor: Actor | None = None
    ) -> dict[str, Any]:
        """A file uploaded to the files service, ready to attach."""
        response = await self.stack.client.post(
            "/api/files/files",
            content=content,
            params={"name": name, "kind": kind},
            headers=(actor or self.medic).headers,
        )
        assert response.status_code == 201, response.text
        uploaded: dict[str, Any] = response.json()
        return uploaded

    async def grant(self, actor: Actor, case_id: str) -> str:
        """Consult's grant for `actor` to read the case's attachments in the files service."""
        response = await self.stack.client.post(
            f"{CONSULT}/cases/{case_id}/attachments/grant", headers=actor.headers
        )
        assert response.status_code == 200, response.text
        grant: str = response.json()["grant"]
        return grant

    async def act(self, actor: Actor, case_id: str, action: str, body: Any = None) -> Any:
        return await self.stack.client.post(
            f"{CONSULT}/cases/{case_id}/{action}", json=body, headers=actor.headers
        )

    async def in_progress(self) -> dict[str, Any]:
        case = await self.create(submit=True)
        for action in ("accept", "start"):
            response = await self.act(self.cardiologist, case["id"], action)
            assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


async def _api_client(stack: Stack, organization: dict[str, Any], scopes: list[str]) -> Actor:
    assert stack.admin is not None
    created = await stack.client.post(
        "/api/directory/api-clients",
        json={"name": f"MIS {'+'.join(scopes) or 'none'}", "organization_id": organization["id"],
              "scopes": scopes},
        headers=stack.admin.headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    client_id, secret = created.json()["client_id"], created.json()["client_secret"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status_code == 200, token.text
    return Actor(
        id=uuid.UUID(created.json()["id"]),
        username=client_id,
        role="api_client",
        organization_id=uuid.UUID(organization["id"]),
        specialty=None,
        access_token=token.json()["access_token"],
    )


@pytest.fixture
async def world(stack: Stack) -> World:
    hospital = await stack.organization(kind="district_hospital", region="42")
    other_hospital = await stack.organization(kind="district_hospital", region="42")
    centre = await stack.organization(kind="regional_centre", region="42")
    far_centre = await stack.organization(kind="regional_centre", region="54")
    return World(
        stack=stack,
        hospital=hospital,
        centre=centre,
        medic=await stack.actor("district_medic", hospital),
        other_medic=await stack.actor("district_medic", other_hospital),
        cardiologist=await stack.actor("specialist", centre, "cardiology"),
        colleague=await stack.actor("specialist", centre, "cardiology"),
        neurologist=await stack.actor("specialist", centre, "neurology"),
        coordinator=await stack.actor("coordinator", centre),
        far_coordinator=await stack.actor("coordinator", far_centre),
        patient=await stack.actor("patient"),
        clients={
            "rw": await _api_client(stack, hospital, ["consult:read", "consult:write"]),
            "read": await _api_client(stack, hospital, ["consult:read"]),
            "write": await _api_client(stack, hospital, ["consult:write"]),
        },
    )
