"""The audit chains: every access is recorded, and any edit, deletion or forgery is detected.

Even by someone who can rewrite the tables but does not hold the service's audit key.
"""

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from services.common.audit import (
    CHAINS,
    ChainReport,
    define_audit_tables,
    record_hash,
    verify_chain,
)
from services.common.db import Database, new_metadata
from services.common.migrations import upgrade
from telemed.cli import app as cli
from telemed.registry import spec
from tests.conftest import PG_SERVER, TEST_DB, Stack, _recreate_pg_database

TABLES = define_audit_tables(new_metadata())
Urls = dict[str, str]
HASHED = ("at", "actor_id", "actor_role", "action", "resource_type", "resource_id", "outcome",
          "request_id", "detail")  # fmt: skip


async def _report(url: str, stack: Stack) -> ChainReport:
    """Verified as the CLI does: a database handle of its own, with the gateway's key."""
    database = Database(url, audit_key=stack.apps["gateway"].state.database.audit_key)
    try:
        async with database.sessionmaker() as session:
            return await verify_chain(session, TABLES)
    finally:
        await database.dispose()


async def _execute(
    url: str, statement: str, params: dict[str, Any] | None = None
) -> list[tuple[object, ...]]:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            result = await connection.execute(text(statement), params or {})
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        await database.dispose()


async def _rechain_with_plain_sha256(url: str, chain: int, first_seq: int) -> None:
    """What someone with write access to the tables but not the key can do after deleting a
    record: renumber the rest and recompute every link from `first_seq` on, and the head."""
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            rows = (
                (
                    await connection.execute(
                        TABLES.records.select()
                        .where(TABLES.records.c.chain == chain)
                        .order_by(TABLES.records.c.seq)
                    )
                )
                .mappings()
                .all()
            )
            prev_hash = rows[first_seq - 2]["hash"] if first_seq > 1 else "0" * 64
            for seq, row in enumerate(rows[first_seq - 1 :], start=first_seq):
                fields = {name: row[name] for name in HASHED} | {"at": row["at"].isoformat()}
                digest = record_hash(prev_hash, chain, seq, fields)
                await connection.execute(
                    TABLES.records.update()
                    .where(TABLES.records.c.id == row["id"])
                    .values(seq=seq, prev_hash=prev_hash, hash=digest)
                )
                prev_hash = digest
            await connection.execute(
                TABLES.head.update()
                .where(TABLES.head.c.id == chain)
                .values(seq=len(rows), last_hash=prev_hash)
            )
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
    report = await _report(clean_databases["gateway"], stack)
    assert report.intact, report
    assert report.records >= 40


async def test_verify_detects_an_edited_record(stack: Stack, clean_databases: Urls) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    intact = await _report(url, stack)
    assert intact.intact
    assert intact.records >= 3 * CHAINS
    await _execute(url, "UPDATE audit_records SET outcome = 'success' WHERE outcome = 'denied'")
    tampered = await _report(url, stack)
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
    truncated = await _report(url, stack)
    assert (truncated.broken_chain, truncated.reason) == (
        chain,
        "records after this point were removed",
    )
    await _execute(url, f"DELETE FROM audit_records WHERE chain = {chain} AND seq = 2")
    gap = await _report(url, stack)
    assert (gap.broken_chain, gap.first_broken_seq) == (chain, 3)


async def test_verify_detects_a_forged_chain(stack: Stack, clean_databases: Urls) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    await _execute(url, f"UPDATE audit_records SET chain = {CHAINS + 5} WHERE id = 1")
    report = await _report(url, stack)
    assert not report.intact


