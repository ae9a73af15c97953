"""A region's call centre and the polyclinics it serves, for the directory's patient and
serving tests: polyclinics A and B of region 42, a call centre of region 54 serving A (so the
link, not the region, decides), their registrars and coordinators, and A's and B's patients."""

from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import Actor, Stack
from tests.notify.conftest import audited

DIRECTORY = "/api/directory"


@dataclass
class CallCentre:
    stack: Stack
    a: dict[str, Any]  # polyclinic A, served by the call centre
    b: dict[str, Any]  # polyclinic B, not served
    centre: dict[str, Any]  # the call centre, of another region
    registrar: Actor  # the call centre's
    operator: Actor  # the call centre's coordinator
    registrar_a: Actor
    registrar_b: Actor
    coordinator_a: Actor
    medic_a: Actor
    patient_a: Actor
    patient_b: Actor

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    @property
    def admin(self) -> Actor:
        assert self.stack.admin is not None
        return self.stack.admin

    async def serve(self, provider: dict[str, Any], *served: dict[str, Any]) -> httpx.Response:
        return await self.client.put(
            f"{DIRECTORY}/organizations/{provider['id']}/served",
            json={"organization_ids": [organization["id"] for organization in served]},
            headers=self.admin.headers,
        )

    async def audited(self, action: str) -> list[tuple[str, str | None, str | None]]:
        return await audited(self.stack, action)


async def build(stack: Stack) -> CallCentre:
    a = await stack.organization(kind="polyclinic")
    b = await stack.organization(kind="polyclinic")
    centre = await stack.call_centre(a, region="54", timezone="Asia/Novosibirsk")
    return CallCentre(
        stack=stack,
        a=a,
        b=b,
        centre=centre,
        registrar=await stack.actor("registrar", centre),
        operator=await stack.actor("coordinator", centre),
        registrar_a=await stack.actor("registrar", a),
        registrar_b=await stack.actor("registrar", b),
        coordinator_a=await stack.actor("coordinator", a),
        medic_a=await stack.actor("district_medic", a),
        patient_a=await stack.actor("patient", a),
        patient_b=await stack.actor("patient", b),
    )
