"""The audit chains: every access is recorded, and any edit, deletion or forgery is detected."""

import asyncio

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from services.common.audit import CHAINS, ChainReport, define_audit_tables, verify_chain
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


async def _execute(url: str, statement: str) -> list[tuple[object, ...]]:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            result = await connection.execute(text(statement))
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await database.dispose()


async def _populate(stack: Stack) -> None:
    """More audited requests than 3 x chains, so some chain surely holds four records."""
    assert stack.admin is not None
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    for _ in range(3 * CHAINS):
        await stack.client.get("/api/directory/me", headers=medic.headers)
    await stack.client.get(f"/api/directory/users/{stack.admin.id}", headers=medic.headers)


async def _longest_chain(url: str) -> int:
    rows = await _execute(
        url, "SELECT chain FROM audit_records GROUP BY chain ORDER BY COUNT(*) DESC LIMIT 1"
    )
    chain = rows[0][0]
    assert isinstance(chain, int)
    return chain


async def test_accesses_and_denials_are_recorded(stack: Stack, clean_databases: Urls) -> None:
    await _populate(stack)
    rows = await _execute(
        clean_databases["gateway"],
        "SELECT action, outcome, actor_role, request_id FROM audit_records ORDER BY id",
    )
    assert ("user.read", "success", "district_medic") in [row[:3] for row in rows]
    assert ("user.read", "denied", "district_medic") in [row[:3] for row in rows]
    assert all(row[3] for row in rows if row[0] == "user.read")


async def test_concurrent_requests_keep_every_chain_intact(
    stack: Stack, clean_databases: Urls
) -> None:
    hospital = await stack.organization()
    medic = await stack.actor("district_medic", hospital)
    responses = await asyncio.gather(
        *(stack.client.get("/api/directory/me", headers=medic.headers) for _ in range(40))
    )
    assert {response.status_code for response in responses} == {200}
    report = await _report(clean_databases["gateway"])
    assert report.intact, report
    assert report.records >= 40


async def test_verify_detects_an_edited_record(stack: Stack, clean_databases: Urls) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    intact = await _report(url)
    assert intact.intact
    assert intact.records >= 3 * CHAINS
    await _execute(url, "UPDATE audit_records SET outcome = 'success' WHERE outcome = 'denied'")
    tampered = await _report(url)
    assert not tampered.intact
    assert tampered.reason == "record content does not match its hash"


async def test_verify_detects_deletion_inside_and_at_the_end_of_a_chain(
    stack: Stack, clean_databases: Urls
) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    chain = await _longest_chain(url)
    await _execute(
        url,
        f"DELETE FROM audit_records WHERE chain = {chain} AND seq = "
        f"(SELECT MAX(seq) FROM audit_records WHERE chain = {chain})",
    )
    truncated = await _report(url)
    assert (truncated.broken_chain, truncated.reason) == (
        chain,
        "records after this point were removed",
    )
    await _execute(url, f"DELETE FROM audit_records WHERE chain = {chain} AND seq = 2")
    gap = await _report(url)
    assert (gap.broken_chain, gap.first_broken_seq) == (chain, 3)


async def test_verify_detects_a_forged_chain(stack: Stack, clean_databases: Urls) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    await _execute(url, f"UPDATE audit_records SET chain = {CHAINS + 5} WHERE id = 1")
    report = await _report(url)
    assert not report.intact


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
    chain = await _longest_chain(url)
    await _execute(
        url, f"UPDATE audit_records SET action = 'tampered' WHERE chain = {chain} AND seq = 3"
    )
    broken = await asyncio.to_thread(
        runner.invoke, cli, ["audit", "verify", "--service", "gateway"]
    )
    assert broken.exit_code == 1
    assert f"BROKEN at chain {chain} record 3" in broken.output
