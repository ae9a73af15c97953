"""Home-visit fixtures: Kuzbass (region 42, UTC+7) with Tashtagol's district hospital, whose
polyclinic serves the Tashtagol district, a Sheregesh polyclinic serving one settlement of it
(open Monday to Friday only), a call centre of Khabarovsk serving Tashtagol, and a
Khabarovsk polyclinic (UTC+10); their staff, patients, and a clock the tests move by hand."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.common.db import Database
from tests.conftest import Actor, Stack
from tests.scheduling.conftest import Clock

CONSULT = "/api/consult"
KUZBASS, KHABAROVSK_ZONE = "Asia/Novokuznetsk", "Asia/Vladivostok"
TASHTAGOL, KHABAROVSK = "32628000", "08701000"  # OKTMO codes
# Monday 20 October 2025, 10:00 in Tashtagol.
NOW = datetime(2025, 10, 20, 3, 0, tzinfo=UTC)
WEEKDAYS = [{"weekday": day, "opens": "08:00", "closes": "20:00"} for day in range(5)]


def local(moment: str, zone: str = KUZBASS) -> datetime:
    """A wall-clock time in `zone` as an aware instant."""
    return datetime.fromisoformat(moment).replace(tzinfo=ZoneInfo(zone))


@dataclass
class Calls:
    stack: Stack
    clock: Clock
    tashtagol: dict[str, Any]
    sheregesh: dict[str, Any]
    khabarovsk: dict[str, Any]
    insurer: dict[str, Any]
    operator: Actor  # the insurer's hotline operator: a coordinator of region 42
    coordinator: Actor  # Tashtagol's own
    registrar: Actor  # Tashtagol's registry
    nurse: Actor  # Tashtagol's district medic who goes to homes
    sheregesh_medic: Actor
    centre_registrar: Actor  # Khabarovsk's call centre, serving Tashtagol
    far_operator: Actor  # Khabarovsk's coordinator
    patient: Actor  # registered at Tashtagol
    far_patient: Actor

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    @property
    def database(self) -> Database:
        database: Database = self.stack.apps["consult"].state.database
        return database

    def body(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "territory": TASHTAGOL,
            "settlement": "Таштагол",
            "street": "ул. Ленина",
            "address": "д. 12, кв. 4, 3rd floor, no lift",
            "caller_name": "Ковалёва Ирина Павловна",
            "patient_name": "Ковалёва Антонина Семёновна",
            "phone": "+7 913 555-01-23",
            "reason": "Blood draw at home: a disabled woman, bedridden after a stroke.",
        }
        return body | overrides

    async def post(
        self, actor: Actor, path: str, body: Any = None, **headers: str
    ) -> httpx.Response:
        return await self.client.post(
            f"{CONSULT}{path}", json=body, headers=actor.headers | headers
        )

    async def get(self, actor: Actor, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(f"{CONSULT}{path}", params=params, headers=actor.headers)

    async def call(self, actor: Actor | None = None, **overrides: Any) -> dict[str, Any]:
        response = await self.post(actor or self.operator, "/home-visits", self.body(**overrides))
        assert response.status_code == 201, response.text
        visit: dict[str, Any] = response.json()
        return visit

    async def step(self, actor: Actor, visit_id: str, action: str, body: Any) -> dict[str, Any]:
        response = await self.post(actor, f"/home-visits/{visit_id}/{action}", body)
        assert response.status_code == 200, response.text
        visit: dict[str, Any] = response.json()
        return visit

    async def line(self, actor: Actor, **body: Any) -> httpx.Response:
        return await self.post(actor, "/home-visit-catchment", {"region": "42"} | body)


@pytest.fixture
async def calls(stack: Stack) -> Calls:
    clock = Clock(NOW)
    stack.apps["consult"].state.clock = clock
    tashtagol = await stack.organization(kind="district_hospital", timezone=KUZBASS)
    sheregesh = await stack.organization(
        kind="polyclinic", timezone=KUZBASS, working_hours=WEEKDAYS
    )
    khabarovsk = await stack.organization(kind="polyclinic", region="27", timezone=KHABAROVSK_ZONE)
    insurer = await stack.organization(kind="insurer", timezone=KUZBASS)
    centre = await stack.call_centre(tashtagol, region="27", timezone=KHABAROVSK_ZONE)
    world = Calls(
        stack=stack,
        clock=clock,
        tashtagol=tashtagol,
        sheregesh=sheregesh,
        khabarovsk=khabarovsk,
        insurer=insurer,
        operator=await stack.actor("coordinator", insurer),
        coordinator=await stack.actor("coordinator", tashtagol),
        registrar=await stack.actor("registrar", tashtagol),
        nurse=await stack.actor("district_medic", tashtagol),
        sheregesh_medic=await stack.actor("district_medic", sheregesh),
        centre_registrar=await stack.actor("registrar", centre),
        far_operator=await stack.actor("coordinator", khabarovsk),
        patient=await stack.actor("patient", tashtagol),
        far_patient=await stack.actor("patient", khabarovsk),
    )
    lines = [
        (world.operator, {"territory": TASHTAGOL, "organization_id": tashtagol["id"]}),
        (
            world.operator,
            {"territory": TASHTAGOL, "settlement": "Шерегеш", "organization_id": sheregesh["id"]},
        ),
        (
            world.far_operator,
            {"region": "27", "territory": KHABAROVSK, "organization_id": khabarovsk["id"]},
        ),
    ]
    for actor, body in lines:
        response = await world.line(actor, **body)
        assert response.status_code == 201, response.text
    return world
