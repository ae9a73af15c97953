"""What `Idempotency-Key` rows keep: no secret a response showed once, no plain hash of a body
holding a password, and nothing past their retention."""

import asyncio
import hashlib
import hmac
import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select, update

from gateway.models import kernel_tables
from gateway.schemas import UserCreate
from services.common.db import Database, utcnow
from services.common.migrations import upgrade
from telemed.registry import GATEWAY
from tests.conftest import TEST_PASSWORD, Stack, running_stack
from tests.webhooks.receiver import eventually

CLIENTS = "/api/directory/api-clients"


async def _rows(stack: Stack) -> list[dict[str, Any]]:
    gateway = stack.apps["gateway"]
    database: Database = gateway.state.database
    table: Table = gateway.state.idempotency_table
    async with database.sessionmaker() as session:
        rows = (await session.execute(select(table).order_by(table.c.id))).mappings().all()
    return [dict(row) for row in rows]


async def test_a_secret_shown_once_is_neither_kept_nor_replayed(stack: Stack) -> None:
    assert stack.admin is not None
    organization = await stack.organization()
    body = {"name": "Regional MIS", "organization_id": organization["id"],
            "scopes": ["consult:read"]}  # fmt: skip
    headers = stack.admin.headers | {"Idempotency-Key": "register-mis-1"}
    first = await stack.client.post(CLIENTS, json=body, headers=headers)
    assert first.status_code == 201, first.text
    secret = first.json()["client_secret"]

    [row] = await _rows(stack)
    assert secret not in json.dumps(row, default=str)
    assert json.loads(row["response_body"]) == {
        name: value for name, value in first.json().items() if name != "client_secret"
    }

    again = await stack.client.post(CLIENTS, json=body, headers=headers)
    assert again.status_code == 410
    assert again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    assert problem["type"].endswith("/secret-shown-once")
    assert "revoke" in problem["detail"]
    assert problem["created"]["id"] == first.json()["id"]
    assert secret not in again.text
    assert len(await _rows(stack)) == 1  # and nothing was created twice
    listed = await stack.client.get(CLIENTS, headers=stack.admin.headers)
    assert [client["id"] for client in listed.json()] == [first.json()["id"]]


async def test_a_body_with_a_password_is_remembered_by_a_keyed_hash(
    stack: Stack, tmp_path: Path
) -> None:
    assert stack.admin is not None
    organization = await stack.organization()
    body = {"username": "medic.keyed", "password": TEST_PASSWORD, "full_name": "Keyed Medic",
            "role": "district_medic", "organization_id": organization["id"]}  # fmt: skip
    headers = stack.admin.headers | {"Idempotency-Key": "create-medic-1"}
    created = await stack.client.post("/api/directory/users", json=body, headers=headers)
    assert created.status_code == 201, created.text
    again = await stack.client.post("/api/directory/users", json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == created.json()
    other = await stack.client.post(
        "/api/directory/users", json=body | {"password": TEST_PASSWORD + "!"}, headers=headers
    )
    assert other.status_code == 422

    [row] = await _rows(stack)
    stored = json.dumps(row, default=str)
    assert TEST_PASSWORD not in stored
    gateway = stack.apps["gateway"]
    parsed = UserCreate.model_validate(body).model_dump(mode="json")
    canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
    # Nobody holding only the database can test a guessed password against the row.
    assert row["body_sha256"] != hashlib.sha256(canonical).hexdigest()
    key = gateway.state.idempotency_key
    assert row["body_sha256"] == hmac.new(key, canonical, hashlib.sha256).hexdigest()
    key_file = tmp_path / "gateway" / "idempotency.key"
    assert key_file.read_bytes() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


async def test_keys_are_pruned_after_their_retention(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    fast = {"idempotency_retention_hours": 24, "idempotency_prune_interval_seconds": 0.05}
    async with running_stack(clean_databases, tmp_path, {"gateway": fast}) as stack:
        assert stack.admin is not None
        for key in ("yesterday", "today"):
            response = await stack.client.post(
                "/api/directory/organizations",
                json={
                    "name": f"Hospital {key}",
                    "kind": "district_hospital",
                    "region": "42",
                    "timezone": "Asia/Novokuznetsk",
                },
                headers=stack.admin.headers | {"Idempotency-Key": key},
            )
            assert response.status_code == 201, response.text
        gateway = stack.apps["gateway"]
        database: Database = gateway.state.database
        table: Table = gateway.state.idempotency_table
        async with database.sessionmaker.begin() as session:
            await session.execute(
                update(table)
                .where(table.c.key == "yesterday")
                .values(created_at=utcnow() - timedelta(hours=25))
            )

        async def keys() -> list[str]:
            return [row["key"] for row in await _rows(stack)]

        assert await eventually(keys, lambda kept: kept == ["today"]) == ["today"]


async def test_keys_kept_with_secrets_before_are_deleted_on_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}"
    await asyncio.to_thread(upgrade, GATEWAY.migrations_dir, url, "0004")
    database = Database(url)
    table = kernel_tables.idempotency
    try:
        async with database.sessionmaker.begin() as session:
            for key, endpoint in [("1", "POST /api/directory/api-clients"),
                                  ("2", "POST /api/directory/users"),
                                  ("3", "POST /api/webhooks/subscriptions"),
                                  ("4", "POST /api/directory/organizations")]:  # fmt: skip
                await session.execute(
                    insert(table).values(
                        owner="admin",
                        key=key,
                        endpoint=endpoint,
                        body_sha256="0" * 64,
                        status_code=201,
                        response_body='{"client_secret": "cs_x"}',
                        created_at=utcnow(),
                    )
                )
        await asyncio.to_thread(upgrade, GATEWAY.migrations_dir, url)
        async with database.sessionmaker() as session:
            kept = (await session.scalars(select(table.c.key))).all()
    finally:
        await database.dispose()
    assert kept == ["4"]
