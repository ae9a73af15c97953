"""API client scopes: one allow-list of single tokens, and tokens that never carry more.

Service-only scopes need the service mark; a stored row cannot put a scope into a token.
"""

import asyncio
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from sqlalchemy import select, text, update

from gateway.models import ApiClient
from services.common.db import Database
from services.common.migrations import upgrade
from telemed.registry import spec
from tests.conftest import PG_SERVER, TEST_DB, Stack, _recreate_pg_database

CLIENTS = "/api/directory/api-clients"


async def register(stack: Stack, **fields: Any) -> Any:
    assert stack.admin is not None
    hospital = await stack.organization()
    body = {"name": "Regional MIS", "organization_id": hospital["id"], "scopes": []} | fields
    return await stack.client.post(CLIENTS, json=body, headers=stack.admin.headers)


async def client_token(stack: Stack, created: dict[str, Any]) -> Any:
    response = await stack.client.post(
        "/api/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(created["client_id"], created["client_secret"]),
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "scopes",
    [
        ["consult:read events:relay"],  # one string, two scopes once a token splits it
        ["consult:read\tconsult:write"],
        [" consult:read"],
        ["events:relay"],
        ["video:rooms"],  # not for an ordinary client
        ["admin:everything"],
        ["consult:read", ""],
    ],
)
async def test_scopes_outside_the_allow_list_are_refused(stack: Stack, scopes: list[str]) -> None:
    response = await register(stack, scopes=scopes)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"][-1] == "scopes"


async def test_video_rooms_only_for_a_service_client(stack: Stack) -> None:
    created = await register(stack, name="Scheduling service", is_service=True,
                             scopes=["video:rooms"])  # fmt: skip
    assert created.status_code == 201, created.text
    assert created.json()["is_service"] is True
    assert (await client_token(stack, created.json()))["scope"] == "video:rooms"


async def test_changing_a_client_checks_the_same_list(stack: Stack) -> None:
    assert stack.admin is not None
    created = (await register(stack, scopes=["consult:read", "consult:write"])).json()
    path = f"{CLIENTS}/{created['id']}"
    headers = stack.admin.headers
    refused = await stack.client.put(
        path, json={"name": "MIS", "scopes": ["consult:read events:relay"]}, headers=headers
    )
    assert refused.status_code == 422
    kept = await stack.client.put(
        path, json={"name": "MIS", "scopes": ["consult:read", "consult:read"]}, headers=headers
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["scopes"] == ["consult:read"]
    assert (await client_token(stack, created))["scope"] == "consult:read"


async def test_a_token_carries_only_allowed_scopes_whatever_the_row_holds(stack: Stack) -> None:
    """A row stored before the allow-list (or edited by hand) cannot smuggle a scope in."""
    created = (await register(stack, scopes=["consult:read"])).json()
    gateway = stack.apps["gateway"]
    async with gateway.state.database.sessionmaker() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.id == uuid.UUID(created["id"]))
            .values(scopes=["consult:read events:relay", "events:relay", "video:rooms"])
        )
        await session.commit()
    token = await client_token(stack, created)
    assert token["scope"] == ""
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["scope"] == ""


async def test_migration_cleans_stored_scopes(tmp_path: Path) -> None:
    """0003 splits whitespace-joined scopes, drops what the allow-list lacks, and keeps
    `video:rooms` for the clients that held it by marking them service clients."""
    gateway = spec("gateway")
    if TEST_DB == "postgresql":
        name = f"telemed_test_scopes_{uuid.uuid4().hex[:8]}"
        await _recreate_pg_database(name)
        url = f"postgresql+asyncpg://{PG_SERVER}/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}"
    await asyncio.to_thread(upgrade, gateway.migrations_dir, url, "0002")
    organization, relay, scheduler = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO organizations (id, name, kind, region, timezone, working_hours, "
                    "created_at, updated_at) VALUES (:id, 'Org', 'other', '42', 'UTC', '[]', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": organization.hex if TEST_DB != "postgresql" else organization},
            )
            for client_id, scopes in (
                (relay, '["consult:read events:relay", "files:read"]'),
                (scheduler, '["video:rooms"]'),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO api_clients (id, client_id, secret_hash, name, "
                        "organization_id, scopes, is_active, created_at, updated_at) VALUES "
                        "(:id, :cid, 'x', 'client', :org, :scopes, true, CURRENT_TIMESTAMP, "
                        "CURRENT_TIMESTAMP)"
                    ),
                    {"id": client_id if TEST_DB == "postgresql" else client_id.hex,
                     "cid": client_id.hex[:12], "scopes": scopes,
                     "org": organization if TEST_DB == "postgresql" else organization.hex},
                )  # fmt: skip
        await asyncio.to_thread(upgrade, gateway.migrations_dir, url)
        async with database.sessionmaker() as session:
            rows = {
                row.id: (row.scopes, row.is_service)
                for row in (await session.execute(select(ApiClient))).scalars()
            }
    finally:
        await database.dispose()
        if TEST_DB == "postgresql":
            await _recreate_pg_database(url.rsplit("/", 1)[1], drop_only=True)
    assert rows[relay] == (["consult:read", "files:read"], False)
    assert rows[scheduler] == (["video:rooms"], True)
