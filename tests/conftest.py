"""Fixtures shared by every test: the database matrix and the in-process stack of services.

`TELEMED_TEST_DB=postgresql` runs the database tests on the PostgreSQL server on 127.0.0.1
(one scratch database per service and run); the default is SQLite files in a temp dir.
"""

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from services.common.audit import GENESIS_HASH
from services.common.db import Database
from services.common.migrations import sqlite_tables, upgrade
from telemed.registry import SERVICES, ServiceSpec
from tests.servers import serve

pytest_plugins = ["tests.contract.figures"]
TEST_DB = os.environ.get("TELEMED_TEST_DB", "sqlite")
PG_SERVER = os.environ.get("TELEMED_TEST_PG", "postgres@127.0.0.1:5432")
TEST_PASSWORD = "correct horse battery staple"
# Suites whose outcome the database does not change (a browser, fuzzing, real processes on their
# own SQLite files, manifests, the code's shape): marked `once`, which the PostgreSQL run of CI
# deselects, so they run once per CI run.
ONCE = (
    "e2e/",
    "web/test_browser.py",
    "web/test_cases_browser.py",
    "web/test_appeals_browser.py",
    "web/test_admin_browser.py",
    "web/test_patient_browser.py",
    "web/test_consilium_browser.py",
    "web/test_video_browser.py",
    "web/test_registry_browser.py",
    "web/test_monitoring_browser.py",
    "web/test_home_visits_browser.py",
    "web/test_wards_browser.py",
    "web/test_knowledge_browser.py",
    "web/test_article_examples_browser.py",
    "web/test_chats_browser.py",
    "web/test_every_screen_browser.py",
    "deploy/",
    "contract/",
    "openapi/",
    "security/test_bad_input.py",
    "video/test_join_page.py",
    "video/wards/test_rtsp.py",
    "video/wards/test_bedside_page.py",
    "gateway/test_sign_in_browser.py",
    "gateway/test_api_docs_browser.py",
    "common/test_server.py",
    "test_architecture.py",
    "test_supervisor.py",
    "test_cli.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        if item.path.relative_to(tests).as_posix().startswith(ONCE):
            item.add_marker(pytest.mark.once)
    # The `once` suites are the long ones (a browser and `telemed run` each, the contract's
    # thousands of requests): handed to the workers first, so the short modules fill in
    # around them instead of one worker running browsers alone at the end. The sort is
    # stable: each module keeps its own order.
    items.sort(key=lambda item: item.get_closest_marker("once") is None)


async def _recreate_pg_database(name: str, *, drop_only: bool = False) -> None:
    connection = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per service for the whole run."""
    urls: dict[str, str] = {}
    run = uuid.uuid4().hex[:8]
    for service in SERVICES:
        if TEST_DB == "postgresql":
            name = f"telemed_test_{service.name}_{run}"
            asyncio.run(_recreate_pg_database(name))
            urls[service.name] = f"postgresql+asyncpg://{PG_SERVER}/{name}"
        else:
            path = tmp_path_factory.mktemp("db") / f"{service.name}.sqlite3"
            urls[service.name] = f"sqlite+aiosqlite:///{path}"
        upgrade(service.migrations_dir, urls[service.name])
    yield urls
    if TEST_DB == "postgresql":
        for url in urls.values():
            asyncio.run(_recreate_pg_database(url.rsplit("/", 1)[1], drop_only=True))


async def reset_database(url: str) -> None:
    """Empties every table but alembic's and rewinds the audit chain, between tests."""
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            # A full-text table empties with its rows; its shadow tables are its own to keep.
            kept = {"alembic_version", "audit_chain_head"} | await connection.run_sync(
                sqlite_tables, ("shadow",)
            )
            tables = [
                table
                for table in await connection.run_sync(
                    lambda sync: sync.dialect.get_table_names(sync)
                )
                if table not in kept
            ]
            if database.url.startswith("postgresql"):
                await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
            else:
                await connection.execute(text("PRAGMA defer_foreign_keys=ON"))
                for table in tables:
                    await connection.execute(text(f"DELETE FROM {table}"))
            await connection.execute(
                text("UPDATE audit_chain_head SET seq = 0, last_hash = :genesis"),
                {"genesis": GENESIS_HASH},
            )
    finally:
        await database.dispose()


class HostRoutingTransport(httpx.AsyncBaseTransport):
    """Sends each request to the in-process app named by its host (`http://consult/...`)."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}

    def mount(self, host: str, app: FastAPI) -> None:
        self.apps[host] = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no app mounted for {request.url.host}", request=request)
        return await transport.handle_async_request(request)


def service_settings(
    service: ServiceSpec, urls: dict[str, str], var_dir: Path, **overrides: Any
) -> Any:
    values: dict[str, Any] = {
        "database_url": urls[service.name],
        "var_dir": var_dir,
        "gateway_url": "http://gateway",
        "json_logs": False,
    }
    if service.name == "gateway":
        values |= {
            "argon2_time_cost": 1,
            "argon2_memory_kib": 64,
            # Every app shares this process's one event loop, so a burst of requests can hold
            # it for seconds; a connection the kernel accepted at once would then "time out"
            # before the loop gets to it. Tests of unreachable services set their own.
            "proxy_connect_timeout": 15.0,
        }
    return service.settings(**(values | overrides))


@dataclass
class Actor:
    """A signed-in user of the stack."""

    id: uuid.UUID
    username: str
    role: str
    organization_id: uuid.UUID | None
    specialty: str | None
    access_token: str
    refresh_token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Stack:
    """The real gateway and services, in process; `client` talks to the gateway."""

    client: httpx.AsyncClient
    apps: dict[str, FastAPI]
    transport: HostRoutingTransport
    admin: Actor | None = None
    _counter: int = 0

    def _next(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    async def login(self, username: str, password: str = TEST_PASSWORD) -> dict[str, Any]:
        response = await self.client.post(
            "/api/auth/token",
            data={"grant_type": "password", "username": username, "password": password},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def organization(
        self,
        *,
        kind: str = "district_hospital",
        region: str = "42",
        timezone: str = "Asia/Novokuznetsk",
        **fields: Any,
    ) -> dict[str, Any]:
        assert self.admin is not None
        body = {
            "name": self._next("Organisation "),
            "kind": kind,
            "region": region,
            "timezone": timezone,
            **fields,
        }
        response = await self.client.post(
            "/api/directory/organizations", json=body, headers=self.admin.headers
        )
        assert response.status_code == 201, response.text
        organization: dict[str, Any] = response.json()
        return organization

    async def call_centre(
        self, *served: dict[str, Any], region: str, timezone: str
    ) -> dict[str, Any]:
        """A call centre of `region` that serves the organisations `served`."""
        assert self.admin is not None
        centre = await self.organization(kind="call_centre", region=region, timezone=timezone)
        response = await self.client.put(
            f"/api/directory/organizations/{centre['id']}/served",
            json={"organization_ids": [organization["id"] for organization in served]},
            headers=self.admin.headers,
        )
        assert response.status_code == 200, response.text
        return centre

    async def actor(
        self, role: str, organization: dict[str, Any] | None = None, specialty: str | None = None
    ) -> Actor:
        assert self.admin is not None
        username = self._next(f"{role.replace('_', '-')}.")
        body = {
            "username": username,
            "password": TEST_PASSWORD,
            "full_name": f"Test {role} {self._counter}",
            "role": role,
            "organization_id": organization["id"] if organization else None,
            "specialty": specialty,
        }
        response = await self.client.post(
            "/api/directory/users", json=body, headers=self.admin.headers
        )
        assert response.status_code == 201, response.text
        tokens = await self.login(username)
        return Actor(
            id=uuid.UUID(response.json()["id"]),
            username=username,
            role=role,
            organization_id=uuid.UUID(organization["id"]) if organization else None,
            specialty=specialty,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )


async def bootstrap_admin(stack: Stack) -> Actor:
    from gateway.directory.service import create_user
    from gateway.models import kernel_tables
    from gateway.schemas import UserCreate
    from services.common.uow import standalone_unit_of_work

    gateway = stack.apps["gateway"]
    body = UserCreate(
        username="root.admin", password=TEST_PASSWORD, full_name="Root Admin", role="admin"
    )
    async with standalone_unit_of_work(gateway.state.database, kernel_tables.audit) as uow:
        user = await create_user(uow, gateway.state.passwords, body)
    tokens = await stack.login(body.username)
    return Actor(user.id, body.username, "admin", None, None, tokens["access_token"])


@contextlib.asynccontextmanager
async def running_stack(
    urls: dict[str, str], var_dir: Path, overrides: dict[str, dict[str, Any]] | None = None
) -> AsyncIterator[Stack]:
    """Every app with its own database. Services run under uvicorn on loopback ports, so the
    gateway's proxy crosses real sockets as in production; their own calls to the gateway and
    the test client reach the in-process gateway app."""
    from importlib import import_module

    transport = HostRoutingTransport()
    apps: dict[str, FastAPI] = {}
    async with contextlib.AsyncExitStack() as exits:
        published: dict[str, str] = {}
        for service in sorted(SERVICES, key=lambda candidate: candidate.name == "gateway"):
            settings = service_settings(
                service, urls, var_dir, **(overrides or {}).get(service.name, {})
            )
            factory = import_module(f"{service.package}.app").create_app
            if service.name == "gateway":
                settings = settings.model_copy(update={"services": published})
                apps[service.name] = factory(settings, transport=transport)
                await exits.enter_async_context(
                    apps["gateway"].router.lifespan_context(apps["gateway"])
                )
            else:
                apps[service.name] = factory(settings, transport=transport)
                published[service.name] = await exits.enter_async_context(serve(apps[service.name]))
            transport.mount(service.name, apps[service.name])
        client = httpx.AsyncClient(transport=transport, base_url="http://gateway")
        exits.push_async_callback(client.aclose)
        stack = Stack(client=client, apps=apps, transport=transport)
        stack.admin = await bootstrap_admin(stack)
        yield stack


@pytest.fixture
async def clean_databases(database_urls: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    yield database_urls
    for url in database_urls.values():
        await reset_database(url)


@pytest.fixture
async def stack(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Stack]:
    async with running_stack(clean_databases, tmp_path) as running:
        yield running
