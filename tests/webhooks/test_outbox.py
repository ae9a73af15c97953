"""The services' transactional outbox: the feed the gateway's relay reads (and nobody else),
acknowledgement, events rolled back with the work they announce, pruning, and the schema.

The gateway's own relay is told to read no source here, so the feeds are the tests' alone.
"""

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import select

from services.common.app import create_service_app
from services.common.auth import Principal, Role
from services.common.db import Database, utcnow
from services.common.errors import Conflict
from services.common.outbox import RELAY_SCOPE, EventType, OutboxEvent
from services.common.uow import UnitOfWorkDep
from services.consult.db import KERNEL_TABLES, OUTBOX
from services.consult.settings import ConsultSettings
from tests.conftest import Stack, running_stack
from tests.consult import conftest as consult_fixtures
from tests.consult.conftest import World
from tests.scheduling.conftest import Clock, assert_problem
from tests.video.peers import until

EMITTING = ("consult", "scheduling", "video")
# The gateway's relay reads no service, so events stay in the feeds for the tests to read; the
# services' own periodic jobs are pushed an hour away, so only the tests run them.
QUIET_RELAY: dict[str, dict[str, Any]] = {
    "gateway": {"event_sources": []},
    "consult": {
        "appeal_escalation_interval_seconds": 3600.0,
        "deadline_warning_interval_seconds": 3600.0,
    },
    "scheduling": {"reminder_interval_seconds": 3600.0},
}
PATIENT_NAME = "Petrov Ivan Sergeevich"  # in every case the world creates


def relay_headers(stack: Stack) -> dict[str, str]:
    """A token as the gateway's relay mints it for itself."""
    issuer = stack.apps["gateway"].state.token_issuer
    relay = Principal(
        subject=uuid.uuid4(),
        username="gateway-event-relay",
        role=Role.API_CLIENT,
        scopes=frozenset({RELAY_SCOPE}),
    )
    return {"Authorization": f"Bearer {issuer.issue(relay)}"}


@dataclass
class Feed:
    """One service's outbox feed, read through the gateway as the relay."""

    stack: Stack
    service: str

    @property
    def path(self) -> str:
        return f"/api/{self.service}/internal/outbox"

    async def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        response = await self.stack.client.get(
            self.path, params={"limit": limit}, headers=relay_headers(self.stack)
        )
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        for event in events:  # every event has the one shape of the contract
            assert OutboxEvent.model_validate(event).model_dump(mode="json") == event
            assert event["source"] == self.service
        return events

    async def of_type(self, event_type: EventType) -> list[dict[str, Any]]:
        return [event for event in await self.pending() if event["type"] == event_type.value]

    async def ack(self, ids: list[str]) -> None:
        response = await self.stack.client.post(
            f"{self.path}/ack", json={"ids": ids}, headers=relay_headers(self.stack)
        )
        assert response.status_code == 204, response.text

    async def drain(self) -> None:
        await self.ack([event["id"] for event in await self.pending(1000)])


@pytest.fixture(name="stack")
async def quiet_stack(
    clean_databases: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Stack]:
    """The stack with the gateway's relay kept off the feeds (the other test_outbox* modules
    import this fixture); a test may add settings by parametrizing `stack` indirectly."""
    more: dict[str, dict[str, Any]] = getattr(request, "param", {})
    overrides = {
        name: QUIET_RELAY.get(name, {}) | more.get(name, {}) for name in QUIET_RELAY | more
    }
    async with running_stack(clean_databases, tmp_path, overrides) as running:
        assert running.apps["gateway"].state.settings.event_sources == []
        yield running


# The consult tests' world (a district hospital, a regional centre, their people, MIS clients)
# on this module's quiet stack.
world = consult_fixtures.world


async def test_the_feed_is_the_relays_alone(world: World) -> None:
    stack = world.stack
    await world.create(submit=True)
    for service in EMITTING:
        feed = Feed(stack, service)
        assert_problem(await stack.client.get(feed.path), 401)
        assert_problem(await stack.client.post(f"{feed.path}/ack", json={"ids": []}), 401)
        for caller in (world.medic, world.clients["rw"], stack.admin):
            assert caller is not None
            refused = await stack.client.get(feed.path, headers=caller.headers)
            assert "relay" in assert_problem(refused, 403)["detail"]
            ack = await stack.client.post(
                f"{feed.path}/ack", json={"ids": []}, headers=caller.headers
            )
            assert_problem(ack, 403)
        await feed.pending()  # the gateway's own relay token is let in
    assert [event["type"] for event in await Feed(stack, "consult").pending()] == ["case.submitted"]
    # The feed is internal: neither the service's nor the merged public OpenAPI lists it.
    merged = (await stack.client.get("/openapi.json")).json()
    assert not [path for path in merged["paths"] if "/internal/" in path]
    own = httpx.AsyncClient(
        transport=httpx.ASGITransport(stack.apps["consult"]), base_url="http://c"
    )
    async with own:
        assert not [p for p in (await own.get("/openapi.json")).json()["paths"] if "outbox" in p]


