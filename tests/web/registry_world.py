"""The registry's and the schedule's tests share: a regional centre whose cardiologist keeps a
schedule, a district hospital served by a call centre of another zone, the call centre's
registrar, a hospital it does not serve, and scheduling's clock held where a test needs it."""

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.conftest import Actor, Stack
from tests.web.conftest import Console

SCHEDULING = "/api/scheduling"
CENTRE_ZONE, CALL_CENTRE_ZONE = "Asia/Novokuznetsk", "Asia/Omsk"
ALL_WEEK = [{"weekday": day, "start": "08:00", "end": "20:00"} for day in range(7)]
SLOT = re.compile(r'name="slot" value="([^"]+)"')
POLICY_ELSEWHERE = "4250000000000042"


class Clock:
    """Scheduling's time: the real one, unless a test holds it at a moment."""

    held: datetime | None = None

    def __call__(self) -> datetime:
        return self.held or datetime.now(UTC)


@dataclass
class Registry:
    stack: Stack
    console: Console
    clock: Clock
    hospital: dict[str, Any]
    outside: dict[str, Any]
    cardiologist: Actor
    registrar: Actor
    outside_coordinator: Actor

    @classmethod
    async def open(cls, stack: Stack, console: Console) -> "Registry":
        clock = Clock()
        stack.apps["scheduling"].state.clock = clock
        centre = await stack.organization(kind="regional_centre", timezone=CENTRE_ZONE)
        hospital = await stack.organization(kind="district_hospital", timezone=CENTRE_ZONE)
        outside = await stack.organization(kind="district_hospital", timezone=CENTRE_ZONE)
        call_centre = await stack.call_centre(hospital, region="42", timezone=CALL_CENTRE_ZONE)
        return cls(
            stack=stack,
            console=console,
            clock=clock,
            hospital=hospital,
            outside=outside,
            cardiologist=await stack.actor("specialist", centre, "cardiology"),
            registrar=await stack.actor("registrar", call_centre),
            outside_coordinator=await stack.actor("coordinator", outside),
        )

    async def schedule(self) -> dict[str, Any]:
        """The cardiologist's schedule: every day 08:00-20:00, 5-minute steps, no notice."""
        body = {"weekly_hours": ALL_WEEK, "slot_step_minutes": 5, "min_notice_minutes": 0}
        response = await self.stack.client.post(
            f"{SCHEDULING}/schedules", json=body, headers=self.cardiologist.headers
        )
        assert response.status_code == 201, response.text
        schedule: dict[str, Any] = response.json()
        return schedule

    async def patient_elsewhere(self) -> dict[str, Any]:
        """A patient of the hospital the call centre does not serve, with `POLICY_ELSEWHERE`."""
        body = {"full_name": "Outside Patient", "birth_date": "1970-01-01", "sex": "male",
                "policy_number": POLICY_ELSEWHERE}  # fmt: skip
        response = await self.stack.client.post(
            "/api/directory/patients", json=body, headers=self.outside_coordinator.headers
        )
        assert response.status_code == 201, response.text
        patient: dict[str, Any] = response.json()
        return patient

    @contextlib.asynccontextmanager
    async def browser(self, actor: Actor) -> AsyncIterator[httpx.AsyncClient]:
        async with self.console.browser("en") as browser:
            signed = await self.console.sign_in(browser, actor.username)
            assert signed.status_code == 303, signed.text
            page = await self.console.page(browser, "/profile")
            await self.console.post(browser, page, "/language", language="en")
            yield browser


def slots_of(page: str) -> list[str]:
    return SLOT.findall(page)
