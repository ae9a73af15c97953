"""The audit chain: every access is recorded, and any edit or deletion is detected."""

import asyncio

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from services.common.audit import ChainReport, define_audit_tables, verify_chain
from services.common.db import Database, new_metadata
from telemed.cli import app as cli
from tests.conftest import Stack

TABLES = define_audit_tables(new_metadata())
Urls = dict[str, str]


async def _report(url: str) -> ChainReport:
    database = Database(url)
    try:
        async with database.sessionmaker() as session:
            return await verify_chain(session, TABLES)
    finally:
        await database.dispose()


async def _execute(url: str, statement: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await database.dispose()


async def _populate(stack: Stack) -> None:
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    await stack.client.get("/api/directory/me", headers=medic.headers)
    assert stack.admin is not None
    await stack.client.get(f"/api/directory/users/{stack.admin.id}", headers=medic.headers)


async def test_accesses_and_denials_are_recorded(stack: Stack, clean_databases: Urls) -> None:
    await _populate(stack)
    database = Database(clean_databases["gateway"])
    try:
        async with database.engine.connect() as connection:
            rows = (await connection.execute(text(
                "SELECT action, outcome, actor_role, request_id FROM audit_records ORDER BY seq"
            ))).all()  # fmt: skip
    finally:
        await database.dispose()
    assert ("user.read", "success", "district_medic") in [row[:3] for row in rows]
    assert ("user.read", "denied", "district_medic") in [row[:3] for row in rows]
    assert all(row.request_id for row in rows if row.action == "user.read")


async def test_verify_detects_an_edited_record(stack: Stack, clean_databases: Urls) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    intact = await _report(url)
    assert intact.intact
    assert intact.records >= 5
    await _execute(url, "UPDATE audit_records SET outcome = 'success' WHERE outcome = 'denied'")
    tampered = await _report(url)
    assert not tampered.intact
    assert tampered.reason == "record content does not match its hash"


async def test_verify_detects_a_deleted_record_and_truncation(
    stack: Stack, clean_databases: Urls
) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    await _execute(
        url, "DELETE FROM audit_records WHERE seq = (SELECT MAX(seq) FROM audit_records)"
    )
    truncated = await _report(url)
    assert truncated.reason == "records after this point were removed"
    await _execute(url, "DELETE FROM audit_records WHERE seq = 2")
    assert (await _report(url)).first_broken_seq == 3


async def test_cli_audit_verify_exits_non_zero_on_tampering(
    stack: Stack, clean_databases: Urls, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    monkeypatch.setenv("TELEMED_GATEWAY_DATABASE_URL", url)
    runner = CliRunner()
    # The CLI runs its own event loop, so it is invoked from a worker thread.
    ok = await asyncio.to_thread(runner.invoke, cli, ["audit", "verify", "--service", "gateway"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    await _execute(url, "UPDATE audit_records SET action = 'tampered' WHERE seq = 3")
    broken = await asyncio.to_thread(
        runner.invoke, cli, ["audit", "verify", "--service", "gateway"]
    )
    assert broken.exit_code == 1
    assert "BROKEN at record 3" in broken.output