async def test_the_directory_refuses_the_relay_scope_to_api_clients(world: World) -> None:
    stack = world.stack
    assert stack.admin is not None
    body = {
        "name": "A clever MIS",
        "organization_id": world.hospital["id"],
        "scopes": ["consult:read", RELAY_SCOPE],
    }
    refused = await stack.client.post(
        "/api/directory/api-clients", json=body, headers=stack.admin.headers
    )
    problem = assert_problem(refused, 422)
    assert problem["errors"][0]["loc"][-1] == "scopes"
    assert RELAY_SCOPE in problem["errors"][0]["msg"]
    clients = await stack.client.get("/api/directory/api-clients", headers=stack.admin.headers)
    assert "A clever MIS" not in [client["name"] for client in clients.json()]


async def test_acknowledged_events_leave_the_feed(world: World) -> None:
    feed = Feed(world.stack, "consult")
    cases = [await world.create(submit=True) for _ in range(3)]
    events = await feed.pending()
    # In the order they were written, each about its own case.
    assert [event["resource"] for event in events] == [
        {"type": "case", "id": case["id"]} for case in cases
    ]
    assert [event["id"] for event in await feed.pending(limit=2)] == [e["id"] for e in events[:2]]
    await feed.ack([events[0]["id"], events[1]["id"]])
    assert await feed.pending() == events[2:]
    # Acknowledging again, or an id the service never wrote, is harmless.
    await feed.ack([events[0]["id"], str(uuid.uuid4())])
    assert await feed.pending() == events[2:]
    await feed.ack([events[2]["id"]])
    assert await feed.pending() == []
    too_many = await world.stack.client.get(
        feed.path, params={"limit": 1001}, headers=relay_headers(world.stack)
    )
    assert_problem(too_many, 422)


async def test_an_event_is_rolled_back_with_the_work_it_announces(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    """Written in the request's unit of work: a request that fails after recording its event
    leaves no event, one that succeeds leaves exactly its own."""
    router = APIRouter()

    @router.post("/work")
    async def work(uow: UnitOfWorkDep, fail: bool) -> dict[str, str]:
        event = await OUTBOX.record(
            uow, EventType.CASE_ACCEPTED, ("case", uuid.uuid4()), [None], {"fail": fail}
        )
        if fail:
            raise Conflict("Changed our mind after writing the event.")
        return {"id": str(event.id)}

    settings = ConsultSettings(
        database_url=clean_databases["consult"], var_dir=tmp_path, json_logs=False
    )
    app = create_service_app(
        settings, title="t", description="t", routers=[router], kernel_tables=KERNEL_TABLES
    )
    database: Database = app.state.database
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://consult"
        ) as client:
            assert_problem(await client.post("/work", params={"fail": True}), 409)
            done = await client.post("/work", params={"fail": False})
            assert done.status_code == 200, done.text
        async with database.sessionmaker() as session:
            rows = (await session.execute(select(OUTBOX.table))).mappings().all()
        assert [(str(row["id"]), row["data"], row["organization_ids"]) for row in rows] == [
            (done.json()["id"], {"fail": False}, [])
        ]
    finally:
        await database.dispose()


async def test_the_feed_carries_no_patient_names(world: World) -> None:
    case = await world.create(submit=True)
    events = await Feed(world.stack, "consult").pending()
    assert events[0]["data"]["status"] == case["status"] == "submitted"
    assert PATIENT_NAME not in json.dumps(events)
    assert "MIS-42-000123" not in json.dumps(events)


async def rows_are(database: Database, wanted: list[tuple[str, bool]]) -> bool:
    """Whether the outbox table holds exactly `wanted`: (id, acknowledged), sorted."""
    table = OUTBOX.table
    async with database.sessionmaker() as session:
        found = (await session.execute(select(table.c.id, table.c.acked_at))).all()
    return sorted((str(row.id), row.acked_at is not None) for row in found) == wanted


@pytest.mark.parametrize(
    "stack", [{"consult": {"outbox_prune_interval_seconds": 0.05}}], indirect=True
)
async def test_acknowledged_events_are_pruned_after_the_retention(world: World) -> None:
    feed = Feed(world.stack, "consult")
    for _ in range(3):
        await world.create(submit=True)
    first, second, third = [event["id"] for event in await feed.pending()]
    await feed.ack([first])
    consult = world.stack.apps["consult"]
    database: Database = consult.state.database
    clock = Clock(utcnow() + timedelta(days=6))
    consult.state.clock = clock
    await feed.ack([second])  # acknowledged six days after the first
    # A week after the first was acknowledged the job prunes it; the second is kept a week
    # from its own acknowledgement, and unacknowledged events are never pruned.
    assert await OUTBOX.prune(database, clock() - timedelta(days=7)) == 0
    clock.advance(days=1, hours=1)
    kept = sorted([(second, True), (third, False)])
    await until(lambda: rows_are(database, kept))
    clock.advance(days=6)
    await until(lambda: rows_are(database, [(third, False)]))
    assert [event["id"] for event in await feed.pending()] == [third]


def _outbox_only(item: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(item, "table", None), "name", None)
    return table == "outbox_events"
