"""Hotline fixtures: Kuzbass (region 42, UTC+7) with an insurer's contact centre, a Novokuznetsk
polyclinic and a Kemerovo hospital on the territory map; Khabarovsk (region 27, UTC+10) with
its own; their operators (coordinators), patients, an MIS, and a clock the tests move by hand.

The consult service's clock is `app.state.clock`; the escalation job's periodic runs are
pushed an hour away, so only the tests run it, at the time they choose.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.common.db import Database
from services.consult.appeals.escalation import escalate_overdue
from services.consult.db import KERNEL_TABLES
from tests.conftest import Actor, Stack, running_stack
from tests.consult.conftest import _api_client
from tests.scheduling.conftest import Clock

CONSULT = "/api/consult"
KUZBASS_ZONE = "Asia/Novokuznetsk"
KHABAROVSK_ZONE = "Asia/Vladivostok"
# OKTMO codes of Kuzbass's two largest cities and of Khabarovsk.
NOVOKUZNETSK, KEMEROVO, KHABAROVSK = "32731000", "32701000", "08701000"
# Monday 20 October 2025, 10:00 in Novokuznetsk.
NOW = datetime(2025, 10, 20, 3, 0, tzinfo=UTC)


def local(moment: str, zone: str = KUZBASS_ZONE) -> datetime:
    """A wall-clock time in `zone` as an aware instant."""
    return datetime.fromisoformat(moment).replace(tzinfo=ZoneInfo(zone))


def at(value: str) -> datetime:
    """An instant from the API's JSON."""
    return datetime.fromisoformat(value)


@dataclass
class Hotline:
    stack: Stack
    clock: Clock
    insurer: dict[str, Any]
    polyclinic: dict[str, Any]
    hospital: dict[str, Any]
    khabarovsk: dict[str, Any]
    operator: Actor  # the insurer's contact centre
    colleague: Actor  # another operator of the same centre
    polyclinic_operator: Actor
    far_operator: Actor  # Khabarovsk's
    medic: Actor
    patient: Actor
    other_patient: Actor
    mis: Actor  # the polyclinic's MIS, consult:read and consult:write

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    @property
    def database(self) -> Database:
        database: Database = self.stack.apps["consult"].state.database
        return database

    def body(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "channel": "phone",
            "category": "paid_service_imposition",
            "territory": NOVOKUZNETSK,
            "contact": {"name": "Sidorova Maria Petrovna", "phone": "+7 913 123-45-67"},
            "text": "The polyclinic asks 3,500 roubles for a repeat histology the oncologist "
            "ordered; is it not free under the OMS policy?",
        }
        return body | overrides

    async def file(self, actor: Actor | None = None, **overrides: Any) -> httpx.Response:
        return await self.client.post(
            f"{CONSULT}/appeals",
            json=self.body(**overrides),
            headers=(actor or self.operator).headers,
        )

    async def filed(self, actor: Actor | None = None, **overrides: Any) -> dict[str, Any]:
        response = await self.file(actor, **overrides)
        assert response.status_code == 201, response.text
        appeal: dict[str, Any] = response.json()
        return appeal

    async def act(
        self, actor: Actor, appeal_id: str, action: str, body: Any = None
    ) -> httpx.Response:
        return await self.client.post(
            f"{CONSULT}/appeals/{appeal_id}/{action}", json=body, headers=actor.headers
        )

    async def done(self, actor: Actor, appeal_id: str, action: str, body: Any = None) -> Any:
        response = await self.act(actor, appeal_id, action, body)
        assert response.status_code == 200, response.text
        return response.json()

    async def get(self, actor: Actor, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(f"{CONSULT}{path}", params=params, headers=actor.headers)

    async def read(self, actor: Actor, path: str, **params: Any) -> Any:
        response = await self.get(actor, path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def map_territory(
        self, actor: Actor, region: str, code: str, organization: dict[str, Any], name: str
    ) -> httpx.Response:
        return await self.client.put(
            f"{CONSULT}/appeal-territories/{region}/{code}",
            json={"name": name, "organization_id": organization["id"]},
            headers=actor.headers,
        )

    async def escalate(self) -> int:
        """One run of the escalation job at the clock's time."""
        return await escalate_overdue(self.database, KERNEL_TABLES.audit, self.clock.now)


@pytest.fixture
async def stack(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    overrides = {"consult": {"appeal_escalation_interval_seconds": 3600.0}}
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        yield running


@pytest.fixture
async def hotline(stack: Stack) -> Hotline:
    clock = Clock(NOW)
    stack.apps["consult"].state.clock = clock
    insurer = await stack.organization(kind="insurer", timezone=KUZBASS_ZONE)
    polyclinic = await stack.organization(kind="polyclinic", timezone=KUZBASS_ZONE)
    hospital = await stack.organization(kind="district_hospital", timezone=KUZBASS_ZONE)
    khabarovsk = await stack.organization(kind="polyclinic", region="27", timezone=KHABAROVSK_ZONE)
    hotline = Hotline(
        stack=stack,
        clock=clock,
        insurer=insurer,
        polyclinic=polyclinic,
        hospital=hospital,
        khabarovsk=khabarovsk,
        operator=await stack.actor("coordinator", insurer),
        colleague=await stack.actor("coordinator", insurer),
        polyclinic_operator=await stack.actor("coordinator", polyclinic),
        far_operator=await stack.actor("coordinator", khabarovsk),
        medic=await stack.actor("district_medic", polyclinic),
        patient=await stack.actor("patient"),
        other_patient=await stack.actor("patient"),
        mis=await _api_client(stack, polyclinic, ["consult:read", "consult:write"]),
    )
    territories = [
        (hotline.operator, "42", NOVOKUZNETSK, polyclinic, "Novokuznetsk city district"),
        (hotline.operator, "42", KEMEROVO, hospital, "Kemerovo city district"),
        (hotline.far_operator, "27", KHABAROVSK, khabarovsk, "Khabarovsk city district"),
    ]
    for territory in territories:
        response = await hotline.map_territory(*territory)
        assert response.status_code == 200, response.text
    return hotline
