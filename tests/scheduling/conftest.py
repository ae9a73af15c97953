"""Scheduling fixtures: a regional centre at UTC+7 with two cardiologists, a district hospital at
UTC+10 with its medic and patients, and a clock the tests move by hand.

The service's clock is the one in `app.state.clock`; the reminder job's periodic runs are pushed
an hour away so that only the tests run it, with the time they choose.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.common.db import Database
from services.common.grants import GRANT_HEADER, GrantIssuer
from services.scheduling.reminders import ReminderMessage
from tests.conftest import Actor, Stack, running_stack

SCHEDULING = "/api/scheduling"
# A Monday. Novosibirsk is UTC+7 all year, Vladivostok UTC+10; Berlin leaves summer time on
# Sunday 2025-10-26.
NOW = datetime(2025, 10, 20, 0, 0, tzinfo=UTC)
CENTRE_ZONE = "Asia/Novosibirsk"
DISTRICT_ZONE = "Asia/Vladivostok"
# Monday to Friday, 09:00-13:00 and 14:00-17:00 local time.
WEEKDAYS = [
    {"weekday": day, "start": start, "end": end}
    for day in range(5)
    for start, end in (("09:00", "13:00"), ("14:00", "17:00"))
]


class Clock:
    """What the scheduling service takes for now."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def local(day: str, clock: str, zone: str = CENTRE_ZONE) -> str:
    """An ISO instant for a wall-clock time in `zone` (ISO with the zone's offset)."""
    moment = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=ZoneInfo(zone))
    return moment.isoformat()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@dataclass
class World:
    stack: Stack
    clock: Clock
    centre: dict[str, Any]
    hospital: dict[str, Any]
    cardiologist: Actor
    colleague: Actor
    neurologist: Actor
    medic: Actor
    other_medic: Actor
    coordinator: Actor
    patient: Actor
    other_patient: Actor
    schedule: dict[str, Any]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    @property
    def database(self) -> Database:
        database: Database = self.stack.apps["scheduling"].state.database
        return database

    async def create_schedule(self, actor: Actor, **overrides: Any) -> dict[str, Any]:
        body = {"weekly_hours": WEEKDAYS, "slot_step_minutes": 15} | overrides
        response = await self.client.post(
            f"{SCHEDULING}/schedules", json=body, headers=actor.headers
        )
        assert response.status_code == 201, response.text
        schedule: dict[str, Any] = response.json()
        return schedule

    def booking(self, start: str, **overrides: Any) -> dict[str, Any]:
        body = {
            "practitioner_id": str(self.cardiologist.id),
            "visit_type": "in_person",
            "start": start,
            "patient_id": str(self.patient.id),
        }
        return body | overrides

    def grant(
        self,
        actor: Actor,
        case_id: str,
        *,
        purpose: str = "case.link",
        audience: str = "scheduling",
        ttl_seconds: int = 60,
    ) -> dict[str, str]:
        """The `Telemed-Grant` header consult sends when it links `case_id` for `actor`,
        signed with the running consult service's own key."""
        grants: GrantIssuer = self.stack.apps["consult"].state.grants
        token, _ = grants.issue(
            audience=audience,
            subject=actor.id,
            purpose=purpose,
            case_id=uuid.UUID(case_id),
            ttl_seconds=ttl_seconds,
        )
        return {GRANT_HEADER: token}

    async def book(
        self,
        start: str,
        actor: Actor | None = None,
        *,
        grant: dict[str, str] | None = None,
        **overrides: Any,
    ) -> httpx.Response:
        return await self.client.post(
            f"{SCHEDULING}/appointments",
            json=self.booking(start, **overrides),
            headers=(actor or self.medic).headers | (grant or {}),
        )

    async def booked(self, start: str, actor: Actor | None = None, **overrides: Any) -> Any:
        response = await self.book(start, actor, **overrides)
        assert response.status_code == 201, response.text
        return response.json()

    async def act(
        self, actor: Actor, appointment_id: str, action: str, body: Any = None
    ) -> httpx.Response:
        return await self.client.post(
            f"{SCHEDULING}/appointments/{appointment_id}/{action}",
            json=body,
            headers=actor.headers,
        )

    async def get(self, actor: Actor, path: str, **params: Any) -> httpx.Response:
        """A GET with the caller's token; parameters given as None are left out."""
        wanted = {name: value for name, value in params.items() if value is not None}
        return await self.client.get(f"{SCHEDULING}{path}", params=wanted, headers=actor.headers)

    async def availability(
        self, start: str, end: str, actor: Actor | None = None, **params: Any
    ) -> Any:
        query = {
            "visit_type": "in_person",
            "practitioner": str(self.cardiologist.id),
            "from": start,
            "to": end,
        } | params
        response = await self.get(actor or self.medic, "/availability", **query)
        assert response.status_code == 200, response.text
        return response.json()

    async def fulfil_first_visit_of(self, first: dict[str, Any]) -> dict[str, Any]:
        """The specialist sees the patient at the time booked: arrived, then fulfilled."""
        self.clock.now = datetime.fromisoformat(first["start"]) + timedelta(minutes=5)
        for action in ("arrive", "fulfil"):
            response = await self.act(self.cardiologist, first["id"], action)
            assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        assert result["status"] == "fulfilled"
        self.clock.now = NOW
        return result


class RecordingChannel:
    """A reminder channel that keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[ReminderMessage] = []

    async def deliver(self, message: ReminderMessage) -> None:
        self.messages.append(message)


@pytest.fixture
def scheduling_settings() -> dict[str, Any]:
    """Overrides of the scheduling service's settings; a test module may replace it."""
    return {"reminder_interval_seconds": 3600.0}


@pytest.fixture
async def stack(
    clean_databases: dict[str, str], tmp_path: Path, scheduling_settings: dict[str, Any]
) -> AsyncIterator[Stack]:
    overrides = {"scheduling": scheduling_settings}
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        yield running


@pytest.fixture
def clock(stack: Stack) -> Clock:
    clock = Clock()
    stack.apps["scheduling"].state.clock = clock
    return clock


@pytest.fixture
async def world(stack: Stack, clock: Clock) -> World:
    centre = await stack.organization(kind="regional_centre", timezone=CENTRE_ZONE)
    hospital = await stack.organization(kind="district_hospital", timezone=DISTRICT_ZONE)
    other_hospital = await stack.organization(kind="district_hospital", timezone=DISTRICT_ZONE)
    cardiologist = await stack.actor("specialist", centre, "cardiology")
    world = World(
        stack=stack,
        clock=clock,
        centre=centre,
        hospital=hospital,
        cardiologist=cardiologist,
        colleague=await stack.actor("specialist", centre, "cardiology"),
        neurologist=await stack.actor("specialist", centre, "neurology"),
        medic=await stack.actor("district_medic", hospital),
        other_medic=await stack.actor("district_medic", other_hospital),
        coordinator=await stack.actor("coordinator", centre),
        patient=await stack.actor("patient", hospital),
        other_patient=await stack.actor("patient", hospital),
        schedule={},
    )
    world.schedule = await world.create_schedule(cardiologist)
    return world


def new_id() -> str:
    return str(uuid.uuid4())