async def test_cli_audit_verify_exits_non_zero_on_tampering(
    stack: Stack, clean_databases: Urls, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await _populate(stack)
    url = clean_databases["gateway"]
    monkeypatch.setenv("TELEMED_GATEWAY_DATABASE_URL", url)
    monkeypatch.setenv("TELEMED_GATEWAY_VAR_DIR", str(tmp_path))  # the stack's, with its key
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


async def test_a_chain_recomputed_without_the_key_is_caught(
    stack: Stack, clean_databases: Urls, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Deleting a record and recomputing the links with plain SHA-256 once passed `verify`."""
    await _populate(stack)
    url = clean_databases["gateway"]
    chain = await _longest_chain(url)
    await _execute(url, f"DELETE FROM audit_records WHERE chain = {chain} AND seq = 2")
    await _rechain_with_plain_sha256(url, chain, first_seq=2)
    report = await _report(url, stack)
    assert (report.broken_chain, report.first_broken_seq, report.reason) == (
        chain,
        2,
        "record content does not match its hash",
    )
    monkeypatch.setenv("TELEMED_GATEWAY_DATABASE_URL", url)
    monkeypatch.setenv("TELEMED_GATEWAY_VAR_DIR", str(tmp_path))
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["audit", "verify", "--service", "gateway"]
    )
    assert result.exit_code == 1
    assert f"BROKEN at chain {chain} record 2" in result.output


async def test_the_keyed_epoch_cannot_be_moved_or_dropped(
    stack: Stack, clean_databases: Urls
) -> None:
    """Passing keyed records off as records from before keying needs the key too."""
    await _populate(stack)
    url = clean_databases["gateway"]
    chain = await _longest_chain(url)
    await _rechain_with_plain_sha256(url, chain, first_seq=1)
    await _execute(url, f"UPDATE audit_chain_head SET keyed_from = 1000 WHERE id = {chain}")
    moved = await _report(url, stack)
    assert (moved.broken_chain, moved.reason) == (
        chain,
        "the seal does not match the records before keying or the key",
    )
    await _execute(
        url, f"UPDATE audit_chain_head SET keyed_from = NULL, seal = NULL WHERE id = {chain}"
    )
    dropped = await _report(url, stack)
    assert (dropped.broken_chain, dropped.reason) == (
        chain,
        "the chain is not sealed with the audit key",
    )


async def _chains_from_before_keying(stack: Stack, url: str) -> ChainReport:
    """Chains as a database migrated from unkeyed chains holds them, sealed as every service
    does at start: plain SHA-256 records and heads with no keyed epoch yet."""
    from services.common.audit import seal_database

    await _execute(url, "DELETE FROM audit_records")
    await _execute(
        url, "UPDATE audit_chain_head SET seq = 0, last_hash = :zero, keyed_from = NULL, "
        "seal = NULL", {"zero": "0" * 64},
    )  # fmt: skip
    await _populate(stack)
    for (chain,) in await _execute(url, "SELECT DISTINCT chain FROM audit_records"):
        await _rechain_with_plain_sha256(url, int(str(chain)), first_seq=1)
    await _execute(url, "UPDATE audit_chain_head SET keyed_from = NULL, seal = NULL")
    assert (await _report(url, stack)).reason == "the chain is not sealed with the audit key"
    await seal_database(stack.apps["gateway"].state.database, TABLES)
    sealed = await _report(url, stack)
    assert sealed.intact, sealed
    assert sealed.unkeyed == sealed.records
    return sealed


async def test_records_from_before_keying_are_sealed(stack: Stack, clean_databases: Urls) -> None:
    url = clean_databases["gateway"]
    await _chains_from_before_keying(stack, url)
    chain = await _longest_chain(url)
    await _execute(url, f"DELETE FROM audit_records WHERE chain = {chain} AND seq = 2")
    await _rechain_with_plain_sha256(url, chain, first_seq=2)
    report = await _report(url, stack)
    assert (report.broken_chain, report.reason) == (
        chain,
        "the seal does not match the records before keying or the key",
    )


async def test_records_after_keying_are_keyed_and_anchor_the_old_ones(
    stack: Stack, clean_databases: Urls
) -> None:
    url = clean_databases["gateway"]
    sealed = await _chains_from_before_keying(stack, url)
    medic = await stack.actor("district_medic", await stack.organization())
    for _ in range(3 * CHAINS):
        await stack.client.get("/api/directory/me", headers=medic.headers)
    after = await _report(url, stack)
    assert after.intact, after
    assert after.unkeyed == sealed.records < after.records
    rows = await _execute(
        url,
        "SELECT id, keyed_from FROM audit_chain_head WHERE keyed_from > 2 AND seq >= keyed_from "
        "ORDER BY id LIMIT 1",
    )
    chain, keyed_from = (int(str(value)) for value in rows[0])
    await _execute(url, f"DELETE FROM audit_records WHERE chain = {chain} AND seq = 1")
    await _rechain_with_plain_sha256(url, chain, first_seq=1)
    report = await _report(url, stack)
    assert report.broken_chain == chain
    assert report.first_broken_seq is not None
    assert report.first_broken_seq >= keyed_from - 1


@pytest.mark.skipif(TEST_DB != "postgresql", reason="roles and grants are PostgreSQL's")
async def test_the_services_role_may_only_add_and_read_audit_records() -> None:
    """As deploy/postgres-init.sh sets a database up: migrations run as its owner, the service
    as a role with default rights on every table, which the migration takes back on the
    audit records."""
    run = uuid.uuid4().hex[:8]
    name, role = f"telemed_test_audit_{run}", f"telemed_test_app_{run}"
    url = f"postgresql+asyncpg://{PG_SERVER}/{name}"
    await _recreate_pg_database(name)
    try:
        await asyncio.to_thread(upgrade, spec("gateway").migrations_dir, url, "0003")
        await _execute(url, f"CREATE ROLE {role}")
        await _execute(url, f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        await _execute(url, f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        await asyncio.to_thread(upgrade, spec("gateway").migrations_dir, url)
        database = Database(url)
        try:
            async with database.engine.connect() as connection:
                await connection.execute(text(f"SET ROLE {role}"))
                await connection.execute(
                    text(
                        "INSERT INTO audit_records (chain, seq, at, action, resource_type, "
                        "outcome, prev_hash, hash) VALUES (0, 1, now(), 'a', 'r', 'success', "
                        ":zero, :zero)"
                    ),
                    {"zero": "0" * 64},
                )
                assert await connection.scalar(text("SELECT count(*) FROM audit_records")) == 1
                await connection.execute(text("UPDATE audit_chain_head SET seq = 1 WHERE id = 0"))
                for statement in (
                    "UPDATE audit_records SET action = 'b'",
                    "DELETE FROM audit_records",
                    "TRUNCATE audit_records",
                ):
                    with pytest.raises(DBAPIError, match="permission denied"):
                        async with connection.begin_nested():
                            await connection.execute(text(statement))
                await connection.rollback()
        finally:
            await database.dispose()
    finally:
        await _recreate_pg_database(name, drop_only=True)
        admin = await asyncpg.connect(f"postgresql://{PG_SERVER}/postgres")
        try:
            await admin.execute(f"DROP ROLE IF EXISTS {role}")
        finally:
            await admin.close()
